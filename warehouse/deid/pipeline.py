"""The de-identification pipeline's second stage: names, towns and dates the regular expressions
of ``warehouse/export/scrub.py`` cannot see (MIN-05).

``scrub()`` first runs its own patterns (e-mail, NIR, phone, dates in figures and words, street
addresses, postal codes in an address context, times and ages under the ``TextPolicy``, the
patient's names from the vault); then this stage reads what is left with edsnlp (AP-HP's French
clinical NLP framework, rule-based, no model to download):

- ``eds.dates`` for dates in words the patterns miss; bare day/month figures ("14/9") are left
  to the patterns, which know a blood pressure from a date;
- "le 4", "du 2 au 5", "mardi 4": a day alone after a date word;
- names after a title ("M.", "Mme", "mr", "Dr", "Pr", "Docteur") in any case, after a kinship or
  role word ("sa fille Sophie Lambert", "son voisin", "Prénom :"), and bare first names from the
  shipped French list (``data/prenoms.txt``), with the capitalised surname beside them;
- the association's doctors (an ``eds.matcher`` over a roster the operator provides), in full
  anywhere, by surname when capitalised;
- towns after a street address or postal code, or after "habite à", "domicilié à";
- if the operator points ``EDS_DEID_MODEL_PATH`` at a trained edsnlp model (for instance
  EDS-Pseudo), its entities too. Nothing is downloaded: without it the rules alone run.

Names become ``[NOM]``, towns ``[VILLE]``, dates ``[DATE]``; the markers the patterns left are
never read as words. The pipeline is built once per process (and per roster), then reused.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

VERSION = "deid-rules-1"

_DATA = Path(__file__).with_name("data")


def fold(text: str) -> str:
    """Lower case, no accents, straight apostrophes."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return plain.lower().replace("\u2019", "'")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


@cache
def first_names() -> frozenset[str]:
    lines = (_DATA / "prenoms.txt").read_text(encoding="utf-8").splitlines()
    names = {fold(line.strip()) for line in lines if line.strip() and not line.startswith("#")}
    return frozenset(names - AMBIGUOUS)


# First names that are also French or clinical words: only a title or kinship word makes them
# names ("EVA 7/10", "urines claires", "pierre" for a stone, "avril" for a month).
AMBIGUOUS = _words(
    """
    rose iris jade ambre marine claire blanche pierre olive avril eva max lou noe come tom
    ange aurore constance prudence victoire patience fleur prune capucine violette garance
    perle celeste colombe france serge pascal grace eden lina mia nina sam
    mai thu hoa mei jun wei linh huy duc ana rosa maria paulo carlos jose rui
    leon jean-paul adam victor salome agathe louise jules paul gabin iris aimee desire
    alexandria alexandrie anastasie zoe
    """
)

