"""The commission's decisions (GOV-11, GOV-12) and the expedited written procedure.

A decision is numbered (CSE-YYYY-NNN, gap-free per year), bound to the version reviewed,
reasoned, signed by the chair, and immutable. It decides variable by variable and freezes the
approved data specification: provisioning executes the specification of the decision in force
(``Decision.objects.in_force()``, recorded on each run) and nothing else. A correction is a new
decision that supersedes the previous one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from eds_portal.audit import record_event
from eds_portal.authz import Permission, has_permission, has_role
from eds_portal.notifications import Message, Paragraphs, absolute, notify
from eds_portal.roles import Role
from projects import workflow
from projects.conflicts import declaration_of, is_conflicted
from projects.models import (
    AgendaItem,
    Amendment,
    Decision,
    Project,
    ProjectStatus,
    ProtocolVersion,
    RapporteurAssignment,
    Recommendation,
    Review,
    SessionStatus,
    VariableVerdict,
    VoteChoice,
    WrittenAgreement,
    WrittenProcedure,
)
from projects.sections import BY_KEY, DEFAULT_DELIVERY_SHAPE, DeliveryShape, bound_form
from projects.sessions.actions import Refused, close_locked_vote, tally, tally_record
from projects.sessions.quorum import attendance_record, quorum_reasons
from warehouse import catalogue
from warehouse.catalogue import Generalisation as G

# --- What was requested, and what "coarser" means ---------------------------------------------

# From the finest to the coarsest, per family of generalisations (the catalogue's).
CHAINS = catalogue.COARSENESS


def coarser_than(variable: catalogue.Variable, requested: str) -> list[str]:
    """The generalisations allowed for the variable that are coarser than the requested one."""
    found: list[str] = []
    for allowed in variable.generalisations:
        for chain in CHAINS:
            if (
                requested in chain
                and allowed in chain
                and chain.index(allowed) > chain.index(requested)
                and allowed.value not in found
            ):
                found.append(allowed.value)
    return found


@dataclass(frozen=True)
class RequestedVariable:
    code: str
    variable: catalogue.Variable
    generalisation: str
    justification: str

    @property
    def coarser(self) -> list[str]:
        return coarser_than(self.variable, self.generalisation)


def _data_request(version: ProtocolVersion) -> dict[str, Any]:
    """The version's structured request, read with the same form the team filled in."""
    form = bound_form(BY_KEY["data_request"], version.content)
    if form.is_bound and form.is_valid():
        return form.specification()
    # A version is complete when submitted; should the catalogue have changed since, read the
    # ticked variables as stored rather than lose them.
    raw = version.content.get("data_request") or {}
    variables = []
    for variable in catalogue.exportable_variables():
        if str(raw.get(f"var__{variable.code}", "")).lower() in {"on", "true", "1", "yes"}:
            variables.append(
                {
                    "code": variable.code,
                    "justification": str(raw.get(f"just__{variable.code}", "")),
                    "generalisation": raw.get(f"gen__{variable.code}") or variable.default.value,
                }
            )
    criteria = {}
    if form.is_bound and form.criteria_form.is_bound and form.criteria_form.is_valid():
        criteria = form.criteria_form.criteria().as_dict()
    shape = raw.get("delivery_shape")
    return {
        "variables": variables,
        "criteria": criteria,
        "expected_persons": raw.get("expected_persons"),
        "access_months": raw.get("access_months"),
        "delivery_shape": shape if shape in DeliveryShape.values else DEFAULT_DELIVERY_SHAPE.value,
    }


def requested_variables(version: ProtocolVersion) -> list[RequestedVariable]:
    return [
        RequestedVariable(
            code=item["code"],
            variable=catalogue.BY_CODE[item["code"]],
            generalisation=item["generalisation"],
            justification=item.get("justification", ""),
        )
        for item in _data_request(version)["variables"]
        if item["code"] in catalogue.BY_CODE
    ]


_SEVERITY = {VariableVerdict.APPROVE: 0, VariableVerdict.COARSER: 1, VariableVerdict.REFUSE: 2}


