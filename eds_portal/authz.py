"""The authorization facade: the one place that says who may do what.

Views, the API, templates (``{% if perms_eds.VIEW_AUDIT_TRAIL %}``) and tasks all call
``has_permission(user, Permission.X, obj=None)``.

- Without ``obj``: the permission follows from the user's roles (``ROLE_GRANTS``).
- With ``obj``: the roles must grant it too; then they may grant it on every object
  (``ObjectRule.roles_on_all``), or an object rule registered by the app that owns the model
  decides (for instance "member of the project's team"), and django-guardian per-object grants
  are honoured.
- One exception to "a role first": an *object grant* (``register_object_grant``), a
  django-guardian permission given to one person on one object, stands for the role on that
  object only, under the rule's condition. External experts review one file this way
  (projects/review/experts.py), with no role that reaches any other object. The action that
  gives such a grant also ends it; deactivating the account ends it at once.

Superusers get nothing for free: administering the site is not a reason to read patient data.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eds_portal.roles import COMMISSION_ROLES, Role


class Permission(enum.StrEnum):
    """Everything the facade can be asked. Values are stable: tests and templates name them."""

    VIEW_HOME = "view_home"
    VIEW_AUDIT_TRAIL = "view_audit_trail"
    EXPORT_AUDIT_TRAIL = "export_audit_trail"
    USE_API = "use_api"
    MATCH_IDENTITIES = "match_identities"
    VIEW_CATALOGUE = "view_catalogue"
    RUN_FEASIBILITY_COUNT = "run_feasibility_count"
    VIEW_FEASIBILITY_LOG = "view_feasibility_log"
    CREATE_PROJECT = "create_project"
    VIEW_PROJECT = "view_project"
    EDIT_PROJECT = "edit_project"
    MANAGE_TEAM = "manage_team"
    SUBMIT_PROJECT = "submit_project"
    CHECK_ADMISSIBILITY = "check_admissibility"
    DECLARE_INTEREST = "declare_interest"
    DECIDE_INTEREST_WITHDRAWAL = "decide_interest_withdrawal"
    ASSIGN_RAPPORTEURS = "assign_rapporteurs"
    REVIEW_PROJECT = "review_project"
    READ_REVIEWS = "read_reviews"
    ASK_QUESTION = "ask_question"
    ANSWER_QUESTION = "answer_question"
    VIEW_SESSIONS = "view_sessions"
    MANAGE_SESSIONS = "manage_sessions"
    OPEN_SESSION = "open_session"
    VOTE = "vote"
    FOLLOW_VOTES = "follow_votes"
    DECIDE = "decide"
    VIEW_DECISION = "view_decision"
    VIEW_COMMISSION_DASHBOARD = "view_commission_dashboard"
    VIEW_PIPELINE = "view_pipeline"
    # Opposition register: staff entry, the list without identities, the DPO's work.
    RECORD_OPPOSITION = "record_opposition"
    VIEW_OPPOSITIONS = "view_oppositions"
    MANAGE_OPPOSITIONS = "manage_oppositions"
    MANAGE_FORMALITIES = "manage_formalities"
    VIEW_CONSENT_REGISTER = "view_consent_register"
    RECORD_CONSENT = "record_consent"
    VIEW_PROCESSING_RECORD = "view_processing_record"
    # Provisioning: runs, their progress, the datasets' downloads.
    START_RUN = "start_run"
    VIEW_RUNS = "view_runs"
    DOWNLOAD_DATASET = "download_dataset"
    # Output checking (MIN-09): the team asks, two independent checkers decide, the team takes
    # the released files.
    REQUEST_OUTPUTS = "request_outputs"
    CHECK_OUTPUTS = "check_outputs"
    # The data office names output checkers (the role OUTPUT_CHECKER) and ends their naming.
    NAME_OUTPUT_CHECKERS = "name_output_checkers"
    DOWNLOAD_RELEASED_OUTPUT = "download_released_output"
    # Operations: e-mails that could not be sent, the detailed health of the services.
    MANAGE_OUTGOING_MAIL = "manage_outgoing_mail"
    VIEW_SYSTEM_HEALTH = "view_system_health"
    # The yearly review of who may see what (SEC-04): every account, its roles and projects.
    REVIEW_ACCESS = "review_access"


ALL_ROLES = frozenset(Role)

ROLE_GRANTS: dict[Permission, frozenset[Role]] = {
    Permission.VIEW_HOME: ALL_ROLES,
    Permission.VIEW_AUDIT_TRAIL: frozenset({Role.DPO, Role.AUDITOR}),
    Permission.EXPORT_AUDIT_TRAIL: frozenset({Role.DPO, Role.AUDITOR}),
    Permission.USE_API: ALL_ROLES,
    Permission.MATCH_IDENTITIES: frozenset({Role.IDENTITY_OFFICER}),
    # The catalogue describes variables, not persons: those who request or judge data read it.
    Permission.VIEW_CATALOGUE: frozenset(
        {Role.RESEARCHER, Role.SECRETARIAT, Role.DATA_STEWARD, Role.DPO} | COMMISSION_ROLES
    ),
    # Counts are for drafting a request (MIN-11); the commission and the data office see them in
    # the files they review.
    Permission.RUN_FEASIBILITY_COUNT: frozenset({Role.RESEARCHER}),
    # Who counted what and when, the refusals and the bursts of nested queries (MIN-11).
    Permission.VIEW_FEASIBILITY_LOG: frozenset({Role.DPO}),
    Permission.CREATE_PROJECT: frozenset({Role.RESEARCHER}),
    # Without an object: "may see some project" (lists); each project decides through the
    # object rules that projects/apps.py registers (team membership, staff roles).
    Permission.VIEW_PROJECT: frozenset({Role.RESEARCHER, Role.SECRETARIAT, Role.DPO})
    | COMMISSION_ROLES,
    Permission.EDIT_PROJECT: frozenset({Role.RESEARCHER}),
    Permission.MANAGE_TEAM: frozenset({Role.RESEARCHER}),
    Permission.SUBMIT_PROJECT: frozenset({Role.RESEARCHER}),
    Permission.CHECK_ADMISSIBILITY: frozenset({Role.SECRETARIAT}),
    Permission.DECLARE_INTEREST: COMMISSION_ROLES,
    # A declared interest is withdrawn only when the commission's secretariat accepts it: a
    # member cannot lift their own conflict to read a file again (GOV-10).
    Permission.DECIDE_INTEREST_WITHDRAWAL: frozenset({Role.SECRETARIAT}),
    Permission.ASSIGN_RAPPORTEURS: frozenset({Role.SECRETARIAT}),
    # Object rules narrow these to the files a member may read (no conflict, declared).
    Permission.REVIEW_PROJECT: COMMISSION_ROLES,
    Permission.READ_REVIEWS: COMMISSION_ROLES | frozenset({Role.SECRETARIAT}),
    Permission.ASK_QUESTION: COMMISSION_ROLES | frozenset({Role.SECRETARIAT}),
    Permission.ANSWER_QUESTION: frozenset({Role.RESEARCHER}),
    Permission.VIEW_SESSIONS: COMMISSION_ROLES | frozenset({Role.SECRETARIAT}),
    Permission.MANAGE_SESSIONS: frozenset({Role.SECRETARIAT, Role.CHAIR}),
    Permission.OPEN_SESSION: frozenset({Role.CHAIR}),
    Permission.VOTE: COMMISSION_ROLES,
    # Who has not voted yet, while a vote is open: the secretariat runs the session and votes on
    # nothing; voters (the chair among them) never learn who has voted (projects/sessions).
    Permission.FOLLOW_VOTES: frozenset({Role.SECRETARIAT}),
    Permission.DECIDE: frozenset({Role.CHAIR}),
    # The team reads its decisions; staff who follow the file read them too.
    Permission.VIEW_DECISION: frozenset({Role.RESEARCHER, Role.SECRETARIAT, Role.DPO})
    | COMMISSION_ROLES,
    Permission.VIEW_COMMISSION_DASHBOARD: COMMISSION_ROLES,
    Permission.VIEW_PIPELINE: frozenset({Role.SECRETARIAT, Role.CHAIR, Role.DPO}),
    # Requests arrive by post, e-mail, phone or at an association: whoever receives them types
    # them in (OPP-02); only the identity officer reads identities back (MATCH_IDENTITIES).
    Permission.RECORD_OPPOSITION: frozenset({Role.SECRETARIAT, Role.DPO, Role.IDENTITY_OFFICER}),
    # Receipt numbers, channels, statuses and due dates; never an identity.
    Permission.VIEW_OPPOSITIONS: frozenset({Role.SECRETARIAT, Role.DPO, Role.IDENTITY_OFFICER}),
    # Deadlines, extensions, answers, the register and its exports (OPP-04, OPP-12, OPP-14).
    Permission.MANAGE_OPPOSITIONS: frozenset({Role.DPO}),
    # CNIL formality, directory registration and publication (GOV-02, TRA-08).
    Permission.MANAGE_FORMALITIES: frozenset({Role.SECRETARIAT}),
    # The DPO keeps the consent register; the data steward reads it to prepare provisioning.
    Permission.VIEW_CONSENT_REGISTER: frozenset({Role.DPO, Role.DATA_STEWARD}),
    Permission.RECORD_CONSENT: frozenset({Role.DPO}),
    Permission.VIEW_PROCESSING_RECORD: frozenset({Role.DPO}),
    # The data steward starts, watches and cancels runs; the team follows its own runs (object
    # rule) and the DPO reads every run and destruction certificate.
    Permission.START_RUN: frozenset({Role.DATA_STEWARD}),
    Permission.VIEW_RUNS: frozenset({Role.DATA_STEWARD, Role.DPO, Role.RESEARCHER}),
    # Narrowed by the object rule to the recipients named in the approved specification.
    Permission.DOWNLOAD_DATASET: frozenset({Role.RESEARCHER}),
    # Narrowed by object rules (access/outputs): team members ask; the data office and the
    # output checkers it names check, never on a project of their own team nor with a conflict
    # of interest; the team downloads what two checkers released.
    Permission.REQUEST_OUTPUTS: frozenset({Role.RESEARCHER}),
    Permission.CHECK_OUTPUTS: frozenset({Role.SECRETARIAT, Role.DATA_STEWARD, Role.OUTPUT_CHECKER}),
    Permission.NAME_OUTPUT_CHECKERS: frozenset({Role.SECRETARIAT}),
    Permission.DOWNLOAD_RELEASED_OUTPUT: frozenset({Role.RESEARCHER}),
    # A receipt or an answer that did not reach a patient, an invitation or a notification that
    # did not leave: the data office and the DPO see them and send them again (or by post).
    Permission.MANAGE_OUTGOING_MAIL: frozenset({Role.SECRETARIAT, Role.DPO}),
    # The services behind the portal (databases, Redis, worker, beat, disk): those who run
    # provisioning and those who answer for the registers' deadlines.
    Permission.VIEW_SYSTEM_HEALTH: frozenset({Role.SECRETARIAT, Role.DATA_STEWARD, Role.DPO}),
    Permission.REVIEW_ACCESS: frozenset({Role.DPO}),
}

missing = set(Permission) - set(ROLE_GRANTS)
assert not missing, f"permissions without a grant table entry: {missing}"


ObjectPredicate = Callable[[Any, Any], bool]


@dataclass
class ObjectRule:
    """How a permission is decided on one kind of object."""

    model: type
    roles_on_all: frozenset[Role] = frozenset()
    predicate: ObjectPredicate | None = None
    guardian_codename: str | None = None
    # A per-object grant that stands for the role on that object (see the module's docstring),
    # and what must hold besides (None: nothing).
    object_grant: str | None = None
    object_grant_condition: ObjectPredicate | None = None


@dataclass
class _Registry:
    rules: dict[tuple[Permission, type], ObjectRule] = field(default_factory=dict)


_registry = _Registry()


def register_object_rule(
    permission: Permission,
    model: type,
    *,
    roles_on_all: frozenset[Role] = frozenset(),
    predicate: ObjectPredicate | None = None,
    guardian_codename: str | None = None,
) -> None:
    """Called by the app that owns ``model``, from its ``AppConfig.ready``."""
    previous = _registry.rules.get((permission, model))
    _registry.rules[(permission, model)] = ObjectRule(
        model,
        roles_on_all,
        predicate,
        guardian_codename,
        object_grant=previous.object_grant if previous else None,
        object_grant_condition=previous.object_grant_condition if previous else None,
    )


def register_object_grant(
    permission: Permission,
    model: type,
    *,
    codename: str,
    condition: ObjectPredicate | None = None,
) -> None:
    """``codename`` (a django-guardian permission, "app_label.codename") given to a user on one
    object of ``model`` grants ``permission`` on that object, with or without the role, when
    ``condition(user, obj)`` holds too."""
    rule = _registry.rules.get((permission, model))
    if rule is None:
        # No rule yet: the roles keep deciding on every object, as without one.
        rule = _registry.rules[(permission, model)] = ObjectRule(
            model, roles_on_all=ROLE_GRANTS[permission]
        )
    rule.object_grant = codename
    rule.object_grant_condition = condition


def _object_grant(user: Any, rule: ObjectRule | None, obj: Any) -> bool:
    if rule is None or not rule.object_grant:
        return False
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    from guardian.core import ObjectPermissionChecker

    if not ObjectPermissionChecker(user).has_perm(rule.object_grant, obj):
        return False
    return rule.object_grant_condition is None or rule.object_grant_condition(user, obj)


def roles_of(user: Any) -> frozenset[Role]:
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    if not user.is_active:
        return frozenset()
    return user.roles


def has_role(user: Any, *roles: Role) -> bool:
    return bool(roles_of(user) & set(roles))


def is_commission(user: Any) -> bool:
    return bool(roles_of(user) & COMMISSION_ROLES)


def has_permission(user: Any, permission: Permission, obj: Any = None) -> bool:
    roles = roles_of(user)
    rule = _registry.rules.get((permission, type(obj))) if obj is not None else None
    # A role is necessary; an object rule can only narrow it to some objects. So revoking a
    # role (a departure, SEC-04) ends access to every object at once. The only exception is a
    # per-object grant registered as standing for the role on its one object.
    if not roles & ROLE_GRANTS[permission]:
        return obj is not None and _object_grant(user, rule, obj)
    if obj is None:
        return True
    if rule is None:
        # No object rule: the object adds nothing, the role-wide grant decides.
        return True
    if roles & rule.roles_on_all:
        return True
    if rule.predicate is not None and rule.predicate(user, obj):
        return True
    if _object_grant(user, rule, obj):
        return True
    if rule.guardian_codename and getattr(user, "is_authenticated", False) and user.is_active:
        from guardian.core import ObjectPermissionChecker

        return ObjectPermissionChecker(user).has_perm(rule.guardian_codename, obj)
    return False


def get_object_for_user(user: Any, model_or_queryset: Any, pk: Any, permission: Permission) -> Any:
    """The object ``pk`` of a model or queryset (``select_related`` kept), if ``user`` holds
    ``permission`` on it; ``Http404`` otherwise, whether it is missing or not theirs, so that
    strangers learn nothing (DRF answers ``Http404`` with its own 404)."""
    from django.db.models import Model
    from django.http import Http404

    if isinstance(model_or_queryset, type) and issubclass(model_or_queryset, Model):
        queryset = model_or_queryset._default_manager.all()
    else:
        queryset = model_or_queryset
    obj = queryset.filter(pk=pk).first()
    if obj is None or not has_permission(user, permission, obj):
        raise Http404
    return obj


class PermissionsForTemplates:
    """``perms_eds.VIEW_AUDIT_TRAIL`` in templates, evaluated on demand."""

    def __init__(self, user: Any) -> None:
        self._user = user

    def __getattr__(self, name: str) -> bool:
        try:
            permission = Permission[name]
        except KeyError as exc:
            raise AttributeError(name) from exc
        return has_permission(self._user, permission)

    def __getitem__(self, name: str) -> bool:
        return self.__getattr__(name)