# Words that never start or continue a name, folded: function words, the note's vocabulary.
STOP = _words(
    """
    a au aux avec ce ces cet cette chez dans de des du elle en et il ils je la le les leur lui
    ma mais me mes mon ne ni non nous on ou par pas pour qu que qui sa se ses si son sur ta te
    tes ton tu un une vos vous y est sont ont a ete etait fait dit pris prise vu vue revu revue
    appel appelle appele appelee rappel rappelle rappeler rappellera demander demande voir
    patient patiente pt pte mr mme mlle m dr pr docteur madame monsieur fille fils pere mere
    mari epoux epouse femme voisin voisine ide ehpad vad mt samu smur sos centre cabinet chu
    ras tel mail nir ss adresse domicile habite cle code porte interphone rdv ddn ne nee
    age agee ans an mois jours semaines heures ce matin soir nuit hier aujourd'hui demain
    chute fievre toux douleur malaise vomissements diarrhees cephalees plaie otalgie aeg hta
    dt2 bpco atcd avc ta fc spo2 t eva crp gb nfs inr hb na ck ecg bu o2 pef ccmu cim lot
    conseil orientation envoi transfere hospitalisation hospitalise retour surveillance
    ordonnance avis regulateur prevenu prevenue personne confiance sortie hospit opere
    vaccine derniere consultation depuis puis apres avant vers sans effet signe rien aucun
    oui ok bien mal tres peu plus moins
    """
)
_PERSON_TITLES = frozenset({"mr", "mme", "mlle", "monsieur", "madame", "mademoiselle", "mm"})
_DOCTOR_TITLES = frozenset({"dr", "docteur", "pr", "professeur", "dre"})
_KIN = _words(
    """
    fille fils pere mere papa maman epoux epouse mari femme conjoint conjointe compagnon
    compagne frere soeur belle-fille gendre beau-fils petit-fils petite-fille neveu niece oncle
    tante cousin cousine voisin voisine ami amie aidant aidante tuteur tutrice curateur
    curatrice nounou grand-mere grand-pere belle-mere beau-pere infirmiere infirmier auxiliaire
    prenom nom petit petite
    """
)
_PARTICLES = frozenset({"de", "du", "des", "la", "le", "d'", "van", "von", "di", "da", "del"})
_TOWN_CUES = re.compile(
    r"(?:\[ADRESSE\]|\[CP\])\s*[,(]?\s*(?:(?:a|à)\s+)?$"
    r"|(?:habite|habitant|domicilie|domiciliee|demeurant|vit|reside)\s+(?:a|à)\s+$",
    re.IGNORECASE,
)
_MARKERS = re.compile(r"\[[^\[\]]{1,30}\]")
_ORDINAL = re.compile(r"\d{1,2}(?:e|er|eme|ème)", re.IGNORECASE)
_TOKEN = re.compile(r"\[[^\[\]\s]{1,30}\]|[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*'?|\d+[^\W\d_]*|\S")
_DAY_ALONE = re.compile(
    r"(?<![\w\[])(?P<cue>le|du|au|depuis\s+le|jusqu'au|lundi|mardi|mercredi|jeudi|vendredi|"
    r"samedi|dimanche)\s+(?P<day>1er|[1-9]|[12]\d|3[01])"
    r"(?![\w/.,:\-]\d|[\w\-/]|\s*(?:h\b|heures?|ans?\b|mois|jours?|j\b|fois|x\b|cp|mg|g\b|ml|ui|"
    r"%|°|/|eme|e\b|min|kg|ans?))",
    re.IGNORECASE,
)
# "Transféré au 15", "appeler le 18": emergency numbers, not days.
_EMERGENCY = re.compile(r"(?:appel\w*|transf\w*|bascul\w*|contact\w*|compos\w*|par)\s+$")
_DATE_TIME_TAIL = re.compile(r"\s+(?:a|à|vers|vs)\s+\d.*$|\s+\d{1,2}\s*[h:].*$", re.IGNORECASE)
_MONTH_WORD = re.compile(
    r"janv|f[ée]v|mars|avr|mai|juin|juil|ao[uû]t|sept|oct|nov|d[ée]c", re.IGNORECASE
)
# Entities of a trained model (EDS-Pseudo's labels) and their markers.
_MODEL_LABELS = {
    "NOM": "[NOM]",
    "PRENOM": "[NOM]",
    "DATE": "[DATE]",
    "DATE_NAISSANCE": "[DATE]",
    "ADRESSE": "[ADRESSE]",
    "VILLE": "[VILLE]",
    "ZIP": "[CP]",
    "TEL": "[TEL]",
    "MAIL": "[EMAIL]",
    "SECU": "[NIR]",
    "NDA": "[ID]",
    "IPP": "[ID]",
}


def _is_cap(word: str) -> bool:
    return word[:1].isupper()


def _is_word(word: str) -> bool:
    return word[:1].isalpha()


