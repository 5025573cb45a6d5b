"""Writes of the consent register: keyword-only, ``by=``, one transaction, audited.

The trail records that an entry was made, for which project and by whom, with the entry's id;
the person key stays in the register (it is a pseudonym, but the trail is read more widely).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.consent.selectors import is_consenting
from access.models_consent import (
    Assent,
    ConsentRecord,
    ConsentWithdrawal,
    SubjectCategory,
)
from eds_portal.audit import record_event
from eds_portal.errors import Refused
from eds_portal.notifications import Message, notify
from eds_portal.roles import Role
from projects.models import Project


class ConsentRefused(Refused):
    """The consent step is refused; ``reasons`` says every why."""


def _locked_consent_project(project: Project) -> Project:
    locked = Project.objects.select_for_update().get(pk=project.pk)
    if not locked.requires_consent:
        # CON-01: only projects flagged as consent-based have a consent register.
        raise ConsentRefused([_("This project does not rely on consent.")])
    return locked


@transaction.atomic
def record_consent(
    *,
    project: Project,
    by: Any,
    person_key: str,
    purposes: str,
    notice_version: str,
    given_at: datetime,
    method: str,
    collector: str,
    evidence: str,
    subject_category: str = SubjectCategory.ADULT,
    representatives: str = "",
    assent: str = Assent.NOT_APPLICABLE,
) -> ConsentRecord:
    """A consent given by a person (or their representatives) to one project (CON-02, CON-04)."""
    locked = _locked_consent_project(project)
    reasons = []
    if given_at > timezone.now():
        reasons.append(_("A consent cannot be dated in the future."))
    if subject_category != SubjectCategory.ADULT:
        if not representatives.strip():
            reasons.append(_("Record who consented on the person's behalf."))
        if assent == Assent.NOT_APPLICABLE:
            reasons.append(_("Record the person's own assent, or that they cannot express it."))
    elif assent != Assent.NOT_APPLICABLE or representatives.strip():
        reasons.append(_("An adult acting alone has no representative and no separate assent."))
    if reasons:
        raise ConsentRefused(reasons)
    record = ConsentRecord(
        project=locked,
        person_key=person_key,
        purposes=purposes.strip(),
        notice_version=notice_version.strip(),
        given_at=given_at,
        method=method,
        collector=collector.strip(),
        evidence=evidence.strip(),
        subject_category=subject_category,
        representatives=representatives.strip(),
        assent=assent,
        recorded_by=by,
    )
    record.full_clean()
    record.save()
    record_event(
        action="consent.recorded",
        actor=by,
        target=locked,
        after={
            "consent": record.pk,
            "notice_version": record.notice_version,
            "method": record.method,
            "subject_category": record.subject_category,
            "assent": record.assent,
        },
    )
    return record


@transaction.atomic
def withdraw_consent(
    *,
    project: Project,
    by: Any,
    person_key: str,
    withdrawn_at: datetime,
    channel: str,
    data_fate: str,
    fate_basis: str,
) -> ConsentWithdrawal:
    """A withdrawal: a new dated entry; earlier processing stays lawful (CON-05, CON-06)."""
    locked = _locked_consent_project(project)
    reasons = []
    if withdrawn_at > timezone.now():
        reasons.append(_("A withdrawal cannot be dated in the future."))
    elif not is_consenting(locked, person_key, on=withdrawn_at):
        reasons.append(_("This person had no valid consent to this project at that date."))
    if not fate_basis.strip():
        reasons.append(_("Say what the notice or the framework provides for the data."))
    if reasons:
        raise ConsentRefused(reasons)
    withdrawal = ConsentWithdrawal(
        project=locked,
        person_key=person_key,
        withdrawn_at=withdrawn_at,
        channel=channel,
        data_fate=data_fate,
        fate_basis=fate_basis.strip(),
        recorded_by=by,
    )
    withdrawal.full_clean()
    withdrawal.save()
    record_event(
        action="consent.withdrawn",
        actor=by,
        target=locked,
        after={"withdrawal": withdrawal.pk, "channel": channel, "data_fate": data_fate},
    )
    _tell_data_stewards(locked, withdrawal)
    return withdrawal


def _tell_data_stewards(project: Project, withdrawal: ConsentWithdrawal) -> None:
    """The next deliveries must leave the person out; erasure concerns delivered data too."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    stewards = get_user_model().objects.filter(groups__name=Role.DATA_STEWARD.value)
    if withdrawal.data_fate == "erase":
        body = gettext_lazy(
            "A person withdrew their consent to project %(ref)s on %(when)s and the data already "
            "collected must be erased: remove it from every delivered dataset. New deliveries "
            "leave the person out."
        )
    else:
        body = gettext_lazy(
            "A person withdrew their consent to project %(ref)s on %(when)s. The data already "
            "collected is kept for the analysis; new deliveries leave the person out."
        )
    notify(
        stewards,
        subject=Message(gettext_lazy("[%(ref)s] Consent withdrawn"), ref=project.reference),
        body=Message(body, ref=project.reference, when=timezone.localdate(withdrawal.withdrawn_at)),
        url=reverse("consent_register", args=[project.pk]),
    )
