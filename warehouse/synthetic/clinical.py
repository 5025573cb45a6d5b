"""What happens medically in an episode: reasons for call, diagnoses, drugs, procedures.

The tables encode plausible general-practice patterns, not clinical guidance: a reason for call
leads to diagnoses that fit it, the patient's age and sex, and the season; a diagnosis leads to
the drugs, procedures, vital signs and hospital referrals usual for it. Codes are those of
``warehouse/data/concepts.csv``; a diagnosis may name several ICPC-2 codes separated by "|",
the first one present in the code list is used (the list lacks, for instance, dental codes).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from warehouse import codelists

# Age bands used by every table below: 0-1, 2-5, 6-14, 15-24, 25-44, 45-64, 65-74, 75-84, 85+.
BAND_LIMITS = (2, 6, 15, 25, 45, 65, 75, 85)
BANDS = 9


def band_of(age: int) -> int:
    for index, limit in enumerate(BAND_LIMITS):
        if age < limit:
            return index
    return BANDS - 1


# --- Seasons --------------------------------------------------------------------------------
# Multipliers of a reason's or a diagnosis's frequency from the day's epidemic intensities.


def season_factors(season) -> dict[str | None, float]:
    w = season.winter
    return {
        None: 1.0,
        "resp": 0.55 + 0.6 * w + 1.2 * season.flu + 0.5 * season.bronchiolitis,
        "flu": 0.03 + 3.0 * season.flu + 0.1 * w,
        "bronchio": 0.08 + 3.0 * season.bronchiolitis,
        "gastro": 0.45 + 1.6 * season.gastro + 0.35 * w,
        "winter": 0.5 + w,
        "summer": 0.5 + season.summer,
        "pollen": 0.4 + 2.0 * season.pollen,
        "covid": 0.6 + 0.8 * w,
    }


# --- Drugs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drug:
    atc: str
    sig: str
    child_sig: str | None  # None: not prescribed under 12
    days: int
    route: str = "oral"
    quantity: float = 1.0


def _drugs(*drugs: Drug) -> dict[str, Drug]:
    return {drug.atc: drug for drug in drugs}


DRUGS = _drugs(
    Drug(
        "N02BE01",
        "1 g toutes les 6 h si douleur ou fièvre, max 4 g/j",
        "15 mg/kg toutes les 6 h si fièvre",
        5,
        quantity=2,
    ),
    Drug("N02BA01", "250 mg en dose de charge", None, 1),
    Drug("M01AE01", "400 mg 3 fois par jour au cours des repas", "10 mg/kg 3 fois par jour", 5),
    Drug("M01AE02", "550 mg 2 fois par jour", None, 5),
    Drug("M01AE03", "100 mg 2 fois par jour", None, 5),
    Drug("M01AB05", "50 mg 3 fois par jour", None, 5),
    Drug("N02AX02", "50 mg toutes les 6 h si douleur intense", None, 5),
    Drug("N02AJ13", "1 à 2 comprimés 3 fois par jour", None, 5),
    Drug("N02AJ06", "1 à 2 comprimés toutes les 6 h", None, 4),
    Drug("N02AA01", "5 mg en sous-cutané", None, 1, route="subcutaneous"),
    Drug("N02CC01", "50 mg au début de la crise, à renouveler après 2 h si besoin", None, 2),
    Drug(
        "N01BB02",
        "anesthésie locale avant suture",
        "anesthésie locale avant suture",
        1,
        route="local",
    ),
    Drug("J01CA04", "1 g 3 fois par jour", "50 mg/kg/j en 2 prises", 6),
    Drug("J01CR02", "1 g 3 fois par jour", "80 mg/kg/j en 3 prises", 7),
    Drug("J01FA10", "500 mg le 1er jour puis 250 mg/j", "20 mg/kg/j", 3),
    Drug("J01FG01", "1 g 3 fois par jour", None, 7),
    Drug("J01DB01", "1 g 2 fois par jour", "50 mg/kg/j en 2 prises", 7),
    Drug("J01DD13", "200 mg 2 fois par jour", "8 mg/kg/j en 2 prises", 5),
    Drug(
        "J01DD04",
        "1 g en injection unique",
        "50 mg/kg en injection unique",
        1,
        route="intramuscular",
    ),
    Drug("J01XX01", "3 g en dose unique le soir", None, 1, quantity=1),
    Drug("J01XE01", "100 mg 3 fois par jour", None, 5),
    Drug("J01MA01", "200 mg 2 fois par jour", None, 10),
    Drug("J01MA02", "500 mg 2 fois par jour", None, 7),
    Drug("J01EE01", "800/160 mg 2 fois par jour", None, 5),
    Drug("J05AB11", "1 g 3 fois par jour", None, 7),
    Drug("J05AH02", "75 mg 2 fois par jour", "selon le poids, 2 fois par jour", 5),
    Drug("H02AB06", "40 mg le matin", "1 à 2 mg/kg le matin", 5),
    Drug("H02AB07", "40 mg le matin", None, 5),
    Drug("H02AB04", "40 mg en injection", "1 mg/kg en injection", 1, route="intravenous"),
    Drug("H02AB01", "selon le poids en une prise", "0,15 mg/kg en une prise", 3),
    Drug(
        "R03AC02",
        "2 bouffées si gêne, jusqu'à 4 fois par jour",
        "2 à 4 bouffées avec chambre d'inhalation",
        7,
        route="inhalation",
    ),
    Drug("R03BB01", "2 bouffées 3 fois par jour", None, 7, route="inhalation"),
    Drug("R05CB01", "200 mg 3 fois par jour", None, 5),
    Drug("R06AX27", "5 mg le matin", "selon l'âge, 1 fois par jour", 7),
    Drug("R06AX13", "10 mg le matin", "5 mg le matin", 7),
    Drug("R06AE07", "10 mg le soir", "5 mg le soir", 7),
    Drug("R06AE09", "5 mg le soir", None, 7),
    Drug("A03AX12", "2 comprimés 3 fois par jour si douleur", "1 comprimé 3 fois par jour", 3),
    Drug("A03FA01", "10 mg 3 fois par jour si nausées", None, 3),
    Drug("A03FA03", "10 mg 3 fois par jour si nausées", None, 3),
    Drug("A04AA01", "4 mg si vomissements", "selon le poids si vomissements", 2),
    Drug("A07XA04", "100 mg 3 fois par jour", "selon le poids, 3 fois par jour", 3),
    Drug("A07BC05", "1 sachet 3 fois par jour", "1 sachet 2 fois par jour", 3),
    Drug("A07CA", "à volonté, par petites quantités", "1 sachet dans 200 ml d'eau, à volonté", 3),
    Drug("A02BC01", "20 mg le matin", None, 14),
    Drug("A02BC02", "40 mg le matin", None, 14),
    Drug("A02BC05", "40 mg le matin", None, 14),
    Drug("A06AD15", "1 sachet par jour", "1 sachet de 4 g par jour", 7),
    Drug("A06AD11", "1 cuillère à soupe par jour", "1 cuillère à café par jour", 7),
    Drug("N05BB01", "25 mg le soir si anxiété", None, 7),
    Drug("N05BA12", "0,25 mg jusqu'à 3 fois par jour", None, 5),
    Drug("N05BA04", "10 mg si anxiété", None, 5),
    Drug("N05BA01", "5 mg si besoin", "intrarectal selon le poids", 3),
    Drug("N05AA06", "25 mg le soir si agitation", None, 5),
    Drug("N05AD01", "5 gouttes si agitation", None, 3),
    Drug("C01DA02", "1 pulvérisation sublinguale", None, 1, route="sublingual"),
    Drug(
        "C01CA24",
        "0,5 mg en intramusculaire",
        "0,01 mg/kg en intramusculaire",
        1,
        route="intramuscular",
    ),
    Drug("C03CA01", "40 mg le matin", None, 7),
    Drug("C08CA01", "5 mg par jour", None, 30),
    Drug("B01AB05", "4 000 UI par jour en sous-cutané", None, 10, route="subcutaneous"),
    Drug("H04AA01", "1 mg en injection", "0,5 mg en injection", 1, route="intramuscular"),
    Drug("M03BX05", "4 mg 2 fois par jour", None, 5),
    Drug("D06AX01", "2 applications par jour", "2 applications par jour", 7, route="topical"),
    Drug("D06AX09", "3 applications par jour", "3 applications par jour", 7, route="topical"),
    Drug(
        "D08AC02",
        "nettoyage de la plaie 2 fois par jour",
        "nettoyage 2 fois par jour",
        7,
        route="topical",
    ),
    Drug("S01AA12", "1 goutte 4 fois par jour", "1 goutte 4 fois par jour", 7, route="ophthalmic"),
)

# --- Diagnoses ------------------------------------------------------------------------------


def _slots(text: str) -> tuple[tuple[float, tuple[tuple[str, float], ...]], ...]:
    """'0.8 A|B:2; 0.5 C' -> ((0.8, (("A", 1), ("B", 2))), (0.5, (("C", 1),)))."""
    slots = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        probability, choices = part.split(" ", 1)
        options = []
        for choice in choices.split("|"):
            code, _, weight = choice.strip().partition(":")
            options.append((code, float(weight or 1)))
        slots.append((float(probability), tuple(options)))
    return tuple(slots)


@dataclass(frozen=True)
class Dx:
    key: str
    icpc: str
    icd: str
    ages: tuple[int, int] = (0, 120)
    sex: str | None = None
    season: str | None = None
    fever: int = 0  # 0 none, 1 low-grade, 2 high
    resp: int = 0  # oxygen desaturation, 0 none to 3 severe
    vitals: str = ""  # htn, af, tachy, lowbp, hypo, hyper
    refer: float = 0.01  # hospital referral probability for a 40-year-old
    smur: float = 0.0  # share of referrals that need the SMUR
    death: float = 0.0  # death during the act, elderly only
    drugs: tuple = ()
    procs: tuple = ()
    leave: tuple[int, int] | None = None  # sick-leave days for working adults
    # The codes actually used, resolved against the code lists (see resolved_diagnoses).
    icpc_code: str = field(default="", compare=False)
    icd_code: str = field(default="", compare=False)


def _dx(key, icpc, icd, *, drugs="", procs="", **options) -> Dx:
    return Dx(key, icpc, icd, drugs=_slots(drugs), procs=_slots(procs), **options)


PARA = "0.9 N02BE01"
ANTIHIST = "R06AX27|R06AE07|R06AE09|R06AX13"
NSAID = "M01AE01:3|M01AE03:2|M01AB05:2|M01AE02:1"

_DIAGNOSES = [
    # Respiratory and ENT
    _dx("rhino", "R74", "J00", season="resp", fever=1, drugs=PARA, leave=(1, 2)),
    _dx("uri", "R74", "J06.9", season="resp", fever=1, drugs=f"{PARA}; 0.15 R05CB01", leave=(1, 3)),
    _dx(
        "pharyngitis",
        "R74",
        "J02.9",
        season="resp",
        fever=1,
        drugs=PARA,
        procs="0.7 ACT_TROD",
        leave=(1, 2),
    ),
    _dx(
        "tonsillitis",
        "R76",
        "J03.9",
        ages=(3, 120),
        season="resp",
        fever=2,
        drugs=f"{PARA}; 0.75 J01CA04:8|J01FA10:1|J01DD13:1",
        procs="0.8 ACT_TROD",
        leave=(2, 4),
    ),
    _dx(
        "scarlet",
        "A78",
        "A38",
        ages=(3, 14),
        fever=2,
        drugs=f"0.95 J01CA04; {PARA}",
        procs="0.8 ACT_TROD",
    ),
    _dx("mono", "A77", "B27.9", ages=(12, 35), fever=2, drugs=PARA, leave=(5, 10)),
    _dx(
        "laryngitis",
        "R77",
        "J04.0",
        ages=(12, 120),
        season="resp",
        drugs="0.6 N02BE01",
        leave=(1, 3),
    ),
    _dx(
        "croup",
        "R77",
        "J05.0",
        ages=(0, 6),
        season="winter",
        fever=1,
        resp=1,
        refer=0.04,
        drugs="0.8 H02AB01:3|H02AB06:1; 0.6 N02BE01",
    ),
    _dx(
        "sinusitis",
        "R75",
        "J01.9",
        ages=(15, 120),
        season="resp",
        fever=1,
        drugs=f"{PARA}; 0.35 J01CA04",
        leave=(1, 3),
    ),
    _dx(
        "aom",
        "H71",
        "H66.9",
        ages=(0, 120),
        season="resp",
        fever=2,
        drugs="0.95 N02BE01; 0.7 J01CA04:8|J01CR02:2|J01DD13:1; 0.15 M01AE01",
    ),
    _dx("otitis_ext", "H70", "H60.9", season="summer", drugs="0.8 N02BE01; 0.3 M01AE01"),
    _dx("cerumen", "H81", "H61.2", ages=(6, 120)),
    _dx("otalgia", "H01", "H92.0", drugs="0.8 N02BE01"),
    _dx(
        "bronchitis",
        "R78",
        "J20.9",
        ages=(3, 120),
        season="resp",
        fever=1,
        resp=1,
        drugs="0.8 N02BE01; 0.2 R05CB01; 0.12 J01CA04",
        leave=(2, 4),
    ),
    _dx(
        "bronchiolitis",
        "R78",
        "J21.9",
        ages=(0, 1),
        season="bronchio",
        fever=1,
        resp=2,
        refer=0.07,
        drugs="0.6 N02BE01",
        procs="0.08 ACT_NEBUL",
    ),
    _dx(
        "asthma",
        "R96",
        "J45.9",
        ages=(3, 75),
        resp=2,
        refer=0.04,
        drugs="0.9 R03AC02; 0.6 H02AB06",
        procs="0.3 ACT_NEBUL",
        leave=(1, 3),
    ),
    _dx(
        "status_asthma",
        "R96",
        "J46|J45.9",
        ages=(3, 75),
        resp=3,
        refer=0.7,
        smur=0.3,
        drugs="1 R03AC02; 0.9 H02AB04",
        procs="0.9 ACT_NEBUL",
    ),
    _dx(
        "copd",
        "R95",
        "J44.1",
        ages=(50, 120),
        season="winter",
        resp=3,
        refer=0.18,
        drugs="0.9 R03AC02; 0.5 R03BB01; 0.6 H02AB07; 0.5 J01CR02",
        procs="0.3 ACT_NEBUL",
    ),
    _dx(
        "pneumonia",
        "R81",
        "J18.9",
        season="resp",
        fever=2,
        resp=2,
        refer=0.1,
        drugs=f"0.95 J01CA04:5|J01CR02:4|J01FG01:1; {PARA}",
        leave=(5, 10),
    ),
    _dx(
        "flu",
        "R80",
        "J11.1",
        season="flu",
        fever=2,
        drugs="0.95 N02BE01; 0.08 J05AH02",
        leave=(3, 6),
    ),
    _dx(
        "covid",
        "A77",
        "U07.1",
        ages=(2, 120),
        season="covid",
        fever=1,
        resp=1,
        drugs=PARA,
        leave=(3, 6),
    ),
    _dx("viral", "A77", "B34.9", season="resp", fever=2, drugs="0.95 N02BE01", leave=(1, 3)),
    _dx("fever", "A03", "R50.9", fever=2, drugs="0.95 N02BE01"),
    _dx("cough", "R05", "R05", season="resp", drugs="0.5 N02BE01; 0.3 R05CB01"),
    _dx("dyspnoea", "R02", "R06.0", resp=2, refer=0.12),
    _dx("hf", "K77", "I50.9", ages=(60, 120), resp=2, refer=0.2, drugs="0.85 C03CA01"),
    _dx(
        "pe",
        "K93",
        "I26.9",
        ages=(18, 120),
        resp=2,
        vitals="tachy",
        refer=0.9,
        smur=0.2,
        drugs="0.5 B01AB05",
    ),
    _dx(
        "allergic_rhinitis",
        "R97",
        "J30.4",
        ages=(3, 120),
        season="pollen",
        drugs=f"0.85 {ANTIHIST}",
    ),
    # Digestive
    _dx(
        "ge_viral",
        "D70",
        "A08.4",
        season="gastro",
        fever=1,
        drugs="0.45 A07CA; 0.4 A07XA04; 0.35 A07BC05; 0.4 N02BE01; 0.15 A03FA03",
        leave=(1, 3),
    ),
    _dx(
        "ge",
        "D73",
        "A09.0|A09.9",
        season="gastro",
        fever=1,
        drugs="0.45 A07CA; 0.4 A07XA04; 0.3 A07BC05; 0.4 N02BE01; 0.15 A04AA01",
        leave=(1, 3),
    ),
    _dx(
        "ge_unspec",
        "D73",
        "A09.9",
        season="gastro",
        drugs="0.4 A07CA; 0.4 A07XA04; 0.3 A07BC05",
        leave=(1, 2),
    ),
    _dx("dehydration", "T11", "E86", refer=0.2, drugs="0.8 A07CA"),
    _dx("vomiting", "D10", "R11", drugs="0.6 A03FA03:2|A03FA01:1|A04AA01:1"),
    _dx("abdo_pain", "D01", "R10.4", refer=0.05, drugs="0.6 A03AX12; 0.6 N02BE01"),
    _dx("gastritis", "D87|D02", "K29.7", ages=(15, 120), drugs="0.8 A02BC01|A02BC05|A02BC02"),
    _dx("gerd", "D84|D02", "K21.9", ages=(15, 120), drugs="0.8 A02BC05|A02BC01"),
    _dx("appendicitis", "D88", "K37", ages=(5, 60), fever=1, refer=0.92),
    _dx("cholecystitis", "D98", "K81.0", ages=(30, 120), fever=1, refer=0.8, drugs="0.5 N02BE01"),
    _dx("constipation", "D12", "K59.0", drugs="0.8 A06AD15:2|A06AD11:1"),
    # Cardiovascular
    _dx(
        "chest_pain",
        "A11",
        "R07.4",
        ages=(12, 120),
        refer=0.1,
        drugs="0.3 N02BE01",
        procs="0.8 ACT_ECG",
    ),
    _dx(
        "angina",
        "K01",
        "I20.9",
        ages=(45, 120),
        vitals="htn",
        refer=0.4,
        drugs="0.6 C01DA02",
        procs="0.95 ACT_ECG",
    ),
    _dx(
        "mi",
        "K75",
        "I21.9",
        ages=(40, 120),
        refer=0.98,
        smur=0.75,
        death=0.04,
        drugs="0.8 N02BA01; 0.5 C01DA02",
        procs="1 ACT_ECG",
    ),
    _dx(
        "palpitations",
        "K04",
        "R00.2",
        ages=(12, 120),
        vitals="tachy",
        drugs="0.15 N05BB01",
        procs="0.8 ACT_ECG",
    ),
    _dx("af", "K78", "I48.9", ages=(50, 120), vitals="af", refer=0.3, procs="0.9 ACT_ECG"),
    _dx("htn", "K86", "I10", ages=(35, 120), vitals="htn", drugs="0.6 C08CA01"),
    _dx("high_bp", "K85", "I10", ages=(35, 120), vitals="htn", drugs="0.3 C08CA01"),
    _dx(
        "stroke",
        "K90",
        "I64",
        ages=(50, 120),
        vitals="htn",
        refer=0.98,
        smur=0.5,
        death=0.02,
        procs="0.6 ACT_GLYC",
    ),
    _dx("tia", "K90", "G45.9", ages=(50, 120), vitals="htn", refer=0.7, procs="0.5 ACT_GLYC"),
    _dx("syncope", "A06", "R55", refer=0.1, procs="0.5 ACT_ECG; 0.4 ACT_GLYC"),
    _dx("hypotension", "A06", "I95.9|R55", ages=(60, 120), vitals="lowbp", refer=0.08),
    # Neurological
    _dx("headache", "N01", "R51", drugs="0.9 N02BE01:3|M01AE01:2"),
    _dx(
        "tension_headache",
        "N01",
        "G44.2|R51",
        ages=(12, 120),
        drugs="0.9 N02BE01:2|M01AE01:1",
        leave=(1, 2),
    ),
    _dx(
        "migraine",
        "N89",
        "G43.9",
        ages=(10, 120),
        drugs="0.55 N02CC01; 0.6 M01AE01|M01AE03; 0.2 A03FA01",
        procs="0.1 ACT_INJECTION",
        leave=(1, 2),
    ),
    _dx("vertigo", "N17", "R42", refer=0.04, drugs="0.2 A03FA01"),
    _dx("bppv", "N17", "H81.1", ages=(30, 120), drugs="0.2 A03FA01"),
    _dx(
        "febrile_seizure",
        "N07",
        "R56.0",
        ages=(0, 5),
        fever=2,
        refer=0.35,
        drugs="0.95 N02BE01; 0.2 N05BA01",
    ),
    _dx("epilepsy", "N88", "G40.9", ages=(5, 120), refer=0.2, drugs="0.4 N05BA01"),
    _dx("concussion", "N79", "S06.0", refer=0.3, drugs="0.7 N02BE01"),
    # Musculoskeletal and injuries
    _dx(
        "back",
        "L84",
        "M54.5",
        ages=(15, 120),
        drugs=f"0.8 {NSAID}; 0.6 N02BE01:2|N02AJ13:1|N02AX02:1; 0.3 M03BX05",
        procs="0.1 ACT_INJECTION",
        leave=(2, 7),
    ),
    _dx(
        "sciatica",
        "L86",
        "M54.4",
        ages=(20, 120),
        drugs=f"0.8 {NSAID}; 0.7 N02AJ13:2|N02AX02:1|N02AJ06:1; 0.2 H02AB07",
        procs="0.15 ACT_INJECTION",
        leave=(3, 10),
    ),
    _dx(
        "sciatica2",
        "L86",
        "M54.3",
        ages=(20, 120),
        drugs=f"0.8 {NSAID}; 0.7 N02AJ13:2|N02AX02:1",
        leave=(3, 10),
    ),
    _dx(
        "neck",
        "L83",
        "M54.2",
        ages=(15, 120),
        drugs=f"0.7 {NSAID}; 0.5 N02BE01; 0.3 M03BX05",
        leave=(1, 4),
    ),
    _dx("myalgia", "L18", "M79.1", drugs="0.7 N02BE01; 0.4 M01AE01"),
    _dx(
        "sprain",
        "L77",
        "S93.4",
        ages=(5, 120),
        refer=0.04,
        drugs="0.7 M01AE01|M01AE03; 0.6 N02BE01",
        leave=(2, 7),
    ),
    _dx("knee", "L15", "M25.5", drugs="0.6 M01AE01; 0.5 N02BE01", leave=(1, 5)),
    _dx(
        "shoulder", "L92", "M25.5", ages=(20, 120), drugs=f"0.7 {NSAID}; 0.5 N02BE01", leave=(2, 7)
    ),
    _dx("injury", "L81", "M25.5", refer=0.06, drugs="0.7 N02BE01; 0.4 M01AE01"),
    _dx("contusion", "S16", "M25.5", refer=0.04, drugs="0.8 N02BE01"),
    _dx(
        "femur_fracture",
        "L75",
        "S72.0",
        ages=(60, 120),
        refer=0.97,
        drugs="0.7 N02BE01; 0.3 N02AA01",
    ),
    _dx(
        "wound_hand",
        "S18",
        "S61.9",
        refer=0.03,
        drugs="0.5 D08AC02; 0.45 N01BB02; 0.3 N02BE01",
        procs="0.6 ACT_SUTURE",
    ),
    _dx(
        "wound_head",
        "S18",
        "S01.9",
        refer=0.06,
        drugs="0.5 D08AC02; 0.45 N01BB02; 0.3 N02BE01",
        procs="0.6 ACT_SUTURE",
    ),
    _dx(
        "wound",
        "S18",
        "T14.1",
        refer=0.04,
        drugs="0.6 D08AC02; 0.3 N01BB02",
        procs="0.45 ACT_SUTURE",
    ),
    _dx("abrasion", "S17", "T14.1", drugs="0.8 D08AC02"),
    # Urinary
    _dx(
        "cystitis",
        "U71",
        "N30.0",
        ages=(14, 120),
        sex="F",
        drugs="0.9 J01XX01:6|J01XE01:2; 0.3 N02BE01",
        procs="0.8 ACT_URINE_DIP",
    ),
    _dx(
        "uti",
        "U71",
        "N39.0",
        ages=(2, 120),
        fever=1,
        refer=0.05,
        drugs="0.9 J01MA01:2|J01MA02:1|J01CR02:2|J01EE01:1",
        procs="0.8 ACT_URINE_DIP",
    ),
    _dx(
        "pyelo",
        "U70",
        "N10",
        ages=(2, 120),
        fever=2,
        refer=0.12,
        drugs="0.95 J01MA02:3|J01MA01:2|J01DD04:2|J01DD13:1; 0.8 N02BE01",
        procs="0.8 ACT_URINE_DIP; 0.25 ACT_INJECTION",
        leave=(3, 7),
    ),
    _dx(
        "prostatitis",
        "U71",
        "N41.0|N39.0",
        ages=(30, 120),
        sex="M",
        fever=2,
        refer=0.15,
        drugs="0.95 J01MA01|J01MA02; 0.7 N02BE01",
        procs="0.8 ACT_URINE_DIP",
        leave=(3, 7),
    ),
    _dx("retention", "U08", "R33", ages=(60, 120), sex="M", refer=0.6),
    _dx(
        "renal_colic",
        "U95",
        "N23",
        ages=(18, 120),
        refer=0.1,
        drugs="0.9 M01AE03; 0.6 N02BE01:1|N02AX02:1; 0.4 A03AX12",
        procs="0.4 ACT_INJECTION; 0.5 ACT_URINE_DIP",
        leave=(2, 5),
    ),
    _dx(
        "kidney_stone",
        "U95",
        "N20.0",
        ages=(18, 120),
        refer=0.08,
        drugs="0.9 M01AE03; 0.5 N02BE01",
        leave=(2, 5),
    ),
    # Skin and allergy
    _dx("rash", "S07", "R21|B34.9", drugs=f"0.4 {ANTIHIST}"),
    _dx("urticaria", "S98", "L50.9", drugs=f"0.9 {ANTIHIST}; 0.15 H02AB06"),
    _dx("urticaria_allergic", "S98", "L50.0", drugs=f"0.9 {ANTIHIST}; 0.2 H02AB06"),
    _dx(
        "varicella",
        "A77",
        "B01.9",
        ages=(0, 12),
        season="pollen",
        fever=1,
        drugs="0.9 N02BE01; 0.4 R06AE07",
    ),
    _dx("zoster", "S70", "B02.9", ages=(40, 120), drugs="0.8 J05AB11; 0.8 N02BE01:2|N02AJ13:1"),
    _dx(
        "impetigo",
        "S84",
        "L01.0",
        ages=(1, 14),
        season="summer",
        drugs="0.9 D06AX09|D06AX01; 0.15 J01DB01",
    ),
    _dx("dermatitis", "S88", "L23.9", drugs="0.5 R06AE07"),
    _dx(
        "erysipelas",
        "S76",
        "A46",
        ages=(40, 120),
        fever=2,
        refer=0.08,
        drugs=f"0.95 J01CA04:4|J01FG01:1; {PARA}",
        leave=(5, 10),
    ),
    _dx(
        "cellulitis",
        "S76",
        "L03.9",
        ages=(15, 120),
        fever=1,
        refer=0.1,
        drugs="0.9 J01CR02|J01FG01; 0.7 N02BE01",
    ),
    _dx("abscess", "S10", "L02.9", ages=(10, 120), drugs="0.4 J01CR02; 0.6 D08AC02"),
    _dx("insect_bite", "S12", "T78.4", season="summer", drugs=f"0.7 {ANTIHIST}"),
    _dx("measles", "A77", "B05.9", ages=(0, 30), season="pollen", fever=2, refer=0.05, drugs=PARA),
    _dx("allergy", "A92", "T78.4", drugs=f"0.9 {ANTIHIST}; 0.3 H02AB04|H02AB06"),
    _dx(
        "angioedema",
        "A92",
        "T78.3",
        refer=0.3,
        drugs="0.95 H02AB04; 0.8 R06AE07",
        procs="0.6 ACT_INJECTION",
    ),
    _dx(
        "anaphylaxis",
        "A92",
        "T78.2",
        vitals="lowbp",
        resp=1,
        refer=0.9,
        smur=0.5,
        drugs="1 C01CA24; 0.9 H02AB04",
        procs="1 ACT_INJECTION",
    ),
    _dx("conj_allergic", "F71", "H10.9", season="pollen", drugs=f"0.8 {ANTIHIST}"),
    _dx("conj_infect", "F70", "H10.9", drugs="0.7 S01AA12"),
    _dx("drug_adverse", "A85", "T88.7", refer=0.1),
    # Mental health
    _dx(
        "anxiety",
        "P74",
        "F41.9",
        ages=(12, 120),
        vitals="tachy",
        drugs="0.5 N05BB01:3|N05BA12:1|N05BA04:1",
        leave=(1, 3),
    ),
    _dx(
        "panic",
        "P74",
        "F41.0",
        ages=(12, 120),
        vitals="tachy",
        drugs="0.6 N05BA12|N05BB01",
        procs="0.3 ACT_ECG",
    ),
    _dx("stress", "P01", "F43.0", ages=(12, 120), drugs="0.4 N05BB01", leave=(2, 7)),
    _dx("depression", "P76", "F32.9", ages=(15, 120), refer=0.1, leave=(7, 14)),
    _dx("suicide", "P77", "F32.9", ages=(13, 120), refer=0.85),
    _dx("alcohol", "P16", "F10.0", ages=(15, 120), refer=0.25, drugs="0.3 N05BA01"),
    _dx("dementia", "P70", "F03", ages=(65, 120), drugs="0.35 N05AA06|N05AD01|N05BA04"),
    # General, metabolic, poisoning, administrative
    _dx("fatigue", "A04", "R53", refer=0.06),
    _dx("pain", "A01", "R52.9", drugs="0.8 N02BE01"),
    _dx(
        "hypoglycaemia",
        "T87",
        "E16.2",
        vitals="hypo",
        refer=0.1,
        drugs="0.3 H04AA01",
        procs="1 ACT_GLYC",
    ),
    _dx(
        "diabetes", "T90", "E11.9", ages=(30, 120), vitals="hyper", refer=0.05, procs="0.9 ACT_GLYC"
    ),
    _dx("heatstroke", "A88|A04", "T67.0", season="summer", fever=2, refer=0.2),
    _dx("co_poisoning", "A86|A84", "T58", season="winter", refer=0.85, smur=0.4),
    _dx("drug_poisoning", "A84|A85", "T88.7", refer=0.3),
    _dx(
        "dental",
        "D19|D82|A01",
        "K04.7",
        ages=(6, 120),
        drugs="0.7 J01CA04; 0.9 N02BE01:2|M01AE01:1",
    ),
    _dx("certificate", "A97", "Z02.7", procs="1 ACT_MED_CERT"),
    _dx("death", "A96", "R99", procs="1 ACT_DEATH_CERT"),
]


def _first_present(codes: str, vocabulary: str) -> str | None:
    present = codelists.concept_ids(vocabulary)
    return next((code for code in codes.split("|") if code in present), None)


def _resolve(dx: Dx) -> Dx | None:
    icpc = _first_present(dx.icpc, "ICPC2")
    icd = _first_present(dx.icd, "ICD10")
    if icpc is None or icd is None:
        return None
    atc = codelists.concept_ids("ATC")
    drugs = []
    for probability, options in dx.drugs:
        available = tuple((code, weight) for code, weight in options if code in atc)
        if available:
            drugs.append((probability, available))
    acts = codelists.concept_ids("SOS_ACT")
    procs = tuple(
        (probability, options) for probability, options in dx.procs if options[0][0] in acts
    )
    return replace(dx, icpc_code=icpc, icd_code=icd, drugs=tuple(drugs), procs=procs)


DIAGNOSES = {dx.key: dx for dx in _DIAGNOSES}

# Chronic conditions a person may carry: secondary diagnoses and reasons for renewal visits.
CHRONIC = {
    # key: probabilities by age band
    "htn": (0, 0, 0, 0, 0.03, 0.2, 0.4, 0.5, 0.55),
    "diabetes": (0, 0, 0.002, 0.005, 0.02, 0.08, 0.15, 0.18, 0.15),
    "dementia": (0, 0, 0, 0, 0, 0.005, 0.03, 0.12, 0.3),
    "af": (0, 0, 0, 0, 0.002, 0.02, 0.07, 0.12, 0.18),
    "hf": (0, 0, 0, 0, 0.001, 0.01, 0.04, 0.09, 0.15),
    "copd": (0, 0, 0, 0, 0.005, 0.04, 0.07, 0.08, 0.07),
    "asthma": (0, 0.05, 0.09, 0.08, 0.06, 0.05, 0.04, 0.03, 0.02),
}

# --- Reasons for call -------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    code: str
    weights: tuple[float, ...]  # by age band
    season: str | None
    diagnoses: tuple[tuple[str, float], ...]
    dispatch: dict[str, float]  # multipliers of the dispatch decision
    urgent: float  # share of priority-2 calls (the rest priority 3, SAMU ones priority 1)


def _reason(code, weights, diagnoses, *, season=None, dispatch=None, urgent=0.3) -> Reason:
    pairs = []
    for item in diagnoses.split(","):
        key, weight = item.split(":")
        pairs.append((key.strip(), float(weight)))
    return Reason(code, tuple(weights), season, tuple(pairs), dispatch or {}, urgent)


REASONS = {
    reason.code: reason
    for reason in [
        _reason(
            "RC01",
            (0, 0, 0, 10, 10, 8, 7, 7, 7),
            "flu:3, viral:3, uri:2, covid:1.5, fever:1, pneumonia:1, pyelo:0.6,"
            " tonsillitis:0.5, mono:0.2, erysipelas:0.3",
            season="resp",
            urgent=0.35,
        ),
        _reason(
            "RC02",
            (30, 28, 18, 0, 0, 0, 0, 0, 0),
            "rhino:4, aom:3, viral:3, flu:1.5, tonsillitis:1.2, bronchiolitis:1.5,"
            " febrile_seizure:0.3, scarlet:0.3, varicella:0.3, ge_viral:0.5, pyelo:0.2,"
            " pneumonia:0.3, covid:0.3, fever:1.5",
            season="resp",
            urgent=0.45,
        ),
        _reason(
            "RC03",
            (20, 14, 10, 8, 9, 11, 14, 15, 15),
            "bronchitis:3, bronchiolitis:6, asthma:1.5, copd:1.2, pneumonia:1.2, flu:1,"
            " croup:1.5, uri:1.5, cough:1, covid:0.8, hf:0.8, pe:0.1, dyspnoea:0.4",
            season="resp",
            dispatch={"SAMU": 1.5},
            urgent=0.55,
        ),
        _reason(
            "RC04",
            (1, 6, 10, 12, 9, 5, 3, 2, 1),
            "tonsillitis:4, pharyngitis:4, laryngitis:1, mono:0.4, scarlet:0.4, uri:1",
            season="resp",
            dispatch={"CENTRE": 1.3},
            urgent=0.15,
        ),
        _reason(
            "RC05",
            (8, 10, 6, 2, 2, 2, 1, 1, 1),
            "aom:6, otitis_ext:2, cerumen:1, otalgia:1.5",
            season="resp",
            dispatch={"CENTRE": 1.3},
            urgent=0.25,
        ),
        _reason(
            "RC06",
            (2, 6, 9, 9, 8, 8, 7, 6, 5),
            "abdo_pain:4, ge:2, constipation:1.5, gastritis:1.5, gerd:0.8,"
            " appendicitis:0.6, cholecystitis:0.4, renal_colic:0.3, uti:0.3",
            urgent=0.45,
        ),
        _reason(
            "RC07",
            (16, 14, 10, 7, 6, 5, 4, 5, 5),
            "ge_viral:5, ge:3, ge_unspec:2, vomiting:1.5, dehydration:0.3",
            season="gastro",
            urgent=0.35,
        ),
        _reason(
            "RC08",
            (0, 0, 0.5, 2, 3, 5, 5, 4, 3),
            "chest_pain:4, angina:1, mi:0.6, panic:1.5, gerd:0.8, pe:0.2, myalgia:0.5,"
            " pneumonia:0.3",
            dispatch={"SAMU": 7, "ADVICE": 0.3, "TELE": 0.2},
            urgent=0.85,
        ),
        _reason(
            "RC09",
            (0, 0, 0.2, 1, 1.5, 2, 2, 2, 1.5),
            "palpitations:4, af:2, panic:1.5, htn:0.3",
            dispatch={"SAMU": 2},
            urgent=0.6,
        ),
        _reason(
            "RC10",
            (0, 0.5, 3, 5, 4, 3, 2, 1, 1),
            "headache:3, tension_headache:2, migraine:3, high_bp:0.6, flu:0.4, co_poisoning:0.05",
            urgent=0.3,
        ),
        _reason(
            "RC11",
            (0.5, 0.5, 1, 3, 3, 4, 5, 6, 6),
            "vertigo:2, bppv:2, syncope:2, hypotension:1, fatigue:1, hypoglycaemia:0.5,"
            " tia:0.4, stroke:0.2, heatstroke:0.3",
            season="summer",
            dispatch={"SAMU": 1.5},
            urgent=0.55,
        ),
        _reason(
            "RC12",
            (0.5, 1, 1, 0.5, 0.5, 1, 3, 8, 10),
            "contusion:4, wound_head:1.2, femur_fracture:0.8, concussion:0.5, fatigue:1, injury:1",
            dispatch={"HOME": 1.5, "TELE": 0.2},
            urgent=0.55,
        ),
        _reason(
            "RC13",
            (1, 3, 3, 3, 2, 2, 1.5, 2, 2),
            "wound_hand:4, wound_head:2, wound:2, abrasion:1",
            dispatch={"CENTRE": 1.6, "TELE": 0.1, "ADVICE": 0.5},
            urgent=0.45,
        ),
        _reason(
            "RC14",
            (1, 3, 6, 6, 4, 3, 2, 2, 2),
            "sprain:4, knee:2, shoulder:1.5, injury:2, femur_fracture:0.3, wound:0.3",
            dispatch={"CENTRE": 1.4, "TELE": 0.2},
            urgent=0.3,
        ),
        _reason(
            "RC15",
            (0, 0, 0.5, 4, 8, 8, 4, 2, 1),
            "back:5, sciatica:2, sciatica2:1, neck:1.5, myalgia:1",
            dispatch={"HOME": 1.2},
            urgent=0.2,
        ),
        _reason(
            "RC16",
            (0, 0, 0, 1, 3, 3, 1.5, 0.5, 0.2),
            "renal_colic:6, kidney_stone:2, pyelo:0.4",
            dispatch={"HOME": 1.4, "TELE": 0.2},
            urgent=0.7,
        ),
        _reason(
            "RC17",
            (0.5, 1, 1, 4, 4, 4, 4, 5, 5),
            "cystitis:5, uti:2, pyelo:1, prostatitis:0.8, retention:0.6",
            dispatch={"TELE": 2},
            urgent=0.2,
        ),
        _reason(
            "RC18",
            (5, 7, 5, 3, 2, 2, 2, 2, 1.5),
            "rash:3, urticaria:2, varicella:1.5, zoster:1.2, impetigo:1, dermatitis:1,"
            " erysipelas:0.8, cellulitis:0.4, abscess:0.8, insect_bite:0.8, measles:0.05",
            season="summer",
            dispatch={"TELE": 1.6},
            urgent=0.15,
        ),
        _reason(
            "RC19",
            (1, 2, 2, 3, 2.5, 2, 1.5, 1, 0.5),
            "urticaria_allergic:3, allergy:3, angioedema:0.8, anaphylaxis:0.2,"
            " insect_bite:1, allergic_rhinitis:1, conj_allergic:0.6",
            season="pollen",
            dispatch={"SAMU": 1.5},
            urgent=0.45,
        ),
        _reason(
            "RC20",
            (0, 0, 1, 4, 5, 4, 2, 1.5, 1),
            "anxiety:4, panic:2.5, stress:1.5, depression:1.2, suicide:0.2",
            dispatch={"TELE": 2, "ADVICE": 1.5},
            urgent=0.4,
        ),
        _reason(
            "RC21",
            (0, 0, 0.3, 1, 1, 1, 1, 3, 4),
            "dementia:3, alcohol:2, anxiety:1, stress:0.5",
            dispatch={"HOME": 1.5, "SAMU": 1.5},
            urgent=0.6,
        ),
        _reason(
            "RC22",
            (0, 0, 0, 0, 0, 0, 3, 10, 14),
            "fatigue:3, dehydration:1.2, pneumonia:1.2, uti:1.2, hf:0.8, dementia:0.8,"
            " constipation:0.6, fever:0.5",
            dispatch={"HOME": 1.5},
            urgent=0.35,
        ),
        _reason(
            "RC23",
            (0, 0, 0, 0, 0, 0, 0, 0, 0),
            "fatigue:2, pneumonia:1.5, uti:1.5, dehydration:1, contusion:1, dementia:1.2,"
            " ge:0.8, flu:0.8, covid:0.6, hf:0.6, fever:0.6",
            dispatch={"HOME": 6},
            urgent=0.3,
        ),
        _reason("RC24", (0, 0, 0, 0, 0, 0, 0, 0, 0), "death:1", urgent=0.2),
        _reason(
            "RC25",
            (0.5, 1, 2, 2, 2, 1.5, 1, 1, 1.5),
            "certificate:1",
            dispatch={"CENTRE": 2, "SAMU": 0, "ADVICE": 0.2},
            urgent=0.05,
        ),
        _reason(
            "RC26",
            (0, 0, 0.2, 1, 2, 3, 3, 3, 2),
            "htn:2, diabetes:1, asthma:0.8, anxiety:1, epilepsy:0.2, back:0.5",
            dispatch={"TELE": 4, "ADVICE": 1.5, "SAMU": 0},
            urgent=0.05,
        ),
        _reason(
            "RC27",
            (0, 0.5, 1, 2, 2, 1.5, 1, 0.5, 0.3),
            "dental:1",
            dispatch={"CENTRE": 1.4, "SAMU": 0},
            urgent=0.2,
        ),
        _reason(
            "RC28",
            (2, 2, 2, 1.5, 1.5, 1.2, 1, 1, 1),
            "conj_infect:3, conj_allergic:2",
            season="pollen",
            dispatch={"TELE": 2, "SAMU": 0},
            urgent=0.1,
        ),
        _reason(
            "RC29",
            (0, 0, 0.3, 0.5, 0.5, 1, 1.5, 1.5, 1),
            "hypoglycaemia:3, diabetes:2",
            dispatch={"SAMU": 2},
            urgent=0.6,
        ),
        _reason(
            "RC30",
            (0.5, 1.5, 0.3, 1, 0.8, 0.5, 0.3, 0.3, 0.3),
            "drug_poisoning:3, alcohol:2, co_poisoning:0.6",
            season="winter",
            dispatch={"SAMU": 4, "ADVICE": 2},
            urgent=0.6,
        ),
    ]
}
# Reasons reached only through the person's situation, never drawn from the age table.
EHPAD_REASON = "RC23"
DEATH_REASON = "RC24"

# --- Dispatch decisions -----------------------------------------------------------------------

DISPATCH_KINDS = ("HOME", "CENTRE", "TELE", "ADVICE", "SAMU")
# By age band; tuned so that the whole is about 35 / 45 / 5 / 12 / 3 %.
DISPATCH_BY_BAND = (
    (23, 96, 2, 11, 1),
    (21, 103, 2.7, 9.8, 0.66),
    (16, 108, 3.4, 9.8, 0.66),
    (11, 110, 5.4, 11, 1.3),
    (13, 103, 5.4, 11, 1.3),
    (21, 86, 4.8, 11, 2.3),
    (38, 57, 3.4, 9, 3.3),
    (56, 21, 2, 7.4, 3.3),
    (63, 8.6, 1.4, 6.6, 3.3),
)


def resolved_diagnoses() -> dict[str, Dx]:
    """The diagnoses whose codes are in the shipped code lists, codes resolved.

    A diagnosis with no ICPC-2 or no ICD-10 code left in the lists is dropped, and so are the
    drugs and procedures missing from them: the generator follows the code lists as they are
    (``missing_codes`` says what is lost).
    """
    resolved = {}
    for key, dx in DIAGNOSES.items():
        ready = _resolve(dx)
        if ready is not None:
            resolved[key] = ready
    return resolved


def missing_codes() -> list[str]:
    """Codes the tables name that the code lists lack, in one of the alternatives' place."""
    missing = []
    present = {
        vocabulary: codelists.concept_ids(vocabulary)
        for vocabulary in ("ICPC2", "ICD10", "ATC", "SOS_ACT")
    }
    for dx in DIAGNOSES.values():
        if _first_present(dx.icpc, "ICPC2") is None:
            missing.append(f"{dx.key}: ICPC2 {dx.icpc}")
        if _first_present(dx.icd, "ICD10") is None:
            missing.append(f"{dx.key}: ICD10 {dx.icd}")
        for _, options in dx.drugs:
            missing.extend(
                f"{dx.key}: ATC {code}" for code, _ in options if code not in present["ATC"]
            )
    missing.extend(f"drug table: ATC {code}" for code in DRUGS if code not in present["ATC"])
    return missing
