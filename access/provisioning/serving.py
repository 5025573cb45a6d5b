"""May this file be served to this user now? The one answer for every download path.

Every way a dataset file leaves the portal (the run page's links, the expiring download view,
the API's list of links) asks ``may_serve``; nothing else decides. The answer is computed at
each request from the state of the portal, never from the link: a link issued before a
suspension, a supersession, a destruction, the end of access or the removal of a recipient is
refused from that moment, and works again when the state allows it (a resumed project).

Order of the checks: a stranger learns nothing (404), then the dataset's own state, then the
project's, then the second factor (SEC-03: every account that downloads patient-level data has
enrolled a TOTP device and passed it in this login session; an API token never downloads).
A download token (``download_tokens``) stands for the second factor only: it was created from
a login session that passed it, for this user and this run, and is valid for a short time;
every other check is made again at each use.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from access.models_provisioning import ProvisioningRun, RunStatus
from access.provisioning import selectors
from eds_portal.authz import Permission, has_permission
from projects.models import ProjectStatus

# Project statuses in which recipients may download: the dataset's project receives data.
SERVING_STATUSES = frozenset({ProjectStatus.PUBLISHED, ProjectStatus.ACTIVE})


class Refusal(enum.StrEnum):
    """Why a file is not served. Values are stable: tests and templates name them."""

    UNKNOWN = "unknown"
    """Not a named recipient, or no such file: the caller learns nothing (404)."""
    NOT_PUBLISHED = "not_published"
    """The run has no published dataset (404)."""
    DESTROYED = "destroyed"
    """The files were destroyed, with a certificate (410)."""
    SUPERSEDED = "superseded"
    """A newer version of the dataset replaced this one (410, naming the replacement)."""
    PROJECT_STOPPED = "project_stopped"
    """The project is suspended, closed or withdrawn (403); a resumed project serves again."""
    ACCESS_ENDED = "access_ended"
    """The approved access period is over (410)."""
    ENROL_SECOND_FACTOR = "enrol_second_factor"
    """The account has no second factor yet: enrol, then come back to the file."""
    VERIFY_SECOND_FACTOR = "verify_second_factor"
    """The account has a second factor that this login session has not passed."""
    TOKEN = "token"  # noqa: S105 (a refusal's name, not a secret)
    """An API token: tokens never download data (403)."""


HTTP_STATUS = {
    Refusal.UNKNOWN: 404,
    Refusal.NOT_PUBLISHED: 404,
    Refusal.DESTROYED: 410,
    Refusal.SUPERSEDED: 410,
    Refusal.PROJECT_STOPPED: 403,
    Refusal.ACCESS_ENDED: 410,
    Refusal.ENROL_SECOND_FACTOR: 403,
    Refusal.VERIFY_SECOND_FACTOR: 403,
    Refusal.TOKEN: 403,
}


@dataclass(frozen=True)
class ServeDecision:
    refusal: Refusal | None = None
    message: str = ""
    replacement: ProvisioningRun | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None

    @property
    def http_status(self) -> int:
        return 200 if self.refusal is None else HTTP_STATUS[self.refusal]

    @property
    def needs_second_factor(self) -> bool:
        return self.refusal in (Refusal.ENROL_SECOND_FACTOR, Refusal.VERIFY_SECOND_FACTOR)


ALLOWED = ServeDecision()


def _day(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "DATE_FORMAT")


def _has_device(user: Any) -> bool:
    return user.totpdevice_set.filter(confirmed=True).exists()


def second_factor_state(user: Any, *, token: bool = False) -> Refusal | None:
    """None when this request passed the second factor; else what is missing."""
    if token:
        return Refusal.TOKEN
    # django-otp's middleware gives the session's user ``is_verified``; a user object built
    # by anything else (an API token, a task) has not passed a second factor.
    is_verified = getattr(user, "is_verified", None)
    if callable(is_verified) and is_verified():
        return None
    return Refusal.VERIFY_SECOND_FACTOR if _has_device(user) else Refusal.ENROL_SECOND_FACTOR


def replacement_of(run: ProvisioningRun) -> ProvisioningRun | None:
    """The dataset now in force for a superseded run (following a chain of replacements)."""
    seen = set()
    current = run.superseded_by
    while current is not None and current.superseded_by_id and current.pk not in seen:
        seen.add(current.pk)
        current = current.superseded_by
    return current


def dataset_state(run: ProvisioningRun, *, now: datetime | None = None) -> ServeDecision:
    """Whether the run's dataset may be served at all, whoever asks (no user, no factor)."""
    now = now or timezone.now()
    if run.status != RunStatus.PUBLISHED:
        return ServeDecision(Refusal.NOT_PUBLISHED, _("This run has no published dataset."))
    # A replaced dataset names its replacement, destroyed or not: that is what the user needs.
    if run.superseded_by_id is not None:
        replacement = replacement_of(run)
        return ServeDecision(
            Refusal.SUPERSEDED,
            _(
                "This version of the dataset was replaced on %(date)s by the dataset of run "
                "%(run)s, which is the one to use; its files are no longer served."
            )
            % {"date": _day(run.superseded_at), "run": replacement.pk if replacement else "?"},
            replacement=replacement,
        )
    if selectors.hasattr_destruction(run):
        return ServeDecision(
            Refusal.DESTROYED,
            _("This dataset was destroyed on %(date)s (destruction certificate recorded).")
            % {"date": _day(run.destruction.destroyed_at)},
        )
    project = run.project
    if project.status not in SERVING_STATUSES:
        return ServeDecision(
            Refusal.PROJECT_STOPPED,
            _(
                "The project is “%(status)s”: its datasets are not served. Downloads resume "
                "only if the project is resumed."
            )
            % {"status": ProjectStatus(project.status).label},
        )
    end = selectors.access_ends_at(run)
    if end is not None and end <= now:
        return ServeDecision(
            Refusal.ACCESS_ENDED,
            _("The access period ended on %(date)s.") % {"date": _day(end)},
        )
    return ALLOWED


