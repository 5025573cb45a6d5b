"""Demo accounts for ``make run``: one per role (two commission members, two output checkers),
password and TOTP key.

Never used outside development: the command that loads them refuses in production.
"""

from __future__ import annotations

from dataclasses import dataclass

from eds_portal.roles import Role

# A fixed base32 key per demo account, so that `manage.py demo_totp` can print the current code
# and a phone can be enrolled once for all demo resets.
DEMO_PASSWORD = "demo-Contact-2026"  # noqa: S105 (printed by make run; refused in production)
# The line manager who "validated" the demo staff roles (SEC-04).
DEMO_VALIDATOR = "Direction de la recherche (démo)"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    organisation: str
    roles: tuple[Role, ...]
    totp_key_hex: str | None


def _key(n: int) -> str:
    return f"{n:02x}" * 20


DEMO_ACCOUNTS = [
    DemoAccount(
        "chercheuse@demo.eds", "Claire Chercheuse", "Inserm U1234", (Role.RESEARCHER,), None
    ),
    DemoAccount(
        "secretariat@demo.eds",
        "Samuel Secrétariat",
        "SOS Médecins France",
        (Role.SECRETARIAT,),
        _key(1),
    ),
    DemoAccount(
        "membre@demo.eds", "Marc Membre", "CHU de Bordeaux", (Role.COMMISSION_MEMBER,), _key(2)
    ),
    # A second member, so that a file can have its two rapporteurs besides the chair.
    DemoAccount(
        "rapporteur@demo.eds",
        "Romain Rapporteur",
        "Hospices Civils de Lyon",
        (Role.COMMISSION_MEMBER,),
        _key(9),
    ),
    DemoAccount(
        "patient@demo.eds",
        "Paule Représentante",
        "France Assos Santé",
        (Role.PATIENT_REPRESENTATIVE,),
        _key(3),
    ),
    DemoAccount(
        "president@demo.eds",
        "Hélène Présidente",
        "Université Paris Cité",
        (Role.CHAIR, Role.COMMISSION_MEMBER),
        _key(4),
    ),
    DemoAccount(
        "identite@demo.eds",
        "Ines Identité",
        "SOS Médecins France",
        (Role.IDENTITY_OFFICER,),
        _key(5),
    ),
    DemoAccount(
        "donnees@demo.eds", "David Données", "SOS Médecins France", (Role.DATA_STEWARD,), _key(6)
    ),
    DemoAccount("dpo@demo.eds", "Denise DPO", "SOS Médecins France", (Role.DPO,), _key(7)),
    DemoAccount(
        "auditeur@demo.eds", "Alain Auditeur", "CNIL (inspection)", (Role.AUDITOR,), _key(8)
    ),
    # Two output checkers named by the data office, from organisations outside every demo team,
    # so that a table can be checked by two independent checkers (issue 12).
    DemoAccount(
        "controle@demo.eds",
        "Corinne Contrôle",
        "Insee, service statistique",
        (Role.OUTPUT_CHECKER,),
        _key(10),
    ),
    DemoAccount(
        "verification@demo.eds",
        "Victor Vérification",
        "ORS Nouvelle-Aquitaine",
        (Role.OUTPUT_CHECKER,),
        _key(11),
    ),
]
