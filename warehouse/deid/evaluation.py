"""Recall and precision of ``scrub`` per kind of identifier on the gold corpus (MIN-05).

Each note is scrubbed as the export engine does (the patient's names from the "vault", the
doctors' roster); the markers in the output are aligned back onto the note, giving the replaced
character ranges.

- Recall of a kind: the share of its gold spans whose every non-blank character was replaced.
- Precision of a marker: the share of its replaced ranges that touch a gold span of its kind
  (``[NOM]`` for the three name kinds); overall, of all ranges that touch any gold span.
- Look-alikes: clinical figures of the note (``GoldNote.keep``) that did not survive verbatim.

Ages under 90 and times of day are scored under the loosest policy (birth year and minutes
approved), where they must stay: any of them replaced counts against precision.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from warehouse.export.scrub import AgePrecision, TextPolicy, TimePrecision, name_pattern, scrub

from . import pipeline as _pipeline
from .corpus import NAME_KINDS, GoldNote, doctors_roster, gold_corpus

LOOSEST = TextPolicy(age=AgePrecision.YEAR, time=TimePrecision.MINUTE)
_MARKER = re.compile(r"\[[^\[\]]{1,30}\]")
_FAMILY = {
    "[NOM]": "NOM",
    "[TEL]": "TEL",
    "[EMAIL]": "EMAIL",
    "[NIR]": "NIR",
    "[ADRESSE]": "ADRESSE",
    "[CP]": "CP",
    "[VILLE]": "VILLE",
    "[DATE]": "DATE",
    "[HEURE]": "HEURE",
}


def family(marker: str) -> str:
    return _FAMILY.get(marker, "AGE" if "an" in marker or marker == "[AGE]" else "AUTRE")


def gold_family(kind: str) -> str:
    return "NOM" if kind in NAME_KINDS else kind


def replaced_ranges(original: str, scrubbed: str) -> list[tuple[int, int, str]]:
    """(start, end, marker) of the original that each marker of the output stands for."""
    pieces = _MARKER.split(scrubbed)
    markers = _MARKER.findall(scrubbed)
    ranges: list[tuple[int, int, str]] = []
    cursor = 0
    for index, marker in enumerate(markers):
        literal = pieces[index]
        at = original.find(literal, cursor) if literal else cursor
        if at < 0:
            return ranges
        start = at + len(literal)
        following = pieces[index + 1]
        if following:
            end = original.find(following, start + 1)
            if end < 0:
                end = len(original)
        else:
            end = len(original) if index == len(markers) - 1 else start + 1
            if index < len(markers) - 1:
                # Two markers side by side: the next one starts after the next blank, if any.
                blank = original.find(" ", start + 1)
                end = blank if blank > 0 else len(original)
        ranges.append((start, end, marker))
        cursor = end
    return ranges


@dataclass
class Score:
    gold: int = 0
    caught: int = 0
    predicted: int = 0
    correct: int = 0

    @property
    def recall(self) -> float:
        return self.caught / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0


@dataclass
class Report:
    notes: int
    recall: dict[str, Score] = field(default_factory=dict)
    precision: dict[str, Score] = field(default_factory=dict)
    overall: Score = field(default_factory=Score)
    look_alikes: int = 0
    look_alikes_blanked: list[str] = field(default_factory=list)
    misses: list[tuple[int, str, str]] = field(default_factory=list)
    false_positives: list[tuple[int, str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def notes_per_second(self) -> float:
        return self.notes / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "pipeline": _pipeline.VERSION,
            "notes": self.notes,
            "recall": {k: round(s.recall, 4) for k, s in sorted(self.recall.items())},
            "gold_spans": {k: s.gold for k, s in sorted(self.recall.items())},
            "precision": {k: round(s.precision, 4) for k, s in sorted(self.precision.items())},
            "overall_recall": round(self.overall.recall, 4),
            "overall_precision": round(self.overall.precision, 4),
            "look_alikes": self.look_alikes,
            "look_alikes_blanked": len(self.look_alikes_blanked),
            "notes_per_second": round(self.notes_per_second, 1),
        }

    def lines(self) -> list[str]:
        out = [f"{self.notes} notes, {self.notes_per_second:.0f} notes/s on one core"]
        for kind, score in sorted(self.recall.items()):
            out.append(f"recall    {kind:<12} {score.recall:.4f}  ({score.caught}/{score.gold})")
        for kind, score in sorted(self.precision.items()):
            out.append(
                f"precision {kind:<12} {score.precision:.4f}  ({score.correct}/{score.predicted})"
            )
        out.append(
            f"overall   recall {self.overall.recall:.4f}  precision {self.overall.precision:.4f}"
        )
        out.append(f"look-alikes blanked: {len(self.look_alikes_blanked)}/{self.look_alikes}")
        return out


def evaluate(
    notes: Sequence[GoldNote] | None = None,
    *,
    policy: TextPolicy = LOOSEST,
    doctors: Sequence[str] | None = None,
) -> Report:
    notes = gold_corpus() if notes is None else notes
    doctors = doctors_roster() if doctors is None else doctors
    _pipeline.pipeline(doctors)  # built before the clock starts
    report = Report(notes=len(notes))
    scrubbed: list[str] = []
    started = time.perf_counter()
    for note in notes:
        scrubbed.append(
            scrub(note.text, name_pattern(note.patient_names), policy, doctors=doctors) or ""
        )
    report.seconds = time.perf_counter() - started
    for note, out in zip(notes, scrubbed, strict=True):
        ranges = replaced_ranges(note.text, out)
        replaced = [False] * len(note.text)
        for start, end, _ in ranges:
            for i in range(start, min(end, len(note.text))):
                replaced[i] = True
        for span in note.spans:
            for kind in (
                {span.kind, gold_family(span.kind)} if span.kind in NAME_KINDS else {span.kind}
            ):
                score = report.recall.setdefault(kind, Score())
                score.gold += 1
                if all(replaced[i] or note.text[i].isspace() for i in range(span.start, span.end)):
                    score.caught += 1
                elif kind == span.kind:
                    report.misses.append((note.id, span.kind, note.text[span.start : span.end]))
        for start, end, marker in ranges:
            kind = family(marker)
            if kind == "AGE" and marker not in ("[AGE]", "[90 ans et plus]"):
                # An infant's age in months rewritten in whole years ("[1 an]") is the
                # policy's generalisation, not a removal: neither right nor wrong here.
                continue
            score = report.precision.setdefault(kind, Score())
            score.predicted += 1
            report.overall.predicted += 1
            touching = [s for s in note.spans if s.start < end and start < s.end]
            if any(gold_family(s.kind) == kind for s in touching):
                score.correct += 1
            if touching:
                report.overall.correct += 1
            else:
                report.false_positives.append((note.id, marker, note.text[start:end]))
        for kept in note.keep:
            report.look_alikes += 1
            if kept not in out:
                report.look_alikes_blanked.append(kept)
    report.overall.gold = sum(len(n.spans) for n in notes)
    report.overall.caught = report.overall.gold - sum(
        1 for _, kind, _ in report.misses if kind in Counter(s.kind for n in notes for s in n.spans)
    )
    return report


def main() -> None:  # pragma: no cover - a command-line convenience
    report = evaluate()
    print("\n".join(report.lines()))
    for miss in report.misses[:40]:
        print("MISS", miss)
    for fp in report.false_positives[:40]:
        print("FP  ", fp)


if __name__ == "__main__":  # pragma: no cover
    main()