def rapporteur_verdicts(version: ProtocolVersion) -> dict[str, list[dict[str, Any]]]:
    """Per variable code, the submitted reviews' verdicts on this version (with the reviewer)."""
    verdicts: dict[str, list[dict[str, Any]]] = {}
    reviews = (
        Review.objects.filter(version=version, submitted_at__isnull=False)
        .select_related("reviewer")
        .prefetch_related("variables")
    )
    for review in reviews:
        for entry in review.variables.all():
            verdicts.setdefault(entry.variable, []).append(
                {
                    "reviewer": review.reviewer.full_name,
                    "verdict": entry.verdict,
                    "verdict_label": VariableVerdict(entry.verdict).label,
                    "generalisation": entry.generalisation,
                    "reason": entry.reason,
                }
            )
    return verdicts


def prefilled_verdicts(version: ProtocolVersion) -> dict[str, dict[str, str]]:
    """The decision form's starting point: per variable, the most cautious rapporteur verdict."""
    prefilled: dict[str, dict[str, str]] = {}
    proposals = rapporteur_verdicts(version)
    for requested in requested_variables(version):
        entries = proposals.get(requested.code)
        if not entries:
            continue
        strictest = max(entries, key=lambda e: _SEVERITY.get(e["verdict"], 0))
        value = {"verdict": strictest["verdict"], "generalisation": "", "reason": ""}
        if strictest["verdict"] == VariableVerdict.COARSER:
            proposed = [
                e["generalisation"]
                for e in entries
                if e["verdict"] == VariableVerdict.COARSER and e["generalisation"]
            ]
            allowed = requested.coarser
            candidates = [g for g in allowed if g in proposed]
            value["generalisation"] = (candidates or allowed or [""])[-1]
        reasons = [e["reason"] for e in entries if e["verdict"] == strictest["verdict"]]
        value["reason"] = next((r for r in reasons if r), "")
        prefilled[requested.code] = value
    return prefilled


def check_variable_decisions(
    version: ProtocolVersion, variable_decisions: dict[str, dict]
) -> tuple[list[dict[str, str]], dict[str, list[str]]]:
    """Normalised per-variable decisions, and the errors per variable code ("" for general)."""
    errors: dict[str, list[str]] = {}
    decided: list[dict[str, str]] = []
    requested = requested_variables(version)
    codes = {r.code for r in requested}
    extra = sorted(set(variable_decisions) - codes)
    if extra:
        errors[""] = [
            _("These variables were not requested in this version: %(codes)s.")
            % {"codes": ", ".join(extra)}
        ]
    for item in requested:
        given = variable_decisions.get(item.code) or {}
        verdict = str(given.get("verdict") or "")
        reason = str(given.get("reason") or "").strip()
        problems: list[str] = []
        generalisation = ""
        if verdict not in VariableVerdict.values:
            problems.append(_("Give a verdict for this variable."))
        elif verdict == VariableVerdict.APPROVE:
            generalisation = item.generalisation
        elif verdict == VariableVerdict.COARSER:
            generalisation = str(given.get("generalisation") or "")
            if not item.coarser:
                problems.append(_("No generalisation coarser than the requested one is allowed."))
            elif generalisation not in item.coarser:
                problems.append(
                    _("Choose a generalisation coarser than the requested one: %(allowed)s.")
                    % {"allowed": ", ".join(str(G(g).label) for g in item.coarser)}
                )
        if verdict in {VariableVerdict.COARSER, VariableVerdict.REFUSE} and not reason:
            problems.append(_("Give the reason for this verdict."))
        if problems:
            errors[item.code] = problems
            continue
        decided.append(
            {
                "code": item.code,
                "verdict": verdict,
                "requested_generalisation": item.generalisation,
                "generalisation": generalisation,
                "reason": reason,
            }
        )
    return decided, errors


