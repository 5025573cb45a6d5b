"""Letters to the requester (OPP-12): an HTML page, the same as a PDF, and the e-mail.

The letter names the request by its receipt number and says what was done (scope, effective
date) or why not, with the right to complain to the CNIL and to seek a judicial remedy. The
addressee block (name and postal address) comes from the vault: it is printed only on the
identity officer's copy, who posts paper letters; the DPO's copy says where it is kept. E-mails
are sent by the system, which reads the address through ``warehouse.vault.opposition_contact``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from access.models import Answer
from warehouse import vault

LETTER_TEMPLATE = "access/letter_pdf.html"
EMAIL_TEMPLATE = "access/letter_email.txt"

LETTER_CSS = """
@page { size: A4; margin: 2cm; }
body { font-family: sans-serif; font-size: 11pt; line-height: 1.45; color: #111; }
.letter__addressee { margin: 1cm 0 1cm 50%; white-space: pre-line; }
.letter__meta { color: #444; }
h1 { font-size: 14pt; }
"""


def _no_network_fetcher():
    """A WeasyPrint fetcher that fetches nothing: a letter never reaches out to the network."""
    from weasyprint.urls import URLFetcher

    class NoFetch(URLFetcher):
        def fetch(self, url, headers=None):
            raise ValueError(f"the opposition letter may not fetch {url!r}")

    return NoFetch(fail_on_errors=False)


def _answer(answer: Answer | int) -> Answer:
    pk = answer if isinstance(answer, int) else answer.pk
    return (
        Answer.objects.select_related("request", "sent_by", "request__withdraws")
        .prefetch_related("request__projects")
        .get(pk=pk)
    )


def letter_context(answer: Answer, *, addressee: Any = None) -> dict[str, Any]:
    request = answer.request
    return {
        "answer": answer,
        "req": request,
        "projects": list(request.projects.all()),
        "addressee": addressee,
        "portal_name": settings.EDS_PORTAL_NAME,
        "dpo_email": settings.DEFAULT_FROM_EMAIL,
    }


def addressee_for(answer: Answer, *, by: Any) -> vault.OppositionContact | None:
    """The identity officer's copy carries the address; everyone else's does not."""
    from eds_portal.authz import Permission, has_permission

    if not has_permission(by, Permission.MATCH_IDENTITIES):
        return None
    return vault.opposition_contact(
        answer.request.receipt_number, purpose=f"postal letter {answer.pk}", by=by
    )


def render_letter_html(answer: Answer, *, addressee: Any = None, for_pdf: bool = False) -> str:
    context = letter_context(_answer(answer), addressee=addressee)
    context["for_pdf"] = for_pdf
    context["inline_css"] = LETTER_CSS
    return render_to_string(LETTER_TEMPLATE, context)


def letter_pdf(answer: Answer, *, addressee: Any = None) -> bytes:
    import weasyprint

    html = render_letter_html(answer, addressee=addressee, for_pdf=True)
    return weasyprint.HTML(string=html, url_fetcher=_no_network_fetcher()).write_pdf()


def answer_email(answer_pk: int, *, language: str = "") -> tuple[str, str, str]:
    """(subject, body, address) of an answer sent by e-mail; the address from the vault, ""
    when the requester gave none. Called by the mail task when it sends (access.opposition.mail).
    """
    answer = _answer(answer_pk)
    contact = vault.opposition_contact(
        answer.request.receipt_number, purpose=f"e-mail answer {answer.pk}", by="mail queue"
    )
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = _("[%(portal)s] Answer to your opposition request %(receipt)s") % {
            "portal": settings.EDS_PORTAL_NAME,
            "receipt": answer.request.receipt_number,
        }
        body = render_to_string(EMAIL_TEMPLATE, letter_context(answer))
    return subject, body, contact.email or ""