class Pipeline:
    """The rule-based stage on edsnlp, built once per process and roster; ``apply`` takes a
    lock, so threads may share it."""

    def __init__(self, doctors: Iterable[str] = (), model_path: str | None = None) -> None:
        import edsnlp
        import edsnlp.pipes as eds

        nlp = edsnlp.blank("eds")
        # Called by hand, only on a note with a month in words: the only dates kept from it.
        self.dates = eds.dates(nlp=nlp, detect_periods=False)
        doctors = tuple(" ".join(d.split()) for d in doctors if d and d.strip())
        self.doctor_surnames: frozenset[str] = frozenset()
        self.roster = bool(doctors)
        if doctors:
            terms: set[str] = set()
            surnames: set[str] = set()
            for name in doctors:
                parts = name.split(" ", 1)
                variants = {name, " ".join(reversed(parts))}
                terms |= variants | {fold(v) for v in variants}
                if len(parts) == 2 and len(parts[1]) >= 3:
                    surnames.add(fold(parts[1]))
            nlp.add_pipe(
                eds.matcher(terms={"doctor": sorted(terms)}, attr="LOWER", span_setter="doctors")
            )
            self.doctor_surnames = frozenset(surnames - STOP - AMBIGUOUS - _KIN)
        self.nlp = nlp
        self.model: Any = None
        if model_path:
            self.model = edsnlp.load(model_path)
        self._lock = threading.Lock()

    # --- Spans ----------------------------------------------------------------------------

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, marker) of what to replace, not overlapping, in text order."""
        found: list[tuple[int, int, str]] = []
        month = _MONTH_WORD.search(text)
        if month or self.roster:
            doc = self.nlp(text)
            if month:
                doc = self.dates(doc)
            for span in doc.spans.get("dates", []):
                found.extend(self._date(text, span))
            for span in doc.spans.get("doctors", []):
                found.append((span.start_char, span.end_char, "[NOM]"))
        for match in _DAY_ALONE.finditer(text):
            if match["day"] in ("15", "17", "18") and (
                match["cue"].lower() == "au" or _EMERGENCY.search(text[: match.start()])
            ):
                continue
            found.append((match.start("day"), match.end("day"), "[DATE]"))
        found.extend(self._names(text))
        if self.model is not None:
            for ent in self.model(text).ents:
                marker = _MODEL_LABELS.get(ent.label_)
                if marker:
                    found.append((ent.start_char, ent.end_char, marker))
        return _merge(found)

    def _date(self, text: str, span: Any) -> list[tuple[int, int, str]]:
        value = span._.date
        if getattr(value, "mode", None) is None or str(value.mode.value) != "absolute":
            return []
        piece = span.text
        if "[" in piece or not any(ch.isdigit() for ch in piece):
            return []
        if not _MONTH_WORD.search(piece):
            # Dates in figures ("14/9", "7/10", "12/13") are the patterns', which read the
            # context that tells a blood pressure or a score from a date.
            return []
        piece = _DATE_TIME_TAIL.sub("", piece)
        return [(span.start_char, span.start_char + len(piece), "[DATE]")]

    def _names(self, text: str) -> list[tuple[int, int, str]]:
        tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
        words = [t[2] for t in tokens]
        folded = [fold(w) for w in words]
        letters = [ch for ch in _MARKERS.sub("", text) if ch.isalpha()]
        upper_note = bool(letters) and sum(ch.isupper() for ch in letters) > 0.7 * len(letters)
        lower_note = bool(letters) and not any(ch.isupper() for ch in letters)
        names = set(first_names())
        # "Jean-Marc", "Marie-Thérèse": compounds of listed first names are first names.
        names.update(
            word for word in folded if "-" in word and all(p in names for p in word.split("-"))
        )
        found: list[tuple[int, int, str]] = []
        taken: set[int] = set()

        def nameish(i: int, *, strong: bool) -> bool:
            if i >= len(words) or not _is_word(words[i]) or folded[i] in STOP:
                return False
            if strong or folded[i] in names or folded[i] in self.doctor_surnames:
                return True
            return _is_cap(words[i]) and not upper_note

        def take(i: int, *, strong: bool) -> int:
            """Name words from i on; returns the index after them."""
            j = i
            while j < len(words) and j - i < 4:
                if folded[j] in _PARTICLES and j + 1 < len(words) and _is_cap(words[j + 1]):
                    if not _is_word(words[j + 1]) or folded[j + 1] in STOP:
                        break
                    j += 2
                    continue
                first = j == i
                if not nameish(j, strong=strong and first):
                    if (
                        not first
                        and (strong or lower_note)
                        and j - i == 1
                        and folded[j - 1] in names
                        and _is_word(words[j])
                        and len(words[j]) >= 2
                        and folded[j] not in STOP
                        and folded[j] not in names
                        and (words[j].isupper(), words[j].islower())
                        == (words[j - 1].isupper(), words[j - 1].islower())
                    ):
                        # After a title or kinship word, the word after a first name is the
                        # surname whatever its case: "sa fille sophie dubois", "SYLVIE KLEIN".
                        j += 1
                    break
                if not first and not (
                    _is_cap(words[j]) or folded[j] in names or folded[j] in self.doctor_surnames
                ):
                    break
                j += 1
            if j > i:
                for k in range(i, j):
                    taken.add(k)
                found.append((tokens[i][0], tokens[j - 1][1], "[NOM]"))
            return j

        i = 0
        while i < len(words):
            word = folded[i]
            nxt = i + 1
            if word == "m" and nxt < len(words) and words[nxt] == ".":
                word, nxt = "mr", nxt + 1
            elif word in _DOCTOR_TITLES and nxt < len(words) and words[nxt] == ".":
                nxt += 1
            if word in _PERSON_TITLES or word in _DOCTOR_TITLES:
                if nxt < len(words) and words[nxt] == ":":
                    nxt += 1
                i = max(take(nxt, strong=True), i + 1)
                continue
            if word in _KIN:
                if nxt < len(words) and words[nxt] == ":":
                    nxt += 1
                if nameish(nxt, strong=False) and (
                    folded[nxt] in names or _is_cap(words[nxt]) or word in ("prenom", "nom")
                ):
                    i = max(take(nxt, strong=True), i + 1)
                    continue
            if (
                i not in taken
                and _is_word(words[i])
                and (
                    word in names
                    or (
                        word in AMBIGUOUS
                        and not upper_note
                        and words[i][:1].isupper()
                        and words[i][1:].islower()
                        and i > 0
                        and words[i - 1] not in (".", "!", "?", ":", "-")
                        and not (i + 1 < len(words) and words[i + 1][:1].isdigit())
                    )
                    or (word in self.doctor_surnames and _is_cap(words[i]) and not upper_note)
                )
            ):
                start = i
                if (
                    i > 0
                    and (i - 1) not in taken
                    and words[i - 1].isupper()
                    and len(words[i - 1]) >= 2
                    and _is_word(words[i - 1])
                    and folded[i - 1] not in STOP
                    and folded[i - 1] not in _KIN
                    and not upper_note
                ):
                    start = i - 1
                end = take(i, strong=True)
                if start != i:
                    found[-1] = (tokens[start][0], found[-1][1], "[NOM]")
                i = max(end, i + 1)
                continue
            if _is_word(words[i]) and not words[i].startswith("["):
                before = text[: tokens[i][0]]
                article = (
                    folded[i] in ("le", "la", "les")
                    and i + 1 < len(words)
                    and _is_cap(words[i + 1])
                    and _is_cap(words[i])
                )
                if (
                    _TOWN_CUES.search(before)
                    and (_is_cap(words[i]) or lower_note)
                    and (folded[i] not in STOP or article)
                ):
                    j = i + 1
                    while (
                        j < len(words)
                        and _is_word(words[j])
                        and (
                            _is_cap(words[j])
                            or (
                                folded[j] in _PARTICLES
                                and j + 1 < len(words)
                                and _is_cap(words[j + 1])
                            )
                        )
                        and folded[j] not in STOP - _PARTICLES
                    ):
                        j += 1
                    if j < len(words) and _ORDINAL.fullmatch(words[j]):
                        j += 1  # "Paris 18e", "Lyon 2e"
                    found.append((tokens[i][0], tokens[j - 1][1], "[VILLE]"))
                    i = j
                    continue
            i += 1
        return found

    # --- Replacement ----------------------------------------------------------------------

    def apply(self, text: str, date: Callable[[str, str], str] | None = None) -> str:
        """The text with its spans replaced; a ``[DATE]`` span by ``date(written, before)``
        when given (the shifted date, ``warehouse.export.scrub.date_marker``), ``before`` being
        the folded text just before it."""
        with self._lock:
            spans = self.spans(text)
        for start, end, marker in reversed(spans):
            if date is not None and marker == "[DATE]":
                marker = date(text[start:end], fold(text[max(0, start - 40) : start]))
            text = text[:start] + marker + text[end:]
        return text


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Longest first where spans overlap; then in text order."""
    chosen: list[tuple[int, int, str]] = []
    for span in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):
        if span[1] <= span[0]:
            continue
        if chosen and span[0] < chosen[-1][1]:
            last = chosen[-1]
            if span[1] > last[1]:
                chosen[-1] = (last[0], span[1], last[2])
            continue
        chosen.append(span)
    return chosen


