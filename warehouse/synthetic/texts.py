"""Free text as call-takers and doctors write it: abbreviations, figures, French.

A small share of notes carries what a scrubber must remove before any text leaves the
warehouse: the patient's names, a telephone number, an e-mail address, the NIR, a street
address, a birth date, and (from the gold corpus of ``warehouse.deid.corpus``) relatives',
neighbours' and doctors' names and dates in words. Nothing outside the note says which ones
do; the tests recompute it from the vault.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from .names import EMAIL_DOMAINS, phone_number, street_address
from .rand import Rng

# Share of notes that carry at least one identifying detail.
IDENTIFYING_SHARE = 0.07

MONTHS = (
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

SYMPTOMS = {
    "RC01": (
        "fièvre à {t} depuis {d}",
        "fébrile depuis {d}, courbatures",
        "frissons et fièvre depuis {d}",
        "fièvre mal tolérée depuis {d}, céphalées",
    ),
    "RC02": (
        "fièvre à {t} depuis {d}",
        "enfant fébrile depuis {d}, mange moins",
        "fièvre depuis {d}, pleure beaucoup",
        "fièvre à {t} ce soir malgré le Doliprane",
    ),
    "RC03": (
        "toux depuis {d}, gêne respiratoire",
        "tousse beaucoup depuis {d}, encombré",
        "respire vite, sifflements",
        "difficultés à respirer depuis {d}",
        "toux grasse et fièvre depuis {d}",
    ),
    "RC04": (
        "mal de gorge depuis {d}",
        "douleur à la déglutition depuis {d}, fièvre",
        "angine ? gorge très douloureuse",
    ),
    "RC05": (
        "douleur d'oreille depuis {d}",
        "se touche l'oreille, pleure la nuit",
        "otalgie droite depuis {d}",
        "mal à l'oreille gauche, fièvre",
    ),
    "RC06": (
        "douleurs abdominales depuis {d}",
        "mal au ventre depuis {d}, pas de vomissement",
        "douleur du flanc droit depuis {d}",
        "ventre douloureux, nausées",
    ),
    "RC07": (
        "vomissements et diarrhée depuis {d}",
        "gastro ? vomit tout depuis {d}",
        "diarrhée depuis {d}, boit peu",
        "plusieurs vomissements depuis ce matin",
    ),
    "RC08": (
        "douleur thoracique depuis {d}",
        "oppression dans la poitrine",
        "douleur dans la poitrine à l'effort",
        "douleur thoracique, anxieux",
    ),
    "RC09": ("palpitations depuis {d}", "cœur qui bat vite", "sensation de cœur irrégulier"),
    "RC10": (
        "céphalées depuis {d}",
        "mal de tête intense depuis {d}",
        "migraine habituelle mais plus forte",
        "maux de tête et nausées",
    ),
    "RC11": (
        "malaise ce soir",
        "vertiges depuis {d}",
        "s'est senti partir, pas de perte de connaissance",
        "tête qui tourne, nausées",
    ),
    "RC12": (
        "chute à domicile",
        "retrouvé(e) au sol",
        "chute dans la salle de bains, ne peut pas se relever seul(e)",
        "chute de sa hauteur, douleur de hanche",
    ),
    "RC13": (
        "plaie de la main en cuisinant",
        "coupure qui saigne",
        "plaie du cuir chevelu",
        "s'est coupé avec un verre",
    ),
    "RC14": (
        "entorse ? cheville gonflée",
        "chute en sport, douleur du genou",
        "douleur de l'épaule après une chute",
        "ne peut plus poser le pied",
    ),
    "RC15": (
        "lumbago depuis {d}",
        "douleur du dos bloquante",
        "sciatique depuis {d}",
        "mal au dos, ne peut pas se lever",
    ),
    "RC16": (
        "douleur lombaire intense, colique néphrétique ?",
        "douleur du flanc, ne tient pas en place",
        "antécédent de calculs, même douleur",
    ),
    "RC17": (
        "brûlures urinaires depuis {d}",
        "envies fréquentes d'uriner",
        "brûlures en urinant et fièvre",
        "n'arrive plus à uriner",
    ),
    "RC18": (
        "boutons depuis {d}",
        "éruption sur le corps",
        "plaques rouges qui grattent",
        "boutons avec croûtes",
    ),
    "RC19": (
        "réaction allergique",
        "gonflement des lèvres",
        "plaques après un médicament",
        "piqûre de guêpe, gonflement",
    ),
    "RC20": ("crise d'angoisse", "très anxieux, pleure", "idées noires", "ne dort plus, angoissé"),
    "RC21": (
        "agitation, confus(e)",
        "agité depuis ce soir",
        "troubles du comportement",
        "alcoolisé, agressif",
    ),
    "RC22": (
        "ne s'alimente plus depuis {d}",
        "fatigue inhabituelle, reste couché(e)",
        "état général altéré",
        "plus confus que d'habitude depuis {d}",
    ),
    "RC23": (
        "demande de l'EHPAD",
        "résident(e) fébrile",
        "chute en EHPAD",
        "résident(e) encombré(e), désaturation",
    ),
    "RC24": (
        "décès constaté par la famille",
        "retrouvé(e) décédé(e) ce matin",
        "décès à domicile, demande de certificat",
    ),
    "RC25": (
        "demande de certificat",
        "certificat pour l'employeur",
        "certificat demandé après une agression",
    ),
    "RC26": (
        "plus de traitement",
        "ordonnance expirée",
        "renouvellement demandé, médecin traitant absent",
    ),
    "RC27": ("mal aux dents depuis {d}", "joue gonflée, douleur dentaire", "rage de dents"),
    "RC28": ("œil rouge depuis {d}", "yeux qui collent", "œil rouge qui pleure"),
    "RC29": ("glycémie basse", "hypoglycémie, diabétique", "glycémie élevée à plus de 3 g"),
    "RC30": (
        "a avalé des médicaments",
        "ingestion accidentelle",
        "intoxication ?",
        "maux de tête chez tous les occupants, chaudière",
    ),
}

DURATIONS = (
    "ce matin",
    "hier soir",
    "24 h",
    "48 h",
    "2 jours",
    "3 jours",
    "quelques heures",
    "cette nuit",
    "5 jours",
    "une semaine",
)

FINDINGS = {
    "aom": ("Tympan droit bombé et congestif.", "Otite moyenne aiguë gauche, tympan rouge."),
    "tonsillitis": ("Amygdales érythémato-pultacées.", "Angine, adénopathies cervicales."),
    "pharyngitis": ("Pharynx inflammatoire, pas d'exsudat.", "Gorge rouge, TROD négatif."),
    "rhino": ("Rhinorrhée claire, tympans normaux.", "Rhinopharyngite, auscultation normale."),
    "bronchiolitis": (
        "Sibilants diffus, tirage intercostal léger.",
        "Freinage expiratoire, bonne prise des biberons.",
    ),
    "bronchitis": ("Ronchi diffus, pas de foyer.", "Auscultation : quelques ronchi."),
    "pneumonia": ("Crépitants base droite.", "Foyer de crépitants base gauche, polypnée."),
    "asthma": ("Sibilants bilatéraux, parle sans difficulté.", "Crise d'asthme modérée."),
    "copd": ("Exacerbation de BPCO, sibilants, expectoration purulente.",),
    "flu": ("Syndrome grippal typique, auscultation normale.", "Tableau grippal, myalgies."),
    "covid": ("Test antigénique positif.", "Syndrome viral, test COVID positif."),
    "ge_viral": (
        "Abdomen souple, pas de signe de déshydratation.",
        "Abdomen souple et indolore, muqueuses humides.",
    ),
    "ge": ("Abdomen souple, bruits hydro-aériques présents.",),
    "dehydration": ("Pli cutané, muqueuses sèches.", "Déshydratation modérée."),
    "appendicitis": ("Douleur en fosse iliaque droite, défense.",),
    "cholecystitis": ("Murphy positif.",),
    "chest_pain": (
        "ECG sans anomalie, douleur reproduite à la palpation.",
        "ECG normal, douleur pariétale.",
    ),
    "mi": ("ECG : sus-décalage du ST en inférieur.", "Douleur typique, ECG modifié."),
    "angina": ("Douleur constrictive d'effort, ECG sans sus-décalage.",),
    "af": ("ECG : fibrillation auriculaire rapide.",),
    "stroke": (
        "Déficit brachio-facial droit, aphasie.",
        "Hémiparésie gauche d'apparition brutale.",
    ),
    "femur_fracture": ("Raccourcissement et rotation externe du membre inférieur.",),
    "sprain": ("Entorse de cheville, critères d'Ottawa négatifs.",),
    "back": ("Contracture paravertébrale, Lasègue négatif.",),
    "sciatica": ("Lasègue positif à 40°.",),
    "renal_colic": ("Douleur lombaire, bandelette : hématurie.",),
    "cystitis": ("Bandelette urinaire positive (leucocytes, nitrites).",),
    "pyelo": ("Fosse lombaire sensible, bandelette positive.",),
    "urticaria": ("Plaques urticariennes diffuses, pas d'œdème.",),
    "anaphylaxis": ("Œdème, hypotension, dyspnée : choc anaphylactique.",),
    "zoster": ("Vésicules en bande intercostale.",),
    "varicella": ("Vésicules d'âges différents.",),
    "anxiety": ("Examen normal, anxiété au premier plan.",),
    "panic": ("Attaque de panique, examen et ECG normaux.",),
    "dementia": ("Désorientation, pas de déficit focal.",),
    "death": (
        "Absence de pouls et de respiration, rigidité débutante.",
        "Décès constaté, pas d'obstacle médico-légal.",
    ),
    "certificate": ("Examen réalisé, certificat remis.",),
    "hypoglycaemia": ("Glycémie capillaire basse, resucrage.",),
    "wound_hand": ("Plaie nette de 2 cm, suturée.",),
    "wound_head": ("Plaie du cuir chevelu, 3 points.",),
}
GENERIC_FINDINGS = (
    "Examen clinique sans particularité en dehors de ce motif.",
    "Bon état général, examen rassurant.",
    "Examen : pas de signe de gravité.",
    "Patient(e) conscient(e), bien orienté(e).",
)

OUTCOME_PHRASES = {
    "OUT_HOME": (
        "Retour à domicile, consignes données.",
        "Surveillance à domicile.",
        "Reconsulter si aggravation.",
    ),
    "OUT_GP": ("À revoir par le médecin traitant sous 48 h.", "Suivi par le MT."),
    "OUT_HOSP_OWN": (
        "Adressé(e) aux urgences par ses propres moyens.",
        "Orientation vers les urgences, courrier remis.",
    ),
    "OUT_AMBULANCE": (
        "Transport aux urgences en ambulance.",
        "Ambulance demandée, transfert aux urgences.",
    ),
    "OUT_SMUR": ("Appel du 15, prise en charge par le SMUR.", "SMUR sur place."),
    "OUT_DEATH": ("Certificat de décès établi.", "Décès constaté, famille informée."),
}

DISPATCH_PHRASES = {
    "HOME": ("Visite à domicile.", "VAD programmée.", "Médecin envoyé au domicile."),
    "CENTRE": (
        "Orienté(e) vers le centre de consultation.",
        "RDV au centre.",
        "Consultation au centre proposée.",
    ),
    "TELE": ("Téléconsultation proposée.", "Lien de téléconsultation envoyé."),
    "ADVICE": ("Conseils donnés, rappeler si aggravation.", "Conseil téléphonique, surveillance."),
    "SAMU": ("Transféré au 15.", "Appel basculé au SAMU."),
}


@dataclass
class Patient:
    """What the note writer may know about the patient (vault fields included)."""

    sex: str
    age: int
    ehpad: bool
    birth_name: str
    used_name: str
    first_name: str
    birth_date: date
    nir: str
    postal_code: str
    city: str


def _caller(rng: Rng, patient: Patient) -> str:
    """Who calls, with its preposition ("de la mère", "du père", "d'une voisine")."""
    male = patient.sex == "M"
    if patient.ehpad:
        return rng.pick(("de l'infirmière de l'EHPAD", "de l'IDE de l'EHPAD", "de l'EHPAD"))
    if patient.age < 15:
        return rng.pick(("de la mère", "de la mère", "du père", "de la grand-mère", "de la nounou"))
    itself = "du patient lui-même" if male else "de la patiente elle-même"
    if patient.age >= 75:
        return rng.pick(
            (
                "de sa fille",
                "de son fils",
                "de l'aide à domicile",
                "d'une voisine",
                itself,
                "de son épouse" if male else "de son mari",
            )
        )
    return rng.pick(
        (
            itself,
            "du patient" if male else "de la patiente",
            "de sa conjointe" if male else "de son conjoint",
            "d'un proche",
        )
    )


def _age_phrase(patient: Patient) -> str:
    if patient.age < 2:
        return "nourrisson"
    if patient.age < 15:
        return f"enfant de {patient.age} ans"
    return f"{patient.age} ans"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _celsius(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def _identifier(rng: Rng, patient: Patient) -> str:
    """One identifying detail, the way it turns up in real notes."""
    surname = patient.used_name or patient.birth_name
    title = "M." if patient.sex == "M" else "Mme"
    kind = rng.below(12)
    if kind <= 2:
        if patient.age < 15:
            return rng.pick(
                (
                    f"Enfant {patient.first_name} {surname.upper()}.",
                    f"Le petit {patient.first_name}."
                    if patient.sex == "M"
                    else f"La petite {patient.first_name}.",
                )
            )
        return rng.pick(
            (
                f"{'Patient' if patient.sex == 'M' else 'Patiente'} : {title} {surname}.",
                f"{title} {surname}, {'connu' if patient.sex == 'M' else 'connue'} du cabinet.",
                f"{patient.first_name} {surname.upper()}.",
                f"Appel concernant {title} {patient.first_name} {surname}.",
            )
        )
    if kind <= 5:
        return rng.pick(
            ("Rappeler au {}.", "Tél. {}", "Joignable au {}", "N° de rappel : {}")
        ).format(phone_number(rng))
    if kind == 6:
        born = "né" if patient.sex == "M" else "née"
        day = patient.birth_date
        return rng.pick(
            (
                f"{born.capitalize()} le {day:%d/%m/%Y}.",
                f"DDN {day:%d.%m.%Y}.",
                f"{born.capitalize()} le {day.day} {MONTHS[day.month - 1]} {day.year}.",
            )
        )
    if kind <= 8:
        return rng.pick(("Adresse : {}, {}.", "Au {}, {}.", "Domicile {} ({})")).format(
            street_address(rng), patient.city or patient.postal_code
        )
    if kind == 9:
        local = f"{patient.first_name}.{surname}".lower()
        local = "".join(ch for ch in _ascii(local) if ch.isalnum() or ch in ".-")
        return f"Mail : {local}{rng.between(1, 99) if rng.chance(0.4) else ''}@" + rng.pick(
            EMAIL_DOMAINS
        )
    if kind == 10 and patient.nir:
        nir = patient.nir
        if rng.chance(0.5):
            nir = f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}"
        return rng.pick(("NIR {}.", "N° SS : {}", "Carte Vitale {}")).format(nir)
    if patient.age >= 15:
        return f"{title} {surname}, {rng.pick(('rappeler', 'vu'))}."
    return f"Prénom : {patient.first_name}."


def _ascii(text: str) -> str:
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )


def _with_identifiers(rng: Rng, text: str, patient: Patient) -> str:
    # Imported here: the gold corpus draws its names from this package's ``names``.
    from warehouse.deid.corpus import identifying_detail

    if not rng.chance(IDENTIFYING_SHARE):
        return text
    details = [_identifier(rng, patient)]
    if rng.chance(0.3):
        details.append(_identifier(rng, patient))
    if rng.chance(0.4):
        # Someone else's name (a relative, a neighbour, a doctor) or a date in words, written
        # as in the gold corpus (warehouse/deid/corpus.py).
        detail = identifying_detail(rng)
        details.append(detail if detail.endswith(".") else detail + ".")
    if rng.chance(0.5):
        return " ".join(details) + " " + text
    return text + " " + " ".join(details)


_CONTEXT_ANY = (
    "A pris du paracétamol il y a 3 h.",
    "Pas de traitement pris.",
    "Doliprane à 18 h sans effet.",
    "Allergie à la pénicilline signalée.",
)
_CONTEXT_CHILD = ("Vaccins à jour.", "Antécédent d'asthme.", "Né(e) à terme, pas d'antécédent.")
_CONTEXT_ADULT = (
    "Sous anticoagulants.",
    "Diabétique connu(e).",
    "Antécédent d'asthme.",
    "Hypertendu(e) traité(e).",
)
_CONTEXT_ALONE = ("Vit seul(e).", "Vit seul(e), aide à domicile le matin.")


def _context(patient: Patient) -> tuple[str, ...]:
    if patient.age < 15:
        return _CONTEXT_ANY + _CONTEXT_CHILD
    if patient.age >= 70 and not patient.ehpad:
        return _CONTEXT_ANY + _CONTEXT_ADULT + _CONTEXT_ALONE
    return _CONTEXT_ANY + _CONTEXT_ADULT


def call_note(
    rng: Rng, patient: Patient, reason: str, dispatch: str, temperature: float | None
) -> str:
    symptom = rng.pick(SYMPTOMS[reason]).format(
        d=rng.pick(DURATIONS), t=_celsius(temperature or 38.5)
    )
    parts = [f"Appel {_caller(rng, patient)}, {_age_phrase(patient)}. {_capital(symptom)}."]
    if temperature and rng.chance(0.4):
        parts.append(f"T° {_celsius(temperature)} prise à domicile.")
    if rng.chance(0.35):
        parts.append(rng.pick(_context(patient)))
    if rng.chance(0.5):
        parts.append(
            rng.pick(
                (
                    "Pas de signe de gravité au téléphone.",
                    "Conscient(e), parle bien.",
                    "Respire sans difficulté au téléphone.",
                    "Inquiétude de la famille.",
                    "Douleur cotée 7/10.",
                )
            )
        )
    parts.append(rng.pick(DISPATCH_PHRASES[dispatch]))
    return _with_identifiers(rng, " ".join(parts), patient)


def doctor_note(
    rng: Rng,
    patient: Patient,
    dx_keys: list[str],
    dx_labels: list[str],
    vitals: dict[str, float],
    drug_labels: list[str],
    outcome: str,
) -> str:
    parts = []
    if vitals:
        signs = []
        if "temperature" in vitals:
            signs.append(f"T {_celsius(vitals['temperature'])} °C")
        if "heart_rate" in vitals:
            signs.append(f"FC {vitals['heart_rate']:.0f}/min")
        if "systolic" in vitals:
            signs.append(f"TA {vitals['systolic']:.0f}/{vitals['diastolic']:.0f}")
        if "spo2" in vitals:
            signs.append(f"SpO2 {vitals['spo2']:.0f} %")
        if "glucose" in vitals:
            signs.append(f"glycémie {vitals['glucose'] / 100:.2f} g/l".replace(".", ","))
        if "weight" in vitals:
            signs.append(f"poids {_celsius(vitals['weight'])} kg")
        parts.append(", ".join(signs) + ".")
    parts.append(rng.pick(FINDINGS.get(dx_keys[0], GENERIC_FINDINGS)))
    parts.append("Diagnostic : " + " ; ".join(dx_labels) + ".")
    if drug_labels:
        parts.append("Traitement : " + ", ".join(drug_labels) + ".")
    parts.append(rng.pick(OUTCOME_PHRASES[outcome]))
    return _with_identifiers(rng, " ".join(parts), patient)