def may_serve(
    user: Any,
    run: ProvisioningRun,
    file_name: str | None = None,
    *,
    token: bool = False,
    download_token: Any = None,
    now: datetime | None = None,
) -> ServeDecision:
    """May ``file_name`` of ``run`` (or, without a name, its files) go to ``user`` now?

    ``token``: the request was authenticated by an API token rather than a login session.
    ``download_token``: the request presented this download token (a ``DownloadToken``): it
    replaces the session's second factor if it belongs to ``user`` and ``run`` and is still
    valid; it never replaces any other check.
    """
    if (
        user is None
        or not getattr(user, "is_authenticated", False)
        or not has_permission(user, Permission.DOWNLOAD_DATASET, run)
    ):
        return ServeDecision(Refusal.UNKNOWN)
    state = dataset_state(run, now=now)
    if not state.allowed:
        return state
    if file_name is not None and selectors.file_path(run, file_name) is None:
        return ServeDecision(Refusal.UNKNOWN)
    if download_token is not None:
        bound = download_token.run_id == run.pk and download_token.user_id == user.pk
        if not bound or not download_token.is_valid(now):
            return ServeDecision(Refusal.UNKNOWN)
        return ALLOWED
    missing = second_factor_state(user, token=token)
    if missing == Refusal.TOKEN:
        return ServeDecision(
            missing,
            _(
                "Data is never downloaded with an API token: sign in to the portal with your "
                "second factor to download the files."
            ),
        )
    if missing == Refusal.ENROL_SECOND_FACTOR:
        return ServeDecision(
            missing,
            _("Set up two-factor login (an authenticator app) before downloading any data."),
        )
    if missing == Refusal.VERIFY_SECOND_FACTOR:
        return ServeDecision(
            missing, _("Enter the code of your authenticator app before downloading any data.")
        )
    return ALLOWED


def may_serve_output(user: Any, item: Any, *, token: bool = False) -> ServeDecision:
    """Whether a released output (access/outputs) may be served to ``user`` now: a member of
    the project's team, the output released by two checkers, the second factor passed in this
    login session. Released outputs are anonymous results: the project's status does not
    matter, a closed project's team keeps its results."""
    if not has_permission(user, Permission.DOWNLOAD_RELEASED_OUTPUT, item):
        return ServeDecision(Refusal.UNKNOWN)
    missing = second_factor_state(user, token=token)
    if missing == Refusal.TOKEN:
        return ServeDecision(missing, _("Sign in to the portal with your second factor."))
    if missing is not None:
        return ServeDecision(missing)
    return ALLOWED