def build_specification(
    version: ProtocolVersion, opinion: str, decided: list[dict[str, str]]
) -> dict[str, Any]:
    """The frozen specification: what provisioning may deliver, and nothing else."""
    request = _data_request(version)
    favourable = opinion in {
        Recommendation.FAVOURABLE,
        Recommendation.FAVOURABLE_WITH_RECOMMENDATIONS,
    }
    variables = []
    refused = []
    for entry in decided:
        if entry["verdict"] == VariableVerdict.REFUSE:
            refused.append({"code": entry["code"], "reason": entry["reason"]})
            continue
        variable = catalogue.BY_CODE[entry["code"]]
        variables.append(
            {
                "code": variable.code,
                "table": variable.table,
                "column": variable.column,
                "generalisation": entry["generalisation"],
                "sensitivity": variable.sensitivity.value,
                "verdict": entry["verdict"],
                "reason": entry["reason"],
            }
        )
    access_from = {}
    if version.is_amendment:
        # GOV-13: an amendment changes the access period's length, not its start (a new
        # variable does not restart the clock): it counts from the start in force.
        in_force = current_decision(version.project)
        if in_force is not None and in_force.is_favourable:
            start = (in_force.approved_specification or {}).get("access_from")
            access_from = {"access_from": start or in_force.decided_at.isoformat()}
    recipients = [
        {
            "user_id": member.get("user"),
            "email": member.get("email", ""),
            "name": member.get("name", ""),
            "role": member.get("role", ""),
        }
        for member in version.content.get("_team", [])
    ]
    return {
        "version": version.number,
        "content_sha256": version.content_sha256,
        "opinion": opinion,
        # An unfavourable opinion or a request for changes delivers nothing.
        "variables": variables if favourable else [],
        "refused": refused,
        "decisions": decided,
        "criteria": request.get("criteria") or {},
        "expected_persons": request.get("expected_persons"),
        "access_months": request.get("access_months"),
        **access_from,
        # "portal" or "omop": the files' shape, not what they hold (absent in older
        # specifications: "portal").
        "delivery_shape": request.get("delivery_shape") or DEFAULT_DELIVERY_SHAPE.value,
        "recipients": recipients,
    }


def current_decision(project: Project) -> Decision | None:
    """The latest decision that no correction superseded."""
    return project.decisions.in_force().first()


def approved_specification(project: Project) -> dict[str, Any] | None:
    """What provisioning may execute: the current decision's specification, if favourable."""
    decision = current_decision(project)
    if decision is None or not decision.is_favourable:
        return None
    return decision.approved_specification


# --- Numbering ----------------------------------------------------------------------------

# Any constant: it serialises the numbering of decisions across processes.
_NUMBER_LOCK = 0x45445344  # "EDSD"


def next_decision_number(moment=None) -> str:
    """CSE-<year>-<NNN>, gap-free per year, in the caller's transaction.

    As for project references, a row lock cannot protect "the next number": on PostgreSQL an
    advisory lock held until commit serialises the numbering; SQLite writes one at a time.
    """
    connection = connections["default"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_NUMBER_LOCK])
    year = timezone.localtime(moment or timezone.now()).year
    prefix = f"CSE-{year}-"
    numbers = Decision.objects.filter(number__startswith=prefix).values_list("number", flat=True)
    last = max((int(n.rsplit("-", 1)[1]) for n in numbers), default=0)
    return f"{prefix}{last + 1:03d}"


# --- The written procedure ----------------------------------------------------------------

AGREEING = frozenset(
    {
        VoteChoice.FAVOURABLE,
        VoteChoice.FAVOURABLE_WITH_RECOMMENDATIONS,
        VoteChoice.CHANGES_REQUESTED,
        VoteChoice.UNFAVOURABLE,
    }
)


def active_rapporteurs(project: Project) -> list[Any]:
    return [
        assignment.member
        for assignment in RapporteurAssignment.objects.filter(
            project=project, removed_at__isnull=True
        ).select_related("member")
    ]


