"""What a decision letter states (GOV-11): attendance, quorum, tally, cohort and the next step.

The letter, HTML and PDF, states the deliberation in figures (never who sat or voted: the team
reads it), the approved cohort, and the next step in the very words of the lead's home page.
The PDF is tagged (PDF/UA-1), and its signature never stands alone on a page.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.utils import translation

from eds_portal.models import Notification
from projects.next_steps import AFTER_DECISION
from projects.pdf import html_to_pdf
from projects.sessions import actions
from projects.sessions.letters import LETTER_TEMPLATE, letter_context, letter_css, letter_pdf
from tests.conftest import login
from tests.projects.pdf_text import normalised, pdf_objects, pdf_pages_text, pdf_text
from tests.projects.sessions_helpers import decide, declare, open_session_with

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])

RECOMMENDATIONS = "Préciser la durée de conservation des données."


@pytest.fixture
def deliberation(item, secretariat, chair, commission_member, patient_representative, rapporteur):
    """Three members present (one a patient representative), one excused; two votes for
    "favourable with recommendations" and one abstention."""
    declare(item.project, chair, commission_member, patient_representative)
    open_session_with(
        item.session,
        by=secretariat,
        chair=chair,
        present=[chair, commission_member, patient_representative],
        absent=[rapporteur],
    )
    item.refresh_from_db()
    actions.cast_vote(item=item, by=commission_member, choice="favourable_recommendations")
    actions.cast_vote(item=item, by=patient_representative, choice="favourable_recommendations")
    actions.cast_vote(item=item, by=chair, choice="abstention")
    return item


@pytest.fixture
def decision(deliberation, chair):
    return decide(
        deliberation,
        chair,
        opinion="favourable_recommendations",
        recommendations=RECOMMENDATIONS,
    )


def _letter_url(decision) -> str:
    return f"/projects/{decision.project_id}/decisions/{decision.pk}/"


def _text(html: str) -> str:
    return normalised(unescape(re.sub(r"<[^>]+>", " ", html)))


def test_the_decision_keeps_the_attendance_and_the_quorum_in_figures(decision):
    assert decision.tally["attendance"] == {
        "present": 3,
        "patient_representatives": 1,
        "excused": 1,
    }
    assert decision.tally["quorum"] == {"minimum": 3, "reached": True}


def test_the_letter_states_attendance_quorum_tally_and_cohort(
    client, decision, researcher, rapporteur, commission_member
):
    login(client, researcher)
    html = client.get(_letter_url(decision), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    text = _text(html)
    assert "Members present 3, including 1 patient representative" in text
    assert "Members excused 1" in text
    assert "Quorum reached: at least 3 members present, a patient representative among them" in text
    tally = re.search(r'<table class="letter__tally">.*?</table>', html, re.S).group(0)
    assert _text(tally).endswith(
        "For Against Abstentions Votes cast Members entitled to vote 2 0 1 3 3"
    )
    assert "Favourable with recommendations 2" in text
    assert "Abstention 1" in text
    # The cohort approved, every criterion, and who receives the files.
    assert "Approved cohort" in text
    assert "ICPC-2 codes R78 — Acute bronchitis/bronchiolitis" in text
    assert "Age at the time of the episode 2 years old or less" in text
    assert "Départements of the associations No restriction" in text
    assert "Expected number of persons 5000" in text
    assert f"Recipients of the files {researcher.full_name} (Project lead)" in text
    # Figures only: the team never learns who sat on its file.
    for member in (rapporteur, commission_member):
        assert member.full_name not in html


def test_the_pdf_says_the_same_and_is_tagged(decision):
    with translation.override("en"):
        pdf = letter_pdf(decision)
    declared = pdf_objects(pdf)
    assert "pdfuaid:part" in declared
    assert "/StructTreeRoot" in declared
    text = normalised(pdf_text(pdf))
    for expected in (
        "3, including 1 patient representative",
        "reached: at least 3 members present, a patient representative among them",
        "R78 — Acute bronchitis/bronchiolitis",
        "2 years old or less",
        "Abstention 1",
        RECOMMENDATIONS,
        str(AFTER_DECISION["favourable_recommendations"]),
    ):
        assert expected in text, expected


def test_older_decisions_read_the_session_and_written_ones_state_no_attendance(decision):
    # A decision recorded before the figures were kept: the session's attendance is read.
    tally = {k: v for k, v in decision.tally.items() if k not in {"attendance", "quorum"}}
    decision.tally = tally
    context = letter_context(decision)
    assert context["attendance"]["present"] == 3
    assert context["attendance"]["excused"] == 1
    assert context["quorum"]["reached"] is True
    # No session (a written procedure): no attendance; its opinions are still counted.
    decision.agenda_item = None
    decision.tally = {"procedure": "written", "opinions": {"favourable_recommendations": 3}}
    context = letter_context(decision)
    assert context["attendance"] is None
    assert context["votes"]["for"] == 3
    assert context["votes"]["against"] == 0


def test_the_next_step_is_the_one_on_the_leads_home(client, decision, researcher):
    login(client, researcher)
    letter = client.get(_letter_url(decision), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    stated = _text(re.search(r'<p class="letter__next-step">(.*?)</p>', letter, re.S).group(1))
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    row = re.search(
        rf"<tr>\s*<td><a [^>]*>{re.escape(decision.project.reference)}</a>.*?</tr>", home, re.S
    ).group(0)
    awaited = _text(re.findall(r"<td>(.*?)</td>", row, re.S)[-1])
    assert stated == awaited
    with translation.override("en"):
        assert stated == str(AFTER_DECISION["favourable_recommendations"])
    assert "revised version" in stated
    # The same in French, and in the message the team received about the new status.
    letter_fr = client.get(_letter_url(decision), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    home_fr = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    stated_fr = _text(re.search(r'<p class="letter__next-step">(.*?)</p>', letter_fr, re.S)[1])
    assert stated_fr in _text(home_fr)


def test_the_status_message_says_the_same_next_step(
    deliberation, chair, researcher, settings, django_capture_on_commit_callbacks
):
    Notification.objects.all().delete()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        decide(
            deliberation,
            chair,
            opinion="favourable_recommendations",
            recommendations=RECOMMENDATIONS,
        )
    # The team's messages are written in the portal's language.
    with translation.override(settings.LANGUAGE_CODE):
        expected = str(AFTER_DECISION["favourable_recommendations"])
    assert expected in Notification.objects.get(recipient=researcher).body
    assert expected in next(m.body for m in mail.outbox if m.to == [researcher.email])


@pytest.mark.parametrize("opinion", ["favourable", "changes_requested", "unfavourable"])
def test_every_opinion_states_its_next_step_as_the_home_does(
    client, deliberation, chair, researcher, opinion
):
    decision = decide(
        deliberation,
        chair,
        opinion=opinion,
        reasons="Motifs détaillés.",
        recommendations="",
    )
    login(client, researcher)
    letter = client.get(_letter_url(decision), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    stated = _text(re.search(r'<p class="letter__next-step">(.*?)</p>', letter, re.S).group(1))
    with translation.override("en"):
        assert stated == str(AFTER_DECISION[opinion])
    assert stated in _text(home)


def test_the_signature_never_stands_alone_on_a_page(decision, chair):
    """Reasons of every length bring the end of the letter to a page break somewhere: wherever
    it falls, the signature's page carries the next step too (measured: without the rules of
    ``.letter__closing``, 1 to 4 and 45 to 48 lines leave the signature alone)."""
    with translation.override("en"):
        next_step = str(AFTER_DECISION["favourable_recommendations"])
        for lines in range(1, 60, 3):
            decision.reasons = "\n".join(
                f"Motif {n} : protocole solide, d'intérêt public." for n in range(lines)
            )
            context = {**letter_context(decision), "for_pdf": True, "inline_css": letter_css()}
            pdf = html_to_pdf(render_to_string(LETTER_TEMPLATE, context), document="a letter")
            pages = [normalised(page) for page in pdf_pages_text(pdf)]
            signed = [page for page in pages if chair.full_name in page]
            assert len(signed) == 1, lines
            assert "For the commission, its chair" in signed[0], lines
            assert next_step in signed[0], lines