@cache
def measured() -> dict[str, Any]:
    """The pipeline's recall and precision measured on the gold corpus (``make bench``), shipped
    as data (``data/measured.json``) so that a worker puts them in a manifest without running
    the evaluation; ``tests/warehouse/test_deid.py`` checks them against the bench's results."""
    import json

    return json.loads((_DATA / "measured.json").read_text(encoding="utf-8"))


_PIPELINES: dict[tuple[tuple[str, ...], str | None], Pipeline] = {}
_BUILD = threading.Lock()


def model_path() -> str | None:
    """The operator's trained model, if any (a local directory; never downloaded)."""
    try:
        from django.conf import settings

        configured = getattr(settings, "EDS_DEID_MODEL_PATH", None)
    except Exception:  # settings not configured: a plain script
        configured = None
    return configured or os.environ.get("EDS_DEID_MODEL_PATH") or None


def pipeline(doctors: Iterable[str] = ()) -> Pipeline:
    """The process's pipeline for this roster: built on first use, then reused."""
    key = (tuple(sorted(set(doctors))), model_path())
    built = _PIPELINES.get(key)
    if built is None:
        with _BUILD:
            built = _PIPELINES.get(key)
            if built is None:
                built = Pipeline(key[0], key[1])
                _PIPELINES[key] = built
    return built