def open_procedure_reasons(project: Project, by: Any) -> list[str]:
    reasons: list[str] = []
    if not has_permission(by, Permission.DECIDE):
        return [_("Your role does not allow it.")]
    version = project.versions.order_by("-number").first()
    if project.review_status != ProjectStatus.UNDER_REVIEW:
        reasons.append(_("Only a project under review can be decided."))
    if version is None or not version.is_amendment:
        reasons.append(_("The written procedure is for amendments only."))
    elif WrittenProcedure.objects.filter(version=version).exists():
        reasons.append(_("A written procedure is already open for this version."))
    if AgendaItem.objects.filter(
        project=project,
        session__status__in=[SessionStatus.PLANNED, SessionStatus.OPEN],
        decided_at__isnull=True,
        deferred_at__isnull=True,
    ).exists():
        reasons.append(_("This project is on a session's agenda: the session decides."))
    if is_conflicted(by, project):
        reasons.append(_("You are conflicted on this project."))
    if len(active_rapporteurs(project)) < 2:
        reasons.append(_("The project needs two rapporteurs for the written procedure."))
    return reasons


@transaction.atomic
def open_written_procedure(*, project: Project, by: Any) -> WrittenProcedure:
    """The chair submits a minor amendment to the written procedure (chair + two rapporteurs)."""
    locked = Project.objects.select_for_update().get(pk=project.pk)
    reasons = open_procedure_reasons(locked, by)
    if reasons:
        raise Refused(reasons)
    version = locked.versions.order_by("-number").first()
    procedure = WrittenProcedure.objects.create(project=locked, version=version, opened_by=by)
    record_event(
        action="written_procedure.opened",
        actor=by,
        target=locked,
        after={"procedure": procedure.pk, "version": version.number},
    )
    rapporteurs = [r for r in active_rapporteurs(locked) if not is_conflicted(r, locked)]
    notify(
        rapporteurs,
        subject=Message(
            gettext_lazy("[%(ref)s] Written procedure: your opinion is requested"),
            ref=locked.reference,
        ),
        body=Message(
            gettext_lazy(
                "The chair submitted the amendment (version %(n)s) of project %(ref)s to the "
                "written procedure. As its rapporteur, give your written opinion on the portal."
            ),
            n=version.number,
            ref=locked.reference,
        ),
        url=reverse("written_procedure", args=[locked.pk]),
    )
    return procedure


def opinion_refusals(procedure: WrittenProcedure, member: Any) -> list[str]:
    project = procedure.project
    is_chair_member = has_role(member, Role.CHAIR)
    reasons: list[str] = []
    if not is_chair_member and member.pk not in {m.pk for m in active_rapporteurs(project)}:
        return [_("Only the chair and the project's rapporteurs give a written opinion.")]
    if procedure.closed_at is not None:
        reasons.append(_("This written procedure is closed."))
    if is_conflicted(member, project):
        reasons.append(_("You are conflicted on this project: you give no opinion on it."))
    elif declaration_of(member, project) is None:
        reasons.append(_("Declare your interests for this project first."))
    if procedure.agreements.filter(member=member).exists():
        reasons.append(_("You have already given your written opinion."))
    return reasons


@transaction.atomic
def record_written_opinion(
    *, procedure: WrittenProcedure, by: Any, choice: str
) -> WrittenAgreement:
    if choice not in VoteChoice.values:
        raise Refused([_("Choose one of the proposed opinions.")])
    Project.objects.select_for_update().get(pk=procedure.project_id)
    procedure = WrittenProcedure.objects.select_related("project", "version").get(pk=procedure.pk)
    reasons = opinion_refusals(procedure, by)
    if reasons:
        raise Refused(reasons)
    agreement = WrittenAgreement.objects.create(procedure=procedure, member=by, choice=choice)
    record_event(
        action="written_procedure.opinion",
        actor=by,
        target=procedure.project,
        after={"procedure": procedure.pk, "choice": choice},
    )
    return agreement


