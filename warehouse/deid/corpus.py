"""The gold corpus: French call-intake and consultation notes with every identifier annotated.

Deterministic (a seed gives the same notes, offsets and all), generated rather than stored so
that it needs no real patient text. Notes are written the way SOS Médecins notes are: short
clauses, abbreviations ("pt", "mr", "mme", "ATCD", "RAS"), accents dropped, whole notes in
capitals or in lower case, typos in the clinical words. Every identifier is a ``Span`` with its
kind (``KINDS``); the clinical look-alikes that must survive (doses, counts, scores, vital
signs, codes) are listed in ``GoldNote.keep``.

The synthetic warehouse's notes draw their identifying details from here too
(``identifying_detail``), so a generated warehouse carries the same kinds of free text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from warehouse.synthetic.names import (
    ALL_COMMUNES,
    EMAIL_DOMAINS,
    FRENCH_SURNAMES,
    first_name,
    phone_number,
    street_address,
    surname_for,
)
from warehouse.synthetic.rand import Rng, stream

KINDS = (
    "NOM_PATIENT",
    "NOM_PROCHE",
    "NOM_MEDECIN",
    "TEL",
    "EMAIL",
    "NIR",
    "ADRESSE",
    "CP",
    "VILLE",
    "DATE",
    "AGE",
)
"""Patient, relative or third party, doctor; phone; e-mail; NIR/INS; street address; postal
code and town where they locate a person; a date in any spelling; an age of 90 or more."""

NAME_KINDS = ("NOM_PATIENT", "NOM_PROCHE", "NOM_MEDECIN")

DEFAULT_SIZE = 1200
DEFAULT_SEED = 2026
# Streams of warehouse/synthetic/rand.py 1 and 2 are the generator's; this one is the corpus's.
_STREAM = 16

_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
_MONTHS_SHORT = (
    "janv",
    "fév",
    "mars",
    "avr",
    "mai",
    "juin",
    "juil",
    "août",
    "sept",
    "oct",
    "nov",
    "déc",
)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class GoldNote:
    id: int
    text: str
    spans: tuple[Span, ...]
    patient_names: tuple[str, ...]
    """What the vault holds for the patient: birth name, used name, first names."""
    keep: tuple[str, ...] = ()
    """Clinical look-alikes written in the note that a scrubber must leave as they are."""

    def of_kind(self, kind: str) -> list[str]:
        return [self.text[span.start : span.end] for span in self.spans if span.kind == kind]


@dataclass
class _Builder:
    style: Callable[[str], str]
    parts: list[str] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    keep: list[str] = field(default_factory=list)
    length: int = 0

    def add(self, text: str, kind: str | None = None, *, keep: bool = False) -> None:
        text = self.style(text)
        if kind is not None:
            self.spans.append(Span(self.length, self.length + len(text), kind))
        if keep:
            self.keep.append(text)
        self.parts.append(text)
        self.length += len(text)

    def text(self) -> str:
        return "".join(self.parts)


def _ascii(text: str) -> str:
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )


def _same(text: str) -> str:
    return text


def _upper(text: str) -> str:
    # Upper-casing keeps the length for the letters used here (no ß).
    return _ascii(text).upper()


def _lower(text: str) -> str:
    return _ascii(text).lower()


_STYLES: tuple[tuple[Callable[[str], str], float], ...] = (
    (_same, 0.55),
    (_ascii, 0.2),
    (_upper, 0.12),
    (_lower, 0.13),
)


@cache
def doctors_roster(seed: int = DEFAULT_SEED, count: int = 40) -> tuple[str, ...]:
    """The association's doctors ("First Last"), as the warehouse's roster would give them."""
    rng = stream(seed, _STREAM, 10**6)
    roster: list[str] = []
    while len(roster) < count:
        sex = rng.pick(("F", "M"))
        name = (
            f"{first_name(rng, sex, rng.between(1955, 1992), 'france')} {rng.draw(FRENCH_SURNAMES)}"
        )
        if name not in roster:
            roster.append(name)
    return tuple(roster)


@dataclass(frozen=True)
class _Person:
    sex: str
    age: int
    first: str
    last: str
    birth: date
    nir: str
    postal_code: str
    city: str


def _nir(rng: Rng, sex: str, birth: date, departement: str) -> str:
    body = f"{1 if sex == 'M' else 2}{birth.year % 100:02d}{birth.month:02d}"
    body += f"{departement[:2] if departement[:2].isdigit() else '75'}{rng.between(1, 999):03d}"
    body += f"{rng.between(1, 999):03d}"
    return body + f"{97 - int(body) % 97:02d}"


def _person(rng: Rng, year: int) -> _Person:
    sex = rng.pick(("F", "M"))
    age = rng.pick((0, 1, 4, 9, 16, 27, 35, 42, 47, 58, 63, 71, 78, 83, 86, 88, 91, 94, 97))
    if rng.chance(0.5):
        age = rng.between(0, 99)
    birth = date(year - age, rng.between(1, 12), rng.between(1, 28))
    origin = rng.pick(("france",) * 8 + ("maghreb", "portugal", "westafrica", "southeu"))
    code, city = rng.pick(ALL_COMMUNES)
    departement = code[:2]
    return _Person(
        sex=sex,
        age=age,
        first=first_name(rng, sex, birth.year, origin),
        last=surname_for(rng, origin, departement),
        birth=birth,
        nir=_nir(rng, sex, birth, departement),
        postal_code=f"{departement}{rng.between(0, 9)}{rng.between(0, 9)}0"
        if departement.isdigit()
        else "20000",
        city=city.replace(" Arrondissement", ""),
    )


def _relative(rng: Rng) -> tuple[str, str, str]:
    sex = rng.pick(("F", "M"))
    return sex, first_name(rng, sex, rng.between(1940, 2000), "france"), rng.draw(FRENCH_SURNAMES)


# --- Clinical text, with the look-alikes that must stay ----------------------------------

_SYMPTOMS = (
    "fievre a 39 depuis 48h",
    "douleur thoracique depuis 2h",
    "chute de sa hauteur, au sol depuis 3 h",
    "toux et dyspnee depuis 3 jours",
    "vomissements x5 depuis ce matin",
    "cephalees, raideur de nuque ?",
    "douleur abdo FID",
    "malaise au lever",
    "AEG, ne s'alimente plus",
    "brulures mictionnelles",
    "otalgie droite",
    "crise d'asthme, ventoline 10 bouffees sans effet",
    "agitation, confusion",
    "plaie du cuir chevelu",
    "diarrhees depuis 2 j",
    "hyperthermie 40,2 chez enfant",
)
_LOOK_ALIKES = (
    "Heparine 25000 UI/j",
    "GB 12000/mm3",
    "plaquettes 45000",
    "TA 14/9",
    "TA 130/80",
    "EVA 7/10",
    "Glasgow 15/15",
    "SpO2 94 %",
    "T 38,5",
    "FC 110/min",
    "CRP 45 mg/l",
    "Lovenox 4000 UI",
    "Doliprane 1g x3/j",
    "Kardegic 75 mg",
    "INR 2,5",
    "glycemie 1,20 g/l",
    "HbA1c 7,2 %",
    "CIM-10 J18.9",
    "CCMU 2",
    "score CRB65 a 2",
    "lactates 2,1",
    "GB 15000",
    "CK 25000",
    "D-dimeres 1200",
    "Uvedose 50000 UI",
    "Augmentin 1g x2/j pendant 7 jours",
    "PEF 250 l/min",
    "poids 12,5 kg",
    "O2 3 l/min",
    "creat 95 µmol/l",
    "Hb 10,5 g/dl",
    "Apgar 9/10",
    "souffle 2/6",
    "1/2 cp le soir",
    "Na 138 mmol/l",
    "plaquettes 250000/mm3",
    "NFS: GB 12000/mm3",
    "Diabete depuis 10 ans",
    "ATCD AVC il y a 2 ans",
    "maladie de Parkinson",
    "Alzheimer evolue",
    "signe de Murphy +",
    "HTA, DT2, BPCO",
    "RAS a l'auscultation",
    "cotation ALQP003",
    "lot 12345 du vaccin",
)
_ENDINGS = (
    "Envoi medecin VAD.",
    "Conseil telephonique.",
    "Orientation centre de consultation.",
    "Transfere au 15.",
    "A revoir si aggravation.",
    "Retour a domicile, surveillance.",
    "Hospitalisation CHU, ambulance.",
    "Ordonnance faite.",
)
_CALLERS = (
    "de la mere",
    "du pere",
    "de l'IDE",
    "de l'EHPAD",
    "de la patiente elle-meme",
    "du patient",
    "d'une voisine",
    "de l'aide a domicile",
)
_KIN = {
    "F": (
        "sa fille",
        "son epouse",
        "sa femme",
        "sa soeur",
        "sa voisine",
        "sa belle-fille",
        "sa niece",
    ),
    "M": (
        "son fils",
        "son mari",
        "son epoux",
        "son frere",
        "son voisin",
        "son gendre",
        "son neveu",
    ),
}


def _phone(rng: Rng) -> str:
    number = phone_number(rng)
    digits = "".join(ch for ch in number if ch.isdigit())
    local = "0" + digits[-9:]
    style = rng.below(5)
    if style == 0:
        return f"+33 (0){local[1]} {local[2:4]} {local[4:6]} {local[6:8]} {local[8:]}"
    if style == 1:
        return f"{local[:2]} {local[2:4]} {local[4:6]} {local[6:8]} {local[8:]}"
    return number


def _date_spelling(rng: Rng, day: date, *, with_year: bool) -> str:
    month = _MONTHS[day.month - 1]
    if with_year:
        return rng.pick(
            (
                f"{day:%d/%m/%Y}",
                f"{day:%d.%m.%Y}",
                f"{day.day} {month} {day.year}",
                f"{day:%d/%m/%y}",
                f"{day:%Y-%m-%d}",
                f"{day.day}/{day.month}/{day.year}",
            )
        )
    first = "1er" if day.day == 1 else str(day.day)
    return rng.pick(
        (
            f"{first} {month}",
            f"{day.day} {_MONTHS_SHORT[day.month - 1]}",
            f"{day:%d/%m}",
            f"{day.day}/{day.month:02d}",
            f"{first} {month.upper()}",
        )
    )


class _Note:
    """One note being written: picks fragments and annotates them."""

    def __init__(self, rng: Rng, note_id: int, roster: tuple[str, ...], year: int) -> None:
        self.rng = rng
        self.roster = roster
        self.year = year
        style = rng.draw_pairs(_STYLES)
        self.b = _Builder(style)
        self.id = note_id
        self.person = _person(rng, year)

    # Identifiers, each a fragment with its spans.

    def patient(self) -> None:
        p, rng, b = self.person, self.rng, self.b
        title = "M." if p.sex == "M" else "Mme"
        kind = rng.below(8)
        if kind == 0:
            b.add(f"{title} ")
            b.add(p.last, "NOM_PATIENT")
        elif kind == 1:
            b.add(rng.pick(("mr ", "MR ")) if p.sex == "M" else rng.pick(("mme ", "MME ")))
            b.add(p.last.lower() if rng.chance(0.5) else p.last, "NOM_PATIENT")
        elif kind == 2:
            b.add(p.last.upper(), "NOM_PATIENT")
            b.add(" ")
            b.add(p.first, "NOM_PATIENT")
        elif kind == 3:
            b.add(p.first, "NOM_PATIENT")
            b.add(" ")
            b.add(p.last.upper(), "NOM_PATIENT")
        elif kind == 4:
            b.add(f"Patient{'e' if p.sex == 'F' else ''} : {title} ")
            b.add(p.last, "NOM_PATIENT")
            b.add(" ")
            b.add(p.first, "NOM_PATIENT")
        elif kind == 5:
            b.add("le petit " if p.sex == "M" else "la petite ")
            b.add(p.first, "NOM_PATIENT")
        elif kind == 6:
            b.add("Prenom : ")
            b.add(p.first, "NOM_PATIENT")
        else:
            b.add("pt ")
        b.add(" ")
        self.age()

    def age(self) -> None:
        p, rng, b = self.person, self.rng, self.b
        spelled = rng.pick((f"{p.age} ans", f"{p.age}a", f"{p.age} ans", f"{p.age}ans"))
        if p.age < 2:
            spelled = f"{rng.between(1, 20)} mois"
            b.add(spelled)
            return
        b.add(spelled, "AGE" if p.age >= 90 else None)

    def caller(self) -> None:
        rng, b = self.rng, self.b
        kind = rng.below(9)
        sex, first, last = _relative(rng)
        if kind == 0:
            b.add(f"Appel de {rng.pick(_KIN[sex])} ")
            b.add(f"{first} {last}", "NOM_PROCHE")
        elif kind == 1:
            b.add(f"Appel de {rng.pick(_KIN[sex])} ")
            b.add(first, "NOM_PROCHE")
        elif kind == 2:
            b.add("Appel de ")
            b.add(first, "NOM_PROCHE")
            b.add(f" ({rng.pick(('fille', 'fils', 'voisine', 'IDE', 'aidante'))})")
        elif kind == 3:
            b.add(f"Appel {'du voisin M.' if sex == 'M' else 'de la voisine Mme'} ")
            b.add(last, "NOM_PROCHE")
        elif kind == 4:
            b.add(f"appel {rng.pick(_KIN[sex])} ")
            b.add(f"{first.lower()} {last.lower()}", "NOM_PROCHE")
        else:
            b.add(f"Appel {rng.pick(_CALLERS)}")
        b.add(", ")

    def third_party(self) -> None:
        rng, b = self.rng, self.b
        sex, first, last = _relative(rng)
        kind = rng.below(5)
        if kind == 0:
            b.add(f"{'M.' if sex == 'M' else 'Mme'} ")
            b.add(last, "NOM_PROCHE")
            b.add(f" ({'voisin' if sex == 'M' else 'voisine'}) a donne l'alerte. ")
        elif kind == 1:
            b.add(first, "NOM_PROCHE")
            b.add(" rappellera. ")
        elif kind == 2:
            b.add("Demander ")
            b.add(first, "NOM_PROCHE")
            b.add(" a l'interphone. ")
        elif kind == 3:
            b.add(f"Personne de confiance : {rng.pick(_KIN[sex])} ")
            b.add(f"{first} {last}", "NOM_PROCHE")
            b.add(". ")
        else:
            b.add(f"Cle chez {rng.pick(('M.', 'mr')) if sex == 'M' else rng.pick(('Mme', 'mme'))} ")
            b.add(last if rng.chance(0.7) else last.lower(), "NOM_PROCHE")
            b.add(". ")

    def doctor(self) -> None:
        rng, b = self.rng, self.b
        first, last = rng.pick(self.roster).split(" ", 1)
        kind = rng.below(6)
        if kind == 0:
            b.add("Vu par Dr ")
            b.add(f"{first} {last}", "NOM_MEDECIN")
        elif kind == 1:
            b.add("MT : Dr ")
            b.add(last, "NOM_MEDECIN")
        elif kind == 2:
            b.add("Adresse au Dr ")
            b.add(last.upper(), "NOM_MEDECIN")
        elif kind == 3:
            b.add("dr ")
            b.add(last.lower(), "NOM_MEDECIN")
            b.add(" prevenu")
        elif kind == 4:
            b.add("medecin traitant Dr. ")
            b.add(f"{first} {last}", "NOM_MEDECIN")
        else:
            b.add("Avis ")
            b.add(f"{first} {last}", "NOM_MEDECIN")
            b.add(" (regulateur)")
        b.add(". ")

    def contact(self) -> None:
        p, rng, b = self.person, self.rng, self.b
        kind = rng.below(4)
        if kind <= 1:
            b.add(rng.pick(("Rappeler au ", "Tel. ", "tel: ", "Joignable au ", "N° de rappel : ")))
            b.add(_phone(rng), "TEL")
        elif kind == 2:
            local = _ascii(f"{p.first}.{p.last}").lower().replace(" ", "")
            local = "".join(ch for ch in local if ch.isalnum() or ch in ".-")
            suffix = str(rng.between(1, 99)) if rng.chance(0.4) else ""
            b.add("Mail : ")
            b.add(f"{local}{suffix}@{rng.pick(EMAIL_DOMAINS)}", "EMAIL")
        else:
            nir = p.nir
            if rng.chance(0.5):
                nir = (
                    f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}"
                )
            b.add(rng.pick(("NIR ", "N° SS : ", "Carte Vitale ", "INS ")))
            b.add(nir, "NIR")
        b.add(". ")

    def address(self) -> None:
        p, rng, b = self.person, self.rng, self.b
        kind = rng.below(4)
        if kind == 0:
            b.add("Adresse : ")
            b.add(street_address(rng), "ADRESSE")
            b.add(", ")
            b.add(p.postal_code, "CP")
            b.add(" ")
            b.add(p.city, "VILLE")
        elif kind == 1:
            b.add("Domicile ")
            b.add(street_address(rng), "ADRESSE")
            b.add(" (")
            b.add(p.postal_code, "CP")
            b.add(")")
        elif kind == 2:
            b.add("Habite ")
            b.add(street_address(rng), "ADRESSE")
            b.add(" a ")
            b.add(p.city, "VILLE")
        else:
            b.add("VAD au ")
            b.add(street_address(rng), "ADRESSE")
            b.add(", ")
            b.add(p.city, "VILLE")
            b.add(", code porte 4B")
        b.add(". ")

    def when(self) -> None:
        p, rng, b = self.person, self.rng, self.b
        kind = rng.below(6)
        if kind == 0:
            b.add(rng.pick(("Nee le ", "Ne le ", "DDN ", "ddn: ")))
            b.add(_date_spelling(rng, p.birth, with_year=True), "DATE")
        elif kind == 1:
            day = date(self.year, rng.between(1, 12), rng.between(1, 28))
            b.add(
                rng.pick(("Chute le ", "Vu le ", "Sortie d'hospit le ", "RDV le ", "Vacciné le "))
            )
            b.add(_date_spelling(rng, day, with_year=False), "DATE")
        elif kind == 2:
            b.add(rng.pick(("Vu le ", "Revu le ", "Depuis le ", "Hospitalise du ")))
            b.add(str(rng.between(1, 28)), "DATE")
        elif kind == 3:
            day = date(self.year, rng.between(1, 12), rng.between(1, 28))
            b.add("Derniere consultation ")
            b.add(_date_spelling(rng, day, with_year=True), "DATE")
        elif kind == 4:
            day = date(self.year, rng.between(1, 12), rng.between(1, 28))
            b.add("Operé le ")
            b.add(f"{day.day} {_MONTHS[day.month - 1]}", "DATE")
        else:
            day = date(self.year, rng.between(1, 12), rng.between(1, 28))
            b.add(f"{rng.pick(('lundi', 'mardi', 'jeudi', 'samedi'))} ")
            b.add(str(day.day), "DATE")
            b.add(" au soir")
        b.add(". ")

    # Clinical text.

    def clinical(self) -> None:
        rng, b = self.rng, self.b
        symptom = rng.pick(_SYMPTOMS)
        b.add(symptom[:1].upper() + symptom[1:] + ". ")
        for _ in range(rng.between(1, 3)):
            b.add(rng.pick(_LOOK_ALIKES), keep=True)
            b.add(rng.pick((". ", ", ")))

    def ending(self) -> None:
        self.b.add(self.rng.pick(_ENDINGS))

    def note(self) -> GoldNote:
        p = self.person
        identifiers = [self.patient, self.caller, self.third_party, self.doctor, self.contact]
        identifiers += [self.address, self.when]
        chosen = [f for f in identifiers if self.rng.chance(0.35)]
        if self.rng.chance(0.25):
            chosen = []
        if self.caller in chosen:
            chosen.remove(self.caller)
            self.caller()
        else:
            self.b.add("Appel, ")
        if self.patient in chosen:
            chosen.remove(self.patient)
            self.patient()
        else:
            self.b.add("pt ")
            self.age()
        self.b.add(". ")
        self.clinical()
        for fragment in chosen:
            fragment()
        self.ending()
        return GoldNote(
            id=self.id,
            text=self.b.text(),
            spans=tuple(self.b.spans),
            patient_names=(p.last, "", p.first),
            keep=tuple(self.b.keep),
        )


def _fixed(text: str, spans: list[tuple[str, str]], names=("", "", ""), keep=()) -> GoldNote:
    """A hand-written note; spans given as (substring, kind), found in order."""
    found, at = [], 0
    for piece, kind in spans:
        start = text.index(piece, at)
        found.append(Span(start, start + len(piece), kind))
        at = start + len(piece)
    return GoldNote(0, text, tuple(found), tuple(names), tuple(keep))


# The failures that issue 16 quotes, kept verbatim at the head of the corpus.
REPORTED = (
    _fixed(
        "Appel de sa fille Sophie Lambert, pt 83 ans chute. Vu par Dr Bernard Lefèvre.",
        [("Sophie Lambert", "NOM_PROCHE"), ("Bernard Lefèvre", "NOM_MEDECIN")],
    ),
    _fixed(
        "M. Durand (voisin) a appele. Nathalie rappellera, demander Jacques. Chute le 4 mai.",
        [
            ("Durand", "NOM_PROCHE"),
            ("Nathalie", "NOM_PROCHE"),
            ("Jacques", "NOM_PROCHE"),
            ("4 mai", "DATE"),
        ],
    ),
    _fixed(
        "Heparine 25000 UI/j. NFS: GB 12000/mm3, plaquettes 250000. TA 14/9.",
        [],
        keep=("25000 UI", "12000/mm3", "250000", "14/9"),
    ),
)


def gold_corpus(size: int = DEFAULT_SIZE, seed: int = DEFAULT_SEED) -> list[GoldNote]:
    """``size`` notes (the reported failures first), the same for the same seed."""
    roster = doctors_roster(seed)
    notes: list[GoldNote] = [
        GoldNote(i, n.text, n.spans, n.patient_names, n.keep) for i, n in enumerate(REPORTED)
    ]
    for index in range(len(notes), size):
        rng = stream(seed, _STREAM, index)
        notes.append(_Note(rng, index, roster, 2020 + index % 6).note())
    return notes


def identifying_detail(rng: Rng, roster: tuple[str, ...] | None = None) -> str:
    """One identifying clause of another person than the patient (relative, neighbour, doctor,
    date), for the synthetic generator's notes."""
    note = _Note(rng, 0, roster or doctors_roster(), 2024)
    note.b = _Builder(_same)
    rng.pick((note.caller, note.third_party, note.doctor, note.when))()
    return note.b.text().strip().rstrip(",").strip()
