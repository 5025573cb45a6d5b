"""The quorum of a commission session (GOV-09).

A session may deliberate when at least ``EDS_QUORUM_MIN_MEMBERS`` members are present, one of
them at least a patient representative. Only accounts that still hold a commission role count:
a member whose role was revoked after the attendance was taken is no longer a member.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from eds_portal.roles import COMMISSION_ROLES, Role
from projects.models import CommissionSession


def commission_members() -> QuerySet:
    """Every active account holding a commission role (chair and patient representatives too)."""
    User = get_user_model()
    return (
        User.objects.filter(is_active=True, groups__name__in=[r.value for r in COMMISSION_ROLES])
        .distinct()
        .order_by("full_name", "email")
    )


def present_members(session: CommissionSession) -> QuerySet:
    """The members recorded present at the session, in name order."""
    return commission_members().filter(
        pk__in=session.attendance.filter(present=True).values("member_id")
    )


def quorum_reasons(session: CommissionSession) -> list[str]:
    """Every reason the session has no quorum; empty when it has one."""
    present = present_members(session)
    count = present.count()
    reasons: list[str] = []
    minimum = settings.EDS_QUORUM_MIN_MEMBERS
    if count < minimum:
        reasons.append(
            ngettext(
                "%(present)s member present; the quorum needs at least %(minimum)s.",
                "%(present)s members present; the quorum needs at least %(minimum)s.",
                count,
            )
            % {"present": count, "minimum": minimum}
        )
    if not present.filter(groups__name=Role.PATIENT_REPRESENTATIVE.value).exists():
        reasons.append(_("No patient representative is present; the quorum needs one."))
    return reasons


def attendance_record(session: CommissionSession) -> dict:
    """The attendance and the quorum's figures, as a decision keeps them for its letter.

    Taken when the decision is recorded (attendance may still change while the session is
    open): the letter states the deliberation as it was. Figures only: the team reads the
    letter, and never learns who sat on its file (as it never learns who reviewed or voted).
    """
    present = present_members(session)
    count = present.count()
    return {
        "attendance": {
            "present": count,
            "patient_representatives": present.filter(
                groups__name=Role.PATIENT_REPRESENTATIVE.value
            ).count(),
            "excused": session.attendance.filter(present=False).count(),
        },
        "quorum": {
            "minimum": settings.EDS_QUORUM_MIN_MEMBERS,
            "reached": not quorum_reasons(session),
        },
    }