def procedure_state(procedure: WrittenProcedure) -> dict[str, Any]:
    """Who gave which opinion, and whether the chair may now decide (and on which opinion)."""
    project = procedure.project
    rapporteur_ids = {m.pk for m in active_rapporteurs(project)}
    agreements = list(procedure.agreements.select_related("member").order_by("agreed_at"))
    chair_opinion = next((a for a in agreements if has_role(a.member, Role.CHAIR)), None)
    rapporteur_opinions = [
        a
        for a in agreements
        if a.member_id in rapporteur_ids
        and (chair_opinion is None or a.pk != chair_opinion.pk)
        and not is_conflicted(a.member, project)
    ]
    reasons: list[str] = []
    agreed = None
    if procedure.closed_at is not None:
        reasons.append(_("This written procedure is closed."))
    if chair_opinion is None:
        reasons.append(_("The chair has not given a written opinion yet."))
    elif chair_opinion.choice not in AGREEING:
        reasons.append(_("The chair abstained: put the amendment on a session's agenda."))
    else:
        agreed = chair_opinion.choice
        concurring = [a for a in rapporteur_opinions if a.choice == agreed]
        differing = [a for a in rapporteur_opinions if a.choice != agreed]
        if differing:
            reasons.append(
                _("The written opinions differ: put the amendment on a session's agenda.")
            )
        elif len(concurring) < 2:
            reasons.append(
                _("%(n)s of the two rapporteurs' opinions needed so far.") % {"n": len(concurring)}
            )
    return {
        "agreements": agreements,
        "chair_opinion": chair_opinion,
        "rapporteur_opinions": rapporteur_opinions,
        "agreed": agreed if not reasons else None,
        "reasons": reasons,
    }


# --- Recording a decision -----------------------------------------------------------------

TRANSITION_FOR = {
    Recommendation.FAVOURABLE: "approve",
    Recommendation.FAVOURABLE_WITH_RECOMMENDATIONS: "approve",
    Recommendation.CHANGES_REQUESTED: "request_changes",
    Recommendation.UNFAVOURABLE: "reject",
}


AMENDMENT_TRANSITION_FOR = {
    Recommendation.FAVOURABLE: "approve_amendment",
    Recommendation.FAVOURABLE_WITH_RECOMMENDATIONS: "approve_amendment",
    Recommendation.CHANGES_REQUESTED: "request_amendment_changes",
    Recommendation.UNFAVOURABLE: "refuse_amendment",
}


def _decides_an_amendment(project: Project, version: ProtocolVersion) -> bool:
    """Whether the decision is on an amendment (its version, submitted as one)."""
    return (
        version.is_amendment and Amendment.objects.filter(project=project, version=version).exists()
    )


