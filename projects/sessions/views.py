"""Pages of the commission's sessions, votes, written procedure and decisions.

Thin views: forms validate what was typed, the actions (``actions.py``, ``decisions.py``) check
the rules and write. Sessions are the commission's business: the research team never sees them;
it reads its decisions (the letter) on the project's page.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from eds_portal.authz import Permission, get_object_for_user, has_permission, has_role
from eds_portal.roles import Role
from eds_portal.views.base import PermissionView
from projects.conflicts import (
    automatic_conflict,
    conflicted_projects,
    declaration_of,
    declarations_of,
)
from projects.models import (
    AgendaItem,
    CommissionSession,
    Decision,
    Project,
    SessionStatus,
    TeamMembership,
    WrittenProcedure,
)
from projects.reading import version_request
from projects.sessions import actions, decisions
from projects.sessions.forms import (
    AgendaAddForm,
    AttendanceForm,
    CorrectionForm,
    DecisionForm,
    SessionForm,
    VoteForm,
    WrittenOpinionForm,
)
from projects.sessions.letters import letter_context, letter_pdf
from projects.sessions.quorum import commission_members, quorum_reasons


def _refusal_messages(request: HttpRequest, refused: Exception) -> None:
    for reason in getattr(refused, "reasons", [str(refused)]):
        messages.error(request, reason)


class SessionView(PermissionView):
    """A page about one session: 404 when it does not exist."""

    permission = Permission.VIEW_SESSIONS

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and has_permission(request.user, self.permission):
            self.session = CommissionSession.objects.filter(pk=kwargs["session_id"]).first()
            if self.session is None:
                raise Http404
        return super().dispatch(request, *args, **kwargs)


class ItemView(SessionView):
    """A page about one agenda item: 404 when it does not exist or the user may not know it.

    The item's object rules (``projects/sessions/permissions.py``) give a member conflicted on
    the project the same 404 as the file itself, for the page, the vote, closing the vote, the
    decision and the deferral alike.
    """

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and has_permission(request.user, self.permission):
            self.item = get_object_for_user(
                request.user,
                AgendaItem.objects.select_related("session", "project", "version").filter(
                    session_id=kwargs["session_id"]
                ),
                kwargs["item_id"],
                self.permission,
            )
        return super().dispatch(request, *args, **kwargs)


# --- Sessions ------------------------------------------------------------------------------


class SessionListView(PermissionView):
    permission = Permission.VIEW_SESSIONS
    template_name = "projects/sessions/session_list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        sessions = list(
            CommissionSession.objects.annotate(
                item_count=Count("items", distinct=True),
                present_count=Count(
                    "attendance", filter=Q(attendance__present=True), distinct=True
                ),
            ).order_by("-date")
        )
        now = timezone.now()
        upcoming = [s for s in sessions if s.status != SessionStatus.CLOSED and s.date >= now]
        upcoming.sort(key=lambda s: s.date)
        current = [s for s in sessions if s.status == SessionStatus.OPEN and s.date < now]
        past = [s for s in sessions if s not in upcoming and s not in current]
        return TemplateResponse(
            request,
            self.template_name,
            {
                "active": current + upcoming,
                "past": past,
                "can_manage": has_permission(request.user, Permission.MANAGE_SESSIONS),
            },
        )


class SessionCreateView(PermissionView):
    permission = Permission.MANAGE_SESSIONS
    template_name = "projects/sessions/session_form.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return TemplateResponse(request, self.template_name, {"form": SessionForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = SessionForm(request.POST)
        if not form.is_valid():
            return TemplateResponse(request, self.template_name, {"form": form}, status=400)
        session = actions.create_session(
            by=request.user, date=form.cleaned_data["date"], place=form.cleaned_data["place"]
        )
        messages.success(
            request, _("Session created. Put the projects under review on its agenda.")
        )
        return redirect("session_detail", session_id=session.pk)


class SessionEditView(SessionView):
    permission = Permission.MANAGE_SESSIONS
    template_name = "projects/sessions/session_form.html"

    def get(self, request: HttpRequest, session_id: int) -> HttpResponse:
        form = SessionForm(
            initial={"date": timezone.localtime(self.session.date), "place": self.session.place}
        )
        return TemplateResponse(
            request, self.template_name, {"form": form, "session": self.session}
        )

    def post(self, request: HttpRequest, session_id: int) -> HttpResponse:
        form = SessionForm(request.POST)
        if form.is_valid():
            try:
                actions.update_session(
                    session=self.session,
                    by=request.user,
                    date=form.cleaned_data["date"],
                    place=form.cleaned_data["place"],
                )
            except actions.Refused as refused:
                for reason in refused.reasons:
                    form.add_error(None, reason)
            else:
                messages.success(request, _("Session updated."))
                return redirect("session_detail", session_id=session_id)
        return TemplateResponse(
            request, self.template_name, {"form": form, "session": self.session}, status=400
        )


def _readable_projects(user, projects: list[Project], declared: dict[int, bool]) -> set[int]:
    """Which of these projects the user may open (``declared``: ``declarations_of``)."""
    if has_role(user, Role.SECRETARIAT, Role.DPO):
        return {p.pk for p in projects}
    return {
        p.pk for p in projects if declared.get(p.pk) is False and not automatic_conflict(user, p)
    }


class SessionDetailView(SessionView):
    template_name = "projects/sessions/session_detail.html"

    def get(self, request: HttpRequest, session_id: int) -> HttpResponse:
        session = self.session
        items = list(
            session.items.select_related("project", "version")
            .prefetch_related(
                Prefetch(
                    "project__memberships",
                    queryset=TeamMembership.objects.select_related("user"),
                )
            )
            .annotate(vote_count=Count("votes"))
            .order_by("position", "pk")
        )
        decided = {
            d.agenda_item_id: d
            for d in Decision.objects.filter(agenda_item__in=items).only(
                "pk", "number", "opinion", "agenda_item_id", "project_id"
            )
        }
        user = request.user
        projects = [i.project for i in items]
        declared = declarations_of(user, projects)
        readable = _readable_projects(user, projects, declared)
        # A conflicted member sees the agenda line (the public title, as on the declaration
        # page) but no link to the item, which answers 404 to them, and none of its votes.
        conflicted = (
            set()
            if has_role(user, Role.SECRETARIAT)
            else conflicted_projects(user, projects, declared)
        )
        can_manage = has_permission(user, Permission.MANAGE_SESSIONS)
        rows = [
            {
                "item": item,
                "decision": decided.get(item.pk),
                "readable": item.project_id in readable,
                "openable": item.project_id not in conflicted,
                # Votes cast, for those who follow the progress (the chair, the secretariat)
                # and for everyone once the vote is closed; never for the conflicted.
                "vote_count": item.vote_count
                if item.project_id not in conflicted
                and (can_manage or actions.vote_is_closed(item))
                else None,
            }
            for item in items
        ]
        attendance = list(session.attendance.select_related("member").order_by("member__full_name"))
        planned = session.status == SessionStatus.PLANNED
        candidates = actions.agenda_candidates() if can_manage and planned else []
        return TemplateResponse(
            request,
            self.template_name,
            {
                "session": session,
                "rows": rows,
                "attendance": attendance,
                "present_count": sum(1 for a in attendance if a.present),
                "quorum_reasons": quorum_reasons(session),
                "can_manage": can_manage,
                "can_open": has_permission(user, Permission.OPEN_SESSION) and planned,
                "can_close": has_permission(user, Permission.OPEN_SESSION)
                and session.status == SessionStatus.OPEN,
                "close_reasons": actions.close_reasons(session)
                if session.status == SessionStatus.OPEN
                else [],
                "agenda_form": AgendaAddForm(candidates=candidates) if candidates else None,
                "planned": planned,
            },
        )


class AgendaAddView(SessionView):
    permission = Permission.MANAGE_SESSIONS

    def post(self, request: HttpRequest, session_id: int) -> HttpResponse:
        form = AgendaAddForm(request.POST, candidates=actions.agenda_candidates())
        if not form.is_valid():
            messages.error(request, _("Choose a project under review."))
            return redirect("session_detail", session_id=session_id)
        project = Project.objects.get(pk=form.cleaned_data["project"])
        try:
            actions.add_to_agenda(session=self.session, project=project, by=request.user)
        except actions.Refused as refused:
            _refusal_messages(request, refused)
        else:
            messages.success(request, _("%(ref)s put on the agenda.") % {"ref": project.reference})
        return redirect("session_detail", session_id=session_id)


class AgendaMoveView(ItemView):
    permission = Permission.MANAGE_SESSIONS

    def post(self, request: HttpRequest, session_id: int, item_id: int) -> HttpResponse:
        try:
            actions.move_agenda_item(
                item=self.item, by=request.user, up=request.POST.get("direction") != "down"
            )
        except actions.Refused as refused:
            _refusal_messages(request, refused)
        return redirect("session_detail", session_id=session_id)


class AgendaRemoveView(ItemView):
    permission = Permission.MANAGE_SESSIONS

    def post(self, request: HttpRequest, session_id: int, item_id: int) -> HttpResponse:
        try:
            actions.remove_from_agenda(item=self.item, by=request.user)
        except actions.Refused as refused:
            _refusal_messages(request, refused)
        else:
            messages.success(request, _("Removed from the agenda."))
        return redirect("session_detail", session_id=session_id)


class ConveneView(SessionView):
    permission = Permission.MANAGE_SESSIONS

    def post(self, request: HttpRequest, session_id: int) -> HttpResponse:
        try:
            count = actions.convene_session(session=self.session, by=request.user)
        except actions.Refused as refused:
            _refusal_messages(request, refused)
        else:
            messages.success(
                request,
                ngettext(
                    "Convocation sent to %(count)s commission member.",
                    "Convocation sent to %(count)s commission members.",
                    count,
                )
                % {"count": count},
            )
        return redirect("session_detail", session_id=session_id)


class AttendanceView(SessionView):
    permission = Permission.MANAGE_SESSIONS
    template_name = "projects/sessions/attendance.html"

    def _form(self, data=None) -> AttendanceForm:
        recorded = dict(self.session.attendance.values_list("member_id", "present"))
        return AttendanceForm(data, members=list(commission_members()), recorded=recorded)

    def _render(self, request, form, status=200):
        return TemplateResponse(
            request,
            self.template_name,
            {"session": self.session, "form": form, "quorum_reasons": quorum_reasons(self.session)},
            status=status,
        )

    def get(self, request: HttpRequest, session_id: int) -> HttpResponse:
        return self._render(request, self._form())

    def post(self, request: HttpRequest, session_id: int) -> HttpResponse:
        form = self._form(request.POST)
        if form.is_valid():
            try:
                actions.record_attendance(
                    session=self.session, by=request.user, presence=form.presence()
                )
            except actions.Refused as refused:
                for reason in refused.reasons:
                    form.add_error(None, reason)
            else:
                messages.success(request, _("Attendance recorded."))
                return redirect("session_detail", session_id=session_id)
        return self._render(request, form, status=400)


class OpenSessionView(SessionView):
    permission = Permission.OPEN_SESSION

    def post(self, request: HttpRequest, session_id: int) -> HttpResponse:
        try:
            actions.open_session(session=self.session, by=request.user)
        except actions.Refused as refused:
            _refusal_messages(request, refused)
        else:
            messages.success(request, _("Session opened: members present may vote."))
        return redirect("session_detail", session_id=session_id)


class CloseSessionView(SessionView):
    permission = Permission.OPEN_SESSION

    def post(self, request: HttpRequest, session_id: int) -> HttpResponse:
        try:
            actions.close_session(session=self.session, by=request.user)
        except actions.Refused as refused:
            _refusal_messages(request, refused)
        else:
            messages.success(request, _("Session closed."))
        return redirect("session_detail", session_id=session_id)


# --- Agenda items: votes, deferral, decision -------------------------------------------------


class AgendaItemView(ItemView):
    template_name = "projects/sessions/agenda_item.html"

    def _render(self, request, form=None, status=200):
        item, user = self.item, request.user
        refusals = actions.vote_refusals(item, user)
        automatic = automatic_conflict(user, item.project)
        declaration = declaration_of(user, item.project)
        decision = Decision.objects.filter(agenda_item=item).first()
        can_decide = (
            has_permission(user, Permission.DECIDE, item)
            and decision is None
            and item.deferred_at is None
            and item.session.status == SessionStatus.OPEN
        )
        readable = automatic is None and declaration is not None and not declaration.has_interest
        tally = actions.visible_tally(item, user)
        return TemplateResponse(
            request,
            self.template_name,
            {
                "session": item.session,
                "item": item,
                "project": item.project,
                "tally": tally,
                "vote_form": (form or VoteForm()) if not refusals else None,
                "refusals": refusals,
                "must_declare": automatic is None and declaration is None,
                "readable": readable,
                "my_vote": tally["mine"],
                "decision": decision,
                "can_decide": can_decide,
                "can_close_vote": can_decide and item.vote_closed_at is None,
                # What is voted on, for those who may read the version (the facade decides).
                "data_request": version_request(item.version)
                if has_permission(user, Permission.VIEW_PROJECT, item.project)
                else None,
            },
            status=status,
        )

    def get(self, request: HttpRequest, session_id: int, item_id: int) -> HttpResponse:
        return self._render(request)


class VoteView(AgendaItemView):
    permission = Permission.VOTE

    def get(self, request, session_id, item_id):
        return redirect("agenda_item", session_id=session_id, item_id=item_id)

    def post(self, request: HttpRequest, session_id: int, item_id: int) -> HttpResponse:
        form = VoteForm(request.POST)
        if form.is_valid():
            try:
                actions.cast_vote(
                    item=self.item, by=request.user, choice=form.cleaned_data["choice"]
                )
            except actions.Refused as refused:
                _refusal_messages(request, refused)
                return redirect("agenda_item", session_id=session_id, item_id=item_id)
            messages.success(request, _("Your vote is recorded."))
            return redirect("agenda_item", session_id=session_id, item_id=item_id)
        return self._render(request, form, status=400)


class CloseVoteView(ItemView):
    permission = Permission.DECIDE

    def post(self, request: HttpRequest, session_id: int, item_id: int) -> HttpResponse:
        try:
            actions.close_vote(item=self.item, by=request.user)
        except actions.Refused as refused:
            _refusal_messages(request, refused)
        else:
            messages.success(request, _("Vote closed: the tally is shown to the commission."))
        return redirect("agenda_item", session_id=session_id, item_id=item_id)


class DeferView(ItemView):
    permission = Permission.DECIDE

    def post(self, request: HttpRequest, session_id: int, item_id: int) -> HttpResponse:
        try:
            actions.defer_item(item=self.item, by=request.user)
        except actions.Refused as refused:
            _refusal_messages(request, refused)
        else:
            messages.success(request, _("Item deferred to a later session."))
        return redirect("session_detail", session_id=session_id)


def _decision_page(request, template, form, context, status=200):
    proposals = decisions.rapporteur_verdicts(form.version)
    return TemplateResponse(
        request,
        template,
        {
            "form": form,
            "rows": form.variable_rows(proposals),
            # The chair signs the cohort, the access and the recipients too: shown with them.
            "data_request": version_request(form.version),
            **context,
        },
        status=status,
    )


def _record_from_form(request, form, project, **where):
    try:
        return decisions.record_decision(
            project=project,
            by=request.user,
            opinion=form.cleaned_data["opinion"],
            reasons=form.cleaned_data["reasons"],
            recommendations=form.cleaned_data["recommendations"],
            conditions=form.cleaned_data["conditions"],
            variable_decisions=form.variable_decisions(),
            no_vote_reason=form.cleaned_data.get("no_vote_reason", ""),
            **where,
        )
    except actions.Refused as refused:
        form.add_refusal(refused)
        return None


class DecideItemView(ItemView):
    permission = Permission.DECIDE
    template_name = "projects/decisions/decision_form.html"

    def _context(self):
        tally = actions.visible_tally(self.item, self.request.user)
        return {
            "project": self.item.project,
            "version": self.item.version,
            "item": self.item,
            "session": self.item.session,
            "tally": tally,
            # Recording the decision closes the vote; until then its counts stay hidden.
            "vote_open": not tally["closed"],
            "ask_no_vote_reason": tally["cast"] == 0,
            "cancel_url": self.request.path.rsplit("decide/", 1)[0],
        }

    def get(self, request: HttpRequest, session_id: int, item_id: int) -> HttpResponse:
        form = DecisionForm(
            version=self.item.version, prefill=decisions.prefilled_verdicts(self.item.version)
        )
        return _decision_page(request, self.template_name, form, self._context())

    def post(self, request: HttpRequest, session_id: int, item_id: int) -> HttpResponse:
        form = DecisionForm(request.POST, version=self.item.version)
        if form.is_valid():
            decision = _record_from_form(request, form, self.item.project, agenda_item=self.item)
            if decision is not None:
                messages.success(
                    request, _("Decision %(number)s recorded.") % {"number": decision.number}
                )
                return redirect("decision_letter", pk=decision.project_id, decision_id=decision.pk)
        return _decision_page(request, self.template_name, form, self._context(), status=400)


# --- Project-level pages: the written procedure and the decisions ---------------------------


class ProjectCommissionView(PermissionView):
    """A commission page about one project: 404 for those who may not read the file."""

    permission = Permission.VOTE

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if has_permission(request.user, self.permission):
            self.project = get_object_for_user(
                request.user, Project, kwargs["pk"], Permission.VIEW_PROJECT
            )
        return super().dispatch(request, *args, **kwargs)


class WrittenProcedureView(ProjectCommissionView):
    template_name = "projects/decisions/written_procedure.html"

    def _procedure(self) -> WrittenProcedure | None:
        version = self.project.versions.order_by("-number").first()
        return (
            WrittenProcedure.objects.select_related("version", "project")
            .filter(project=self.project, version=version)
            .first()
        )

    def _render(self, request, form=None, status=200):
        user = request.user
        procedure = self._procedure()
        state = decisions.procedure_state(procedure) if procedure else None
        refusals = decisions.opinion_refusals(procedure, user) if procedure else []
        mine = (
            next((a for a in state["agreements"] if a.member_id == user.pk), None)
            if state
            else None
        )
        chair = has_permission(user, Permission.DECIDE)
        # Written opinions are votes: each participant sees their own; the others' (and what
        # follows from them) once the procedure is decided, or by the chair who decides it once
        # the chair's own opinion is given (before it, the state names no rapporteur's choice).
        show_opinions = procedure is not None and (
            procedure.closed_at is not None or (chair and mine is not None)
        )
        return TemplateResponse(
            request,
            self.template_name,
            {
                "project": self.project,
                "procedure": procedure,
                "state": state,
                "my_opinion": mine,
                "show_opinions": show_opinions,
                "show_reasons": show_opinions or chair,
                "open_reasons": decisions.open_procedure_reasons(self.project, user)
                if procedure is None
                else [],
                "can_open": procedure is None and has_permission(user, Permission.DECIDE),
                "opinion_form": (form or WrittenOpinionForm())
                if procedure and not refusals
                else None,
                "refusals": refusals,
                "can_decide": bool(state and state["agreed"])
                and has_permission(user, Permission.DECIDE),
                "decision": Decision.objects.filter(written_procedure=procedure).first()
                if procedure
                else None,
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render(request)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.POST.get("action") == "open":
            if not has_permission(request.user, Permission.DECIDE):
                raise PermissionDenied
            try:
                decisions.open_written_procedure(project=self.project, by=request.user)
            except actions.Refused as refused:
                _refusal_messages(request, refused)
            else:
                messages.success(
                    request, _("Written procedure opened; the rapporteurs have been asked.")
                )
            return redirect("written_procedure", pk=pk)
        procedure = self._procedure()
        if procedure is None:
            raise Http404
        form = WrittenOpinionForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        try:
            decisions.record_written_opinion(
                procedure=procedure, by=request.user, choice=form.cleaned_data["choice"]
            )
        except actions.Refused as refused:
            _refusal_messages(request, refused)
        else:
            messages.success(request, _("Your written opinion is recorded."))
        return redirect("written_procedure", pk=pk)


class WrittenDecideView(ProjectCommissionView):
    permission = Permission.DECIDE
    template_name = "projects/decisions/decision_form.html"

    def dispatch(self, request, *args, **kwargs):
        response = None
        if request.user.is_authenticated and has_permission(request.user, self.permission):
            project = Project.objects.filter(pk=kwargs["pk"]).first()
            version = project.versions.order_by("-number").first() if project else None
            self.procedure = WrittenProcedure.objects.filter(
                project=project, version=version
            ).first()
            if self.procedure is None:
                raise Http404
        response = super().dispatch(request, *args, **kwargs)
        return response

    def _context(self):
        state = decisions.procedure_state(self.procedure)
        return {
            "project": self.project,
            "version": self.procedure.version,
            "procedure": self.procedure,
            "state": state,
            "cancel_url": self.request.path.rsplit("decide/", 1)[0],
        }

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = self.procedure.version
        state = decisions.procedure_state(self.procedure)
        form = DecisionForm(
            version=version,
            prefill=decisions.prefilled_verdicts(version),
            initial={"opinion": state["agreed"]} if state["agreed"] else None,
        )
        return _decision_page(request, self.template_name, form, self._context())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = DecisionForm(request.POST, version=self.procedure.version)
        if form.is_valid():
            decision = _record_from_form(
                request, form, self.project, written_procedure=self.procedure
            )
            if decision is not None:
                messages.success(
                    request, _("Decision %(number)s recorded.") % {"number": decision.number}
                )
                return redirect("decision_letter", pk=pk, decision_id=decision.pk)
        return _decision_page(request, self.template_name, form, self._context(), status=400)


class DecisionView(PermissionView):
    """A decision of a project: 404 for whoever may not read it (object rule VIEW_DECISION)."""

    permission = Permission.VIEW_DECISION

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and has_permission(request.user, self.permission):
            decision = (
                Decision.objects.select_related(
                    "project", "version", "signed_by", "agenda_item__session"
                )
                .filter(project_id=kwargs["pk"], pk=kwargs["decision_id"])
                .first()
            )
            if decision is None or not has_permission(
                request.user, Permission.VIEW_DECISION, decision
            ):
                raise Http404
            self.decision = decision
        return super().dispatch(request, *args, **kwargs)


class DecisionLetterView(DecisionView):
    """The signed letter, printable (print stylesheet); the same as the PDF."""

    template_name = "projects/decisions/letter.html"

    def get(self, request: HttpRequest, pk: int, decision_id: int) -> HttpResponse:
        decision = self.decision
        context = letter_context(decision)
        context.update(
            {
                "for_pdf": False,
                "superseded_by": Decision.objects.filter(supersedes=decision).first(),
                "can_read_version": has_permission(
                    request.user, Permission.VIEW_PROJECT, decision.project
                ),
                "can_correct": has_permission(request.user, Permission.DECIDE)
                and decisions.current_decision(decision.project) == decision,
            }
        )
        return TemplateResponse(request, self.template_name, context)


class DecisionLetterPdfView(DecisionView):
    def get(self, request: HttpRequest, pk: int, decision_id: int) -> HttpResponse:
        from eds_portal.audit import record_event

        pdf = letter_pdf(self.decision)
        record_event(
            action="decision.letter_downloaded",
            actor=request.user,
            target=self.decision.project,
            after={"number": self.decision.number},
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{self.decision.number}.pdf"'
        return response


class DecisionCorrectView(DecisionView):
    permission = Permission.DECIDE
    template_name = "projects/decisions/decision_form.html"

    def _context(self):
        return {
            "project": self.decision.project,
            "version": self.decision.version,
            "corrects": self.decision,
            "cancel_url": self.request.path.rsplit("correct/", 1)[0],
        }

    def _prefill(self):
        return {
            entry["code"]: {
                "verdict": entry["verdict"],
                "generalisation": entry["generalisation"] if entry["verdict"] == "coarser" else "",
                "reason": entry.get("reason", ""),
            }
            for entry in self.decision.approved_specification.get("decisions", [])
        }

    def get(self, request: HttpRequest, pk: int, decision_id: int) -> HttpResponse:
        d = self.decision
        form = CorrectionForm(
            version=d.version,
            prefill=self._prefill(),
            initial={
                "opinion": d.opinion,
                "recommendations": d.recommendations,
                "conditions": d.conditions,
            },
        )
        return _decision_page(request, self.template_name, form, self._context())

    def post(self, request: HttpRequest, pk: int, decision_id: int) -> HttpResponse:
        form = CorrectionForm(request.POST, version=self.decision.version)
        if form.is_valid():
            decision = _record_from_form(
                request, form, self.decision.project, supersedes=self.decision
            )
            if decision is not None:
                messages.success(
                    request,
                    _("Decision %(number)s recorded; it supersedes %(old)s.")
                    % {"number": decision.number, "old": self.decision.number},
                )
                return redirect("decision_letter", pk=pk, decision_id=decision.pk)
        return _decision_page(request, self.template_name, form, self._context(), status=400)
