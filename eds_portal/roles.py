"""The portal's roles (docs/architecture.md "Who uses it"), each a Django group of the same name."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RESEARCHER = "researcher", _("Researcher")
    """Drafts and submits protocols, answers the commission, receives approved data."""
    SECRETARIAT = "secretariat", _("Secretariat (data office)")
    """Checks admissibility, assigns rapporteurs, runs sessions, records formalities."""
    COMMISSION_MEMBER = "commission_member", _("Commission member")
    """Declares conflicts of interest, reviews files and votes in sessions."""
    PATIENT_REPRESENTATIVE = "patient_representative", _("Patient representative")
    """A commission member representing patients; one must be present for a quorum."""
    CHAIR = "chair", _("Commission chair")
    """Opens sessions, checks the quorum and signs decisions."""
    IDENTITY_OFFICER = "identity_officer", _("Identity officer")
    """The only role that sees identities: matches objections to warehouse persons."""
    DATA_STEWARD = "data_steward", _("Data steward")
    """Launches and watches provisioning, handles deliveries and destruction."""
    DPO = "dpo", _("Data protection officer")
    """Keeps the registers, deadlines and the record of processing; reads the audit trail."""
    AUDITOR = "auditor", _("Auditor")
    """Reads the audit trail, nothing else (for instance during an inspection)."""
    OUTPUT_CHECKER = "output_checker", _("Output checker")
    """Named by the data office: checks the results projects ask to take out (MIN-09)."""


ROLE_DESCRIPTIONS = {
    Role.RESEARCHER: _(
        "Drafts and submits research protocols, answers the commission's questions, "
        "revises them and receives the approved, minimised data."
    ),
    Role.SECRETARIAT: _(
        "Checks that submitted files are complete, assigns rapporteurs, runs commission "
        "sessions, records CNIL formalities and publishes project pages."
    ),
    Role.COMMISSION_MEMBER: _(
        "Declares conflicts of interest, reviews the files assigned to them and votes in "
        "commission sessions."
    ),
    Role.PATIENT_REPRESENTATIVE: _(
        "A commission member who represents patients; a session needs at least one to reach "
        "its quorum."
    ),
    Role.CHAIR: _("Opens commission sessions, checks the quorum and signs the decisions."),
    Role.IDENTITY_OFFICER: _(
        "The only role that sees identities: matches opposition requests to the persons of the "
        "warehouse."
    ),
    Role.DATA_STEWARD: _(
        "Launches and watches the provisioning of approved datasets, handles deliveries and "
        "their destruction at expiry."
    ),
    Role.DPO: _(
        "Data protection officer: keeps the opposition and consent registers and their "
        "deadlines, the record of processing and reads the audit trail."
    ),
    Role.AUDITOR: _("Reads the audit trail and exports it, for instance during an inspection."),
    Role.OUTPUT_CHECKER: _(
        "Named by the data office: checks, with a second checker and independently, the tables "
        "and figures that projects ask to take out, never on a project of their own team."
    ),
}

# Every role but the researcher's handles other people's data: two-factor login is mandatory.
STAFF_ROLES = frozenset(set(Role) - {Role.RESEARCHER})
# A patient representative sits in the commission with the same rights as any member.
COMMISSION_ROLES = frozenset({Role.COMMISSION_MEMBER, Role.PATIENT_REPRESENTATIVE, Role.CHAIR})