def _text_reasons(opinion: str, reasons: str, recommendations: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if opinion not in Recommendation.values:
        errors["opinion"] = [_("Choose the commission's opinion.")]
    if not reasons:
        errors["reasons"] = [
            _("List the changes the team must make.")
            if opinion == Recommendation.CHANGES_REQUESTED
            else _("Give the reasons for the opinion.")
        ]
    if opinion == Recommendation.FAVOURABLE_WITH_RECOMMENDATIONS and not recommendations:
        errors["recommendations"] = [_("Write the recommendations.")]
    return errors


class DecisionRefused(Refused):
    """``field_errors``: per form field ("opinion", "reasons", a variable code...)."""

    def __init__(self, reasons: list[str], field_errors: dict[str, list[str]] | None = None):
        flat = list(reasons)
        for messages in (field_errors or {}).values():
            flat.extend(messages)
        super().__init__(flat)
        self.general = list(reasons)
        self.field_errors = field_errors or {}


def _procedure_and_version(
    locked: Project,
    by: Any,
    opinion: str,
    agenda_item: AgendaItem | None,
    written_procedure: WrittenProcedure | None,
    supersedes: Decision | None,
) -> tuple[ProtocolVersion | None, dict[str, Any], list[str], Any]:
    """The version decided on, the tally to keep, every reason against, and the locked source."""
    reasons: list[str] = []
    kept_tally: dict[str, Any] = {}
    latest = locked.versions.order_by("-number").first()
    given = [x for x in (agenda_item, written_procedure, supersedes) if x is not None]
    if len(given) != 1:
        return (
            None,
            {},
            [
                _(
                    "A decision is taken in a session, by written procedure, or "
                    "corrects a previous decision: name exactly one."
                )
            ],
            None,
        )
    if agenda_item is not None:
        item = (
            AgendaItem.objects.select_for_update()
            .select_related("session", "version", "project")
            .get(pk=agenda_item.pk)
        )
        if item.project_id != locked.pk:
            return None, {}, [_("This agenda item is about another project.")], None
        if item.session.status != SessionStatus.OPEN:
            reasons.append(_("The session is not open."))
        else:
            reasons.extend(quorum_reasons(item.session))
        if item.decided_at or item.deferred_at:
            reasons.append(_("This item is already decided or deferred."))
        result = tally(item)
        if locked.review_status != ProjectStatus.UNDER_REVIEW:
            reasons.append(_("Only a project under review can be decided."))
        # The attendance and the quorum too, as they stand now: the letter states them.
        kept_tally = {
            "procedure": "session",
            "session": item.session_id,
            **tally_record(result),
            **attendance_record(item.session),
        }
        version = item.version
        source = item
    elif written_procedure is not None:
        procedure = WrittenProcedure.objects.select_related("version", "project").get(
            pk=written_procedure.pk
        )
        if procedure.project_id != locked.pk:
            return None, {}, [_("This written procedure is about another project.")], None
        if Decision.objects.filter(written_procedure=procedure).exists():
            reasons.append(_("This written procedure is already decided."))
        state = procedure_state(procedure)
        reasons.extend(state["reasons"])
        if state["agreed"] and state["agreed"] != opinion:
            reasons.append(
                _("The opinion must be the one the chair and the rapporteurs agreed: %(choice)s.")
                % {"choice": VoteChoice(state["agreed"]).label}
            )
        if locked.review_status != ProjectStatus.UNDER_REVIEW:
            reasons.append(_("Only a project under review can be decided."))
        opinions: dict[str, int] = {}
        for agreement in state["agreements"]:
            opinions[agreement.choice] = opinions.get(agreement.choice, 0) + 1
        kept_tally = {"procedure": "written", "opinions": opinions}
        version = procedure.version
        source = procedure
    else:
        previous = Decision.objects.select_related("version").get(pk=supersedes.pk)
        if previous.project_id != locked.pk:
            return None, {}, [_("This decision is about another project.")], None
        current = current_decision(locked)
        if current is None or current.pk != previous.pk:
            reasons.append(_("Only the project's current decision can be corrected."))
        kept_tally = {**previous.tally, "procedure": "correction", "corrects": previous.number}
        version = previous.version
        source = previous
    if latest is None or version.pk != latest.pk:
        reasons.append(_("A newer version was submitted: decide on the version under review."))
    return version, kept_tally, reasons, source


def _no_vote_errors(
    agenda_item: AgendaItem | None,
    version: ProtocolVersion | None,
    kept_tally: dict[str, Any],
    no_vote_reason: str,
) -> dict[str, list[str]]:
    """A session decides after a vote, or says why nobody voted; nothing else takes a reason."""
    if agenda_item is None:
        if no_vote_reason:
            return {
                "no_vote_reason": [
                    _("Only a decision taken in a session says why no vote was held.")
                ]
            }
        return {}
    if version is None:
        return {}
    if kept_tally.get("cast") == 0 and not no_vote_reason:
        return {
            "no_vote_reason": [
                _(
                    "No vote has been cast on this item: say why the commission decides "
                    "without a vote (for instance, a written procedure), or let the members vote."
                )
            ]
        }
    if kept_tally.get("cast") and no_vote_reason:
        return {
            "no_vote_reason": [
                _("Votes were cast on this item: a decision without a vote does not apply.")
            ]
        }
    return {}


def _decision_note(project: Project, decision: Decision) -> Paragraphs:
    """What the team's one message about the new status adds: the decision and its letter."""
    letter = absolute(reverse("decision_letter", args=[project.pk, decision.pk]))
    text = Message(
        gettext_lazy(
            "The commission's opinion on version %(n)s of “%(title)s” is recorded as decision "
            "%(number)s: %(opinion)s. The signed letter, with the reasons and the decision on "
            "each variable, is on the portal (printable, and as a PDF)."
        ),
        n=decision.version.number,
        title=project.title,
        number=decision.number,
        opinion=Recommendation(decision.opinion).label,
    )
    return Paragraphs(text, letter)


@transaction.atomic
def record_decision(
    *,
    project: Project,
    by: Any,
    opinion: str,
    reasons: str,
    recommendations: str = "",
    conditions: str = "",
    variable_decisions: dict[str, dict],
    agenda_item: AgendaItem | None = None,
    written_procedure: WrittenProcedure | None = None,
    supersedes: Decision | None = None,
    no_vote_reason: str = "",
) -> Decision:
    """The chair records the commission's opinion and fires the matching transition.

    In a session, the vote on the item is closed with the decision (if the chair had not closed
    it). A session decides after a vote: on an item on which nobody voted, only with
    ``no_vote_reason`` (for instance "procédure écrite"), kept on the decision, in its audit
    event and in its letter.
    """
    if not has_permission(by, Permission.DECIDE):
        raise DecisionRefused([_("Your role does not allow it.")])
    locked = Project.objects.select_for_update().get(pk=project.pk)
    reasons = (reasons or "").strip()
    recommendations = (recommendations or "").strip()
    conditions = (conditions or "").strip()
    no_vote_reason = (no_vote_reason or "").strip()
    field_errors = _text_reasons(opinion, reasons, recommendations)
    version, kept_tally, general, source = _procedure_and_version(
        locked, by, opinion, agenda_item, written_procedure, supersedes
    )
    field_errors.update(_no_vote_errors(agenda_item, version, kept_tally, no_vote_reason))
    if is_conflicted(by, locked):
        general.append(_("You are conflicted on this project: you cannot sign its decision."))
    decided: list[dict[str, str]] = []
    if version is not None:
        decided, variable_errors = check_variable_decisions(version, variable_decisions or {})
        if "" in variable_errors:
            general.extend(variable_errors.pop(""))
        field_errors.update(variable_errors)
    if general or field_errors:
        raise DecisionRefused(general, field_errors)
    if agenda_item is not None and source.vote_closed_at is None:
        close_locked_vote(source, by)
    now = timezone.now()
    specification = build_specification(version, opinion, decided)
    decision = Decision.objects.create(
        number=next_decision_number(now),
        project=locked,
        version=version,
        opinion=opinion,
        reasons=reasons,
        recommendations=recommendations,
        conditions=conditions,
        approved_specification=specification,
        agenda_item=agenda_item,
        written_procedure=written_procedure,
        tally=kept_tally,
        no_vote_reason=no_vote_reason,
        decided_at=now,
        signed_by=by,
        supersedes=supersedes,
    )
    # The file is decided: external experts' grants on it end (audited).
    from projects.models import ExpertGrantEnd
    from projects.review.experts import end_expert_grants

    end_expert_grants(project=locked, reason=ExpertGrantEnd.FILE_DECIDED, by=by)
    if agenda_item is not None:
        AgendaItem.objects.filter(pk=source.pk).update(decided_at=now)
    if written_procedure is not None:
        WrittenProcedure.objects.filter(pk=source.pk).update(closed_at=now)
    # One message to the team: the new status, with the decision and its letter as the note.
    if _decides_an_amendment(locked, version):
        # GOV-13: the project's status stays; the amendment's changes (a favourable decision
        # becomes the decision in force, any other leaves the former one).
        workflow.fire_amendment(
            locked,
            AMENDMENT_TRANSITION_FOR[opinion],
            by=by,
            decision=decision,
            details={"decision": decision.number, "opinion": opinion},
            team_note=_decision_note(locked, decision),
        )
    else:
        workflow.fire(
            locked,
            TRANSITION_FOR[opinion],
            by=by,
            details={"decision": decision.number, "opinion": opinion},
            team_note=_decision_note(locked, decision),
        )
    record_event(
        action="decision.recorded",
        actor=by,
        target=locked,
        after={
            "number": decision.number,
            "opinion": opinion,
            "version": version.number,
            "specification_sha256": decision.specification_sha256,
            "procedure": kept_tally.get("procedure"),
            "supersedes": supersedes.number if supersedes else None,
            "no_vote_reason": no_vote_reason,
        },
    )
    return decision
