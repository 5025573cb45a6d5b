"""The e-mails of the opposition register, written when they are sent (``eds_portal.mail``).

Their rows keep no text and no address: the receipt number or the answer's id only. The task
that sends them reads the request or the answer, then the address from the vault (audited).
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from access.models import Answer, OppositionRequest
from access.opposition.actions import ANSWER_MAIL, RECEIPT_MAIL, receipt_mail_text
from eds_portal.mail import Composed, Undeliverable, register_kind
from eds_portal.models import OutgoingMail
from warehouse import vault


def compose_receipt(mail: OutgoingMail) -> Composed:
    request = OppositionRequest.objects.filter(receipt_number=mail.reference).first()
    if request is None:
        raise Undeliverable("the request no longer exists")
    contact = vault.opposition_contact(
        request.receipt_number, purpose="e-mail receipt", by="mail queue"
    )
    if not contact.email:
        raise Undeliverable("no e-mail address in the vault")
    with translation.override(mail.language or settings.LANGUAGE_CODE):
        subject, body = receipt_mail_text(request)
    return Composed(subject, body, [contact.email])


def compose_answer(mail: OutgoingMail) -> Composed:
    from access.opposition.letters import answer_email

    if not mail.reference.isdigit() or not Answer.objects.filter(pk=mail.reference).exists():
        raise Undeliverable("the answer no longer exists")
    subject, body, address = answer_email(int(mail.reference), language=mail.language)
    if not address:
        raise Undeliverable("no e-mail address in the vault")
    return Composed(subject, body, [address])


def register() -> None:
    register_kind(
        RECEIPT_MAIL, label=_("Receipt of an opposition request"), compose=compose_receipt
    )
    register_kind(ANSWER_MAIL, label=_("Answer to an opposition request"), compose=compose_answer)
