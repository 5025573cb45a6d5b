"""A research project's life: its draft, its immutable submitted versions and its team.

The draft is the only editable thing. It stores what the applicant typed, section by section,
valid or not, so that nothing is ever lost; validation happens when a section is saved (to show
messages) and in the completeness check (to allow submission). Submitting freezes the draft's
content into a ``ProtocolVersion`` whose content never changes again.

Only ``projects.workflow`` changes ``Project.status``.
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ProjectStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    """Being written by the team; never submitted yet."""
    SUBMITTED = "submitted", _("Submitted")
    """Waiting for the secretariat's admissibility check."""
    INCOMPLETE = "incomplete", _("Returned as incomplete")
    """The secretariat listed missing items; the team completes the draft and resubmits."""
    UNDER_REVIEW = "under_review", _("Under review")
    """In the commission's hands."""
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    """The commission asked for a revised version."""
    APPROVED = "approved", _("Approved")
    """Favourable opinion; the approved data specification is frozen."""
    REJECTED = "rejected", _("Rejected")
    """Unfavourable opinion."""
    FORMALITIES = "formalities", _("Formalities")
    """CNIL formality and directory registration under way."""
    PUBLISHED = "published", _("Published")
    """Public page online; the information window runs."""
    ACTIVE = "active", _("Active")
    """Data delivered."""
    SUSPENDED = "suspended", _("Suspended")
    """Access paused."""
    CLOSED = "closed", _("Closed")
    """Finished; data destroyed."""
    WITHDRAWN = "withdrawn", _("Withdrawn")
    """Withdrawn by the team before any delivery."""


EDITABLE_STATUSES = frozenset(
    {ProjectStatus.DRAFT, ProjectStatus.INCOMPLETE, ProjectStatus.CHANGES_REQUESTED}
)


# After a favourable opinion, changes go through an amendment that the commission reviews
# (GOV-13). The amendment has its own status (``Amendment``): the project keeps its own, hence
# its access, its delivered-data lifecycle (suspension, closure, destruction) and the decision
# in force, until the commission decides on the amendment. A suspended project amends nothing.
AMENDABLE_STATUSES = frozenset(
    {
        ProjectStatus.APPROVED,
        ProjectStatus.FORMALITIES,
        ProjectStatus.PUBLISHED,
        ProjectStatus.ACTIVE,
    }
)


class RegulatoryRoute(models.TextChoices):
    INTERNAL = "internal", _("Internal use of the warehouse")
    """Indicators, coding quality, decision support or feasibility (GOV-01)."""
    MR004 = "mr004", _("MR-004 (research not involving the human person)")
    """Declaration of conformity to the reference methodology MR-004."""
    MR001 = "mr001", _("MR-001 (research involving the human person, with consent)")
    """Needs a CPP opinion and consent: outside the EDS-only workflow (GOV-03)."""
    MR003 = "mr003", _("MR-003 (research involving the human person, non-opposition)")
    """Needs a CPP opinion: outside the EDS-only workflow (GOV-03)."""
    AUTHORISATION = "authorisation", _("CNIL authorisation")
    """Outside MR-004 (linkage, other data...): CESREES opinion and CNIL authorisation (GOV-04)."""
    NOT_POSSIBLE = "not_possible", _("Not possible in this portal")
    """The project cannot be carried out with warehouse data through this portal."""


class TeamRole(models.TextChoices):
    LEAD = "lead", _("Project lead")
    """Submits, invites and removes members; one per project."""
    CO_INVESTIGATOR = "co_investigator", _("Co-investigator")
    """Edits the draft."""
    ANALYST = "analyst", _("Analyst")
    """Receives data only."""


class Project(models.Model):
    reference = models.CharField(_("reference"), max_length=20, unique=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ProjectStatus.choices,
        default=ProjectStatus.DRAFT,
        db_index=True,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    # Working title from the draft, for lists; the versions hold the submitted one.
    title = models.CharField(_("title"), max_length=300)
    # Set by the regulatory questionnaire; the consent register reads it (CON-*).
    requires_consent = models.BooleanField(_("requires consent"), default=False)
    # A modification after approval (GOV-13): the draft is editable again until the amendment
    # is submitted, and goes back to the commission.
    amendment_opened_at = models.DateTimeField(_("amendment opened at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawal_reason = models.TextField(_("withdrawal reason"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["-created_at"]
        # Per-object grants (django-guardian), given on one project only: an external expert
        # reads its submitted version and writes a review (projects/review/experts.py).
        permissions = [("review_as_expert", _("Read and review this file as an external expert"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    withdrawn_at__isnull=True,
                    status__in=[s for s in ProjectStatus.values if s != ProjectStatus.WITHDRAWN],
                )
                | Q(withdrawn_at__isnull=False, status=ProjectStatus.WITHDRAWN),
                name="project_withdrawn_at_iff_withdrawn",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES or (
            self.amendment_opened_at is not None and self.status in AMENDABLE_STATUSES
        )

    def pending_amendment(self) -> Amendment | None:
        """The amendment being written or in the commission's hands, if any (one at most)."""
        return self.amendments.filter(status__in=PENDING_AMENDMENT_STATUSES).first()

    @property
    def review_status(self) -> str:
        """The status the commission's review reads: the project's own, or, while an amendment
        of an amendable project is under review or sent back for changes, the amendment's.

        The values are shared (``under_review``, ``changes_requested``): the review, sessions
        and decisions treat an amendment like a version of a file in review. A suspended
        project's amendment waits: nothing is reviewed or decided around a suspension.
        """
        if self.status in AMENDABLE_STATUSES:
            pending = self.pending_amendment()
            if pending is not None and pending.status in AMENDMENT_REVIEW_STATUSES:
                return pending.status
        return self.status


class Draft(models.Model):
    """The editable content of a project: what the team typed, section by section."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="draft")
    # {section key: {field name: raw value as typed}}; the data request is a section too.
    content = models.JSONField(default=dict)
    based_on = models.ForeignKey(
        "ProtocolVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"draft of {self.project_id}"


def content_hash(content: dict) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ProtocolVersion(models.Model):
    """An immutable submitted version. Reviews, votes and decisions point at one."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    content = models.JSONField(_("content"))
    content_sha256 = models.CharField(max_length=64)
    submitted_at = models.DateTimeField(_("submitted at"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    # An amendment after approval (GOV-13) versus a revision during review.
    is_amendment = models.BooleanField(_("amendment"), default=False)

    class Meta:
        verbose_name = _("protocol version")
        verbose_name_plural = _("protocol versions")
        ordering = ["project", "number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="version_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} v{self.number}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("A submitted version is immutable; submit a new one.")
        self.content_sha256 = content_hash(self.content)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("A submitted version is immutable.")


class TeamMembership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="project_memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=TeamRole.choices)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_unique"),
            models.UniqueConstraint(
                fields=["project"], condition=Q(role="lead"), name="one_lead_per_project"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} of {self.project_id}"


class AttachmentKind(models.TextChoices):
    PROTOCOL = "protocol", _("Full protocol")
    """The detailed research protocol."""
    INFORMATION_NOTE = "information_note", _("Information note")
    """The note that informs the persons concerned (TRA-03)."""
    DECLARATION_OF_INTERESTS = "declaration_of_interests", _("Declaration of interests")
    """Of the controller and of every processor or laboratory (GOV-08)."""
    CV = "cv", _("Curriculum vitae")
    """Of the scientific lead and team members."""


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name is random: the original (sanitised) name is kept in a column.
    return f"projects/{instance.project_id}/attachments/{instance.sha256[:16]}-{filename}"


class Attachment(models.Model):
    """A file of a project, in private storage, served only through a permission check.

    Removing it from the draft keeps the file: the versions submitted with it keep it.
    """

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="attachments")
    kind = models.CharField(_("kind"), max_length=30, choices=AttachmentKind.choices)
    original_name = models.CharField(_("file name"), max_length=200)
    file = models.FileField(upload_to=attachment_path, max_length=300)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    versions = models.ManyToManyField(ProtocolVersion, related_name="attachments", blank=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["kind", "uploaded_at"]

    def __str__(self) -> str:
        return self.original_name


class Invitation(models.Model):
    """An invitation to join a project's team, accepted through an expiring link."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(
        _("role"),
        max_length=20,
        choices=[
            (TeamRole.CO_INVESTIGATOR.value, TeamRole.CO_INVESTIGATOR.label),
            (TeamRole.ANALYST.value, TeamRole.ANALYST.label),
        ],
    )
    # Only the hash is stored: the token itself travels in the e-mail.
    token_sha256 = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True, accepted_by__isnull=True)
                | Q(accepted_at__isnull=False, accepted_by__isnull=False),
                name="invitation_accepted_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.project_id}"


class AdmissibilityDecision(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted for review")
    """The file is complete: it goes to the commission."""
    RETURNED = "returned", _("Returned as incomplete")
    """Items are missing: the team completes the draft and submits again."""


class AdmissibilityCheck(models.Model):
    """The secretariat's check of a submitted version."""

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="admissibility_checks"
    )
    version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(_("decision"), max_length=10, choices=AdmissibilityDecision.choices)
    missing_items = models.TextField(_("missing items"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("admissibility check")
        verbose_name_plural = _("admissibility checks")
        ordering = ["-decided_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision="accepted") | ~Q(missing_items=""),
                name="returned_check_lists_missing_items",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} v{self.version_id}: {self.decision}"


class ConflictDeclaration(models.Model):
    """A commission member's declaration of interests for one project (GOV-10)."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="conflict_declarations"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="conflict_declarations"
    )
    has_interest = models.BooleanField(_("declares an interest"))
    description = models.TextField(_("description of the interest"), blank=True)
    declared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("declaration of interests")
        verbose_name_plural = _("declarations of interests")
        constraints = [
            models.UniqueConstraint(fields=["project", "member"], name="one_declaration"),
            models.CheckConstraint(
                condition=Q(has_interest=False) | ~Q(description=""),
                name="interest_is_described",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} on {self.project_id}: {self.has_interest}"


class WithdrawalStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("withdrawal status", "Awaiting the secretariat")
    """Asked by the member; the declared interest stands until the secretariat answers."""
    ACCEPTED = "accepted", pgettext_lazy("withdrawal status", "Accepted")
    """The secretariat accepted: the declaration now says "no interest"."""
    REFUSED = "refused", pgettext_lazy("withdrawal status", "Refused")
    """The secretariat refused, saying why: the declared interest stands."""


class InterestWithdrawal(models.Model):
    """A member's request to withdraw an interest they declared in a project (GOV-10).

    A member cannot lift their own conflict to read a file again: the commission's secretariat
    accepts or refuses the request; until it accepts, the conflict stands.
    """

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="interest_withdrawals"
    )
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The interest as declared when the request was made (the declaration changes on acceptance).
    interest = models.TextField(_("interest declared"))
    reason = models.TextField(_("why the interest no longer stands"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=WithdrawalStatus.choices,
        default=WithdrawalStatus.PENDING,
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answer = models.TextField(_("answer of the secretariat"), blank=True)

    class Meta:
        verbose_name = _("withdrawal of a declared interest")
        verbose_name_plural = _("withdrawals of declared interests")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "member"],
                condition=Q(status="pending"),
                name="one_pending_withdrawal",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True, decided_by__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False, decided_by__isnull=False)),
                name="withdrawal_answered_pair",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="withdrawal_is_reasoned"),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(answer=""),
                name="withdrawal_refusal_is_reasoned",
            ),
        ]

    def __str__(self) -> str:
        return f"withdrawal by {self.member_id} on {self.project_id}: {self.status}"


# --- The commission's review (GOV-09 to GOV-12) -------------------------------------------


class Recommendation(models.TextChoices):
    """A rapporteur's proposal, a member's vote and the commission's opinion share these."""

    FAVOURABLE = "favourable", _("Favourable")
    """The protocol may proceed as submitted."""
    FAVOURABLE_WITH_RECOMMENDATIONS = (
        "favourable_recommendations",
        _("Favourable with recommendations"),
    )
    """It may proceed; the team submits a revised version that follows the recommendations."""
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    """The commission will decide again on a revised version."""
    UNFAVOURABLE = "unfavourable", _("Unfavourable")
    """The project may not proceed."""


class VoteChoice(models.TextChoices):
    FAVOURABLE = "favourable", _("Favourable")
    """For the project as submitted."""
    FAVOURABLE_WITH_RECOMMENDATIONS = (
        "favourable_recommendations",
        _("Favourable with recommendations"),
    )
    """For, with recommendations."""
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    """For asking a revised version."""
    UNFAVOURABLE = "unfavourable", _("Unfavourable")
    """Against."""
    ABSTENTION = "abstention", _("Abstention")
    """Present, does not take a side; counted as present for the quorum."""


class VariableVerdict(models.TextChoices):
    APPROVE = "approve", _("Approve")
    """Delivered with the generalisation the team asked for."""
    COARSER = "coarser", _("Approve with a coarser generalisation")
    """Delivered, but generalised more than asked."""
    REFUSE = "refuse", _("Refuse")
    """Not delivered."""


class ExpertGrantEnd(models.TextChoices):
    REVIEW_SUBMITTED = "review_submitted", _("Review submitted")
    """The expert submitted their review: their work is done."""
    FILE_DECIDED = "file_decided", _("File decided")
    """The commission decided the file before the expert submitted."""
    WITHDRAWN = "withdrawn", _("Withdrawn")
    """Revoked by the DPO's access review (or the secretariat)."""


class ExpertInvitation(models.Model):
    """An external expert asked by the secretariat to review one file (GOV-10, SEC-04).

    The link carries a random token (only its hash is stored) and works for the invited address
    only; an address with no account creates one on the way (as for a team invitation).
    Accepting gives the expert a per-object grant on this project only (django-guardian
    ``projects.review_as_expert``): read the submitted version and write a review, once they
    declared no interest. The grant ends when their review is submitted or the file decided.
    """

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="expert_invitations"
    )
    email = models.EmailField(_("e-mail address"))
    token_sha256 = models.CharField(max_length=64, unique=True)
    due_date = models.DateField(_("due date"))
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="expert_invitations",
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=ExpertGrantEnd.choices, blank=True)

    class Meta:
        verbose_name = _("external expert invitation")
        verbose_name_plural = _("external expert invitations")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True, expert__isnull=True)
                | Q(accepted_at__isnull=False, expert__isnull=False),
                name="expert_invitation_accepted_pair",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True, end_reason="")
                | Q(ended_at__isnull=False) & ~Q(end_reason=""),
                name="expert_invitation_ended_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"expert {self.pk} on {self.project_id}"

    @property
    def is_active(self) -> bool:
        return self.accepted_at is not None and self.ended_at is None


class RapporteurAssignment(models.Model):
    """A member asked by the secretariat to report on a project by a due date."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="assignments")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments"
    )
    due_date = models.DateField(_("due date"))
    assigned_at = models.DateTimeField(default=timezone.now)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Set when the member's review of the current version is submitted; cleared by a new version.
    completed_at = models.DateTimeField(null=True, blank=True)
    # Reminders already sent (the beat task sends each once per due date).
    reminded_before_at = models.DateTimeField(null=True, blank=True)
    reminded_after_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("rapporteur assignment")
        verbose_name_plural = _("rapporteur assignments")
        ordering = ["due_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "member"],
                condition=Q(removed_at__isnull=True),
                name="one_active_assignment_per_member",
            ),
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True, removed_by__isnull=True)
                | Q(removed_at__isnull=False, removed_by__isnull=False),
                name="assignment_removed_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} reports on {self.project_id} by {self.due_date}"


class Review(models.Model):
    """A rapporteur's structured review of one version; a draft until submitted."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="reviews")
    version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    scientific_quality = models.TextField(_("scientific quality"), blank=True)
    public_interest = models.TextField(_("public interest"), blank=True)
    methodology = models.TextField(_("methodology"), blank=True)
    information_of_persons = models.TextField(_("information of persons"), blank=True)
    ethics = models.TextField(_("ethics"), blank=True)
    recommendation = models.CharField(
        _("recommendation"), max_length=30, choices=Recommendation.choices, blank=True
    )
    # Read by the commission only, never by the team.
    private_notes = models.TextField(_("private notes for the commission"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["version", "reviewer"]
        constraints = [
            models.UniqueConstraint(fields=["version", "reviewer"], name="one_review_per_version"),
            models.CheckConstraint(
                condition=Q(submitted_at__isnull=True) | ~Q(recommendation=""),
                name="submitted_review_recommends",
            ),
        ]

    def __str__(self) -> str:
        return f"review of {self.version_id} by {self.reviewer_id}"


class VariableReview(models.Model):
    """A rapporteur's verdict on one requested variable."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="variables")
    variable = models.CharField(_("variable"), max_length=60)
    verdict = models.CharField(_("verdict"), max_length=10, choices=VariableVerdict.choices)
    generalisation = models.CharField(_("generalisation"), max_length=20, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("variable review")
        verbose_name_plural = _("variable reviews")
        constraints = [
            models.UniqueConstraint(fields=["review", "variable"], name="one_verdict_per_variable"),
        ]

    def __str__(self) -> str:
        return f"{self.variable}: {self.verdict}"


class Question(models.Model):
    """A message of the thread between the commission and the team, per project.

    The author is always recorded; the team sees "the commission" unless the author chose to
    sign (reviewer names are hidden by default).
    """

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="questions")
    version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="questions", null=True
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_commission = models.BooleanField()
    body = models.TextField(_("message"))
    show_author = models.BooleanField(_("sign with my name"), default=False)
    # An answer points at the question it answers.
    answers = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replies"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"message {self.pk} on {self.project_id}"


class SessionStatus(models.TextChoices):
    # A session ("séance"): French agrees its statuses in the feminine, unlike a project's.
    PLANNED = "planned", pgettext_lazy("session status", "Planned")
    """Date and agenda set; attendance may be recorded."""
    # "Open" alone is also a filter of lists ("open requests"): French agrees in number.
    OPEN = "open", pgettext_lazy("session status", "Open")
    """Opened by the chair: votes may be cast when the quorum is reached."""
    CLOSED = "closed", pgettext_lazy("session status", "Closed")
    """Over; its outcomes are decisions."""


class CommissionSession(models.Model):
    """A meeting of the commission (séance)."""

    date = models.DateTimeField(_("date"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=SessionStatus.choices, default=SessionStatus.PLANNED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    opened_at = models.DateTimeField(null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    # When the members were last sent the convocation with the agenda (projects/sessions).
    convened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("commission session")
        verbose_name_plural = _("commission sessions")
        ordering = ["-date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(opened_at__isnull=True, opened_by__isnull=True)
                | Q(opened_at__isnull=False, opened_by__isnull=False),
                name="session_opened_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"session of {self.date:%Y-%m-%d}"


class AgendaItem(models.Model):
    """A project on a session's agenda, for one version."""

    session = models.ForeignKey(CommissionSession, on_delete=models.PROTECT, related_name="items")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="agenda_items")
    version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField(default=0)
    # Set when the chair records the outcome (the decision).
    decided_at = models.DateTimeField(null=True, blank=True)
    # Set when the chair postpones the item to a later session (no decision in this one).
    deferred_at = models.DateTimeField(null=True, blank=True)
    # Set when the chair closes the vote (or records the decision, which closes it): no vote
    # after it, and the tally is shown to the commission only from then (independent votes).
    vote_closed_at = models.DateTimeField(null=True, blank=True)
    vote_closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["session", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "project"], name="project_once_per_session"),
            models.CheckConstraint(
                condition=Q(decided_at__isnull=True) | Q(deferred_at__isnull=True),
                name="agenda_item_decided_or_deferred",
            ),
            models.CheckConstraint(
                condition=Q(vote_closed_at__isnull=True, vote_closed_by__isnull=True)
                | Q(vote_closed_at__isnull=False, vote_closed_by__isnull=False),
                name="agenda_item_vote_closed_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} at {self.session_id}"


class Attendance(models.Model):
    session = models.ForeignKey(
        CommissionSession, on_delete=models.PROTECT, related_name="attendance"
    )
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    present = models.BooleanField(_("present"))
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.UniqueConstraint(fields=["session", "member"], name="attendance_once"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} at {self.session_id}: {self.present}"


class Vote(models.Model):
    """A present, unconflicted member's vote on an agenda item; one each, final once cast."""

    item = models.ForeignKey(AgendaItem, on_delete=models.PROTECT, related_name="votes")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    choice = models.CharField(_("vote"), max_length=30, choices=VoteChoice.choices)
    cast_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        constraints = [
            models.UniqueConstraint(fields=["item", "member"], name="one_vote_per_member"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} on {self.item_id}: {self.choice}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("A vote is final once cast.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("A vote is final once cast.")


class WrittenProcedure(models.Model):
    """The expedited written procedure for a minor amendment: the chair and two rapporteurs."""

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="written_procedures"
    )
    version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="+")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("written procedure")
        verbose_name_plural = _("written procedures")
        constraints = [
            models.UniqueConstraint(fields=["version"], name="one_written_procedure_per_version"),
        ]

    def __str__(self) -> str:
        return f"written procedure on {self.version_id}"


class WrittenAgreement(models.Model):
    procedure = models.ForeignKey(
        WrittenProcedure, on_delete=models.PROTECT, related_name="agreements"
    )
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    choice = models.CharField(_("opinion"), max_length=30, choices=VoteChoice.choices)
    agreed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("written agreement")
        verbose_name_plural = _("written agreements")
        constraints = [
            models.UniqueConstraint(fields=["procedure", "member"], name="one_agreement_each"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} on {self.procedure_id}: {self.choice}"


class DecisionQuerySet(models.QuerySet):
    def in_force(self) -> DecisionQuerySet:
        """Decisions that no correction superseded, the one in force first.

        The decision in force of a project is ``project.decisions.in_force().first()``: the
        latest one that no other supersedes (ties on the time broken by the newest row). An
        amendment that is not approved (refused, or sent back for changes) leaves the former
        decision in force (GOV-13): its decision is on record but never in force.
        """
        return (
            self.filter(superseded_by__isnull=True)
            .exclude(
                version__is_amendment=True,
                opinion__in=[Recommendation.CHANGES_REQUESTED, Recommendation.UNFAVOURABLE],
            )
            .order_by("-decided_at", "-pk")
        )


class Decision(models.Model):
    """The commission's opinion (GOV-11): numbered, dated, reasoned, immutable.

    It is bound to the exact version reviewed and freezes the approved data specification,
    the only thing provisioning executes. A correction is a new decision that supersedes it.
    """

    number = models.CharField(_("number"), max_length=20, unique=True)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="decisions")
    version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="decisions")
    opinion = models.CharField(_("opinion"), max_length=30, choices=Recommendation.choices)
    reasons = models.TextField(_("reasons"))
    recommendations = models.TextField(_("recommendations"), blank=True)
    conditions = models.TextField(_("conditions"), blank=True)
    # {"variables": [{"code", "generalisation", "verdict", "reason"}...], "refused": [...],
    #  "criteria": {...}, "access_months": n, "recipients": [...], "expected_persons": n}
    approved_specification = models.JSONField(_("approved data specification"))
    specification_sha256 = models.CharField(max_length=64)
    # Where it was taken: a session's agenda item, or the written procedure.
    agenda_item = models.OneToOneField(
        AgendaItem, null=True, blank=True, on_delete=models.PROTECT, related_name="decision"
    )
    written_procedure = models.OneToOneField(
        WrittenProcedure, null=True, blank=True, on_delete=models.PROTECT, related_name="decision"
    )
    # The tally at the time of the decision, as recorded (votes stay in their table).
    tally = models.JSONField(default=dict)
    # Why a session decided an item on which nobody voted (e.g. "procédure écrite"): required
    # then, refused otherwise; shown in the decision and its letter.
    no_vote_reason = models.TextField(_("why the commission decided without a vote"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("signed by"),
    )
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )

    objects = DecisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["-decided_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(agenda_item__isnull=True) | Q(written_procedure__isnull=True),
                name="decision_one_procedure",
            ),
            models.CheckConstraint(
                condition=~Q(reasons=""),
                name="decision_is_reasoned",
            ),
            models.CheckConstraint(
                condition=Q(no_vote_reason="") | Q(agenda_item__isnull=False),
                name="decision_no_vote_reason_in_session",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("A decision is immutable; a correction is a new decision.")
        self.specification_sha256 = content_hash(self.approved_specification)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("A decision is immutable.")

    @property
    def is_favourable(self) -> bool:
        return self.opinion in {
            Recommendation.FAVOURABLE,
            Recommendation.FAVOURABLE_WITH_RECOMMENDATIONS,
        }


# --- Amendments after approval (GOV-13) -----------------------------------------------------


class AmendmentStatus(models.TextChoices):
    # A context: the words agree with "amendement" (masculine in French).
    OPEN = "open", pgettext_lazy("amendment status", "Being written")
    """Opened by the lead from the version in force; the team edits the draft."""
    UNDER_REVIEW = "under_review", pgettext_lazy("amendment status", "Under review")
    """Submitted: in the commission's hands; the decision in force still governs access."""
    CHANGES_REQUESTED = (
        "changes_requested",
        pgettext_lazy("amendment status", "Changes requested"),
    )
    """The commission asked for a revised amendment; the team edits the draft again."""
    APPROVED = "approved", pgettext_lazy("amendment status", "Approved")
    """Favourable opinion: its specification is in force (a new dataset follows)."""
    REFUSED = "refused", pgettext_lazy("amendment status", "Refused")
    """Unfavourable opinion: the former specification stays in force."""
    CANCELLED = "cancelled", pgettext_lazy("amendment status", "Cancelled")
    """Given up by the lead, or ended with the project; the former specification stays."""


# Not decided yet: at most one per project.
PENDING_AMENDMENT_STATUSES = (
    AmendmentStatus.OPEN,
    AmendmentStatus.UNDER_REVIEW,
    AmendmentStatus.CHANGES_REQUESTED,
)
# The statuses that the review reads as the file's (``Project.review_status``).
AMENDMENT_REVIEW_STATUSES = frozenset(
    {AmendmentStatus.UNDER_REVIEW, AmendmentStatus.CHANGES_REQUESTED}
)
# The team edits the draft.
AMENDMENT_EDITING_STATUSES = frozenset({AmendmentStatus.OPEN, AmendmentStatus.CHANGES_REQUESTED})


def review_stage_q(statuses, prefix: str = "") -> Q:
    """Projects (``prefix``: the path to them) whose file, or whose amendment of an amendable
    project, is in one of ``statuses``: the query form of ``Project.review_status``."""
    values = [str(s) for s in statuses]
    amendment = Amendment.objects.filter(
        project=models.OuterRef(f"{prefix}pk"),
        status__in=[v for v in values if v in AmendmentStatus.values],
    )
    return Q(**{f"{prefix}status__in": values}) | (
        Q(**{f"{prefix}status__in": list(AMENDABLE_STATUSES)}) & Q(models.Exists(amendment))
    )


class Amendment(models.Model):
    """A modification of an approved protocol (GOV-13): recipients, duration, variables, cohort.

    Opened from the version in force, written in the project's draft, submitted as a new
    version (``is_amendment``) that the commission reviews and decides like any version. The
    project's status, its access and its decision in force do not change meanwhile; a
    favourable decision becomes the decision in force, an unfavourable one changes nothing.
    Only ``projects.workflow`` changes ``status``.
    """

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="amendments")
    number = models.PositiveIntegerField(_("amendment"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=AmendmentStatus.choices,
        default=AmendmentStatus.OPEN,
    )
    # What was in force when it was opened: the comparison's reference.
    base_decision = models.ForeignKey(
        "Decision", on_delete=models.PROTECT, related_name="+", verbose_name=_("decision amended")
    )
    base_version = models.ForeignKey(
        ProtocolVersion,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("version in force"),
    )
    # The draft as it stood when the amendment replaced it by the version in force, and the
    # amendment's draft when it was cancelled: what the team typed is never lost.
    kept_draft = models.JSONField(default=dict, blank=True)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The latest version submitted for it (a revision asked by the commission makes another).
    version = models.ForeignKey(
        ProtocolVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="amendments",
        verbose_name=_("version submitted"),
    )
    decision = models.ForeignKey(
        "Decision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="amendments",
        verbose_name=_("decision"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("amendment")
        verbose_name_plural = _("amendments")
        ordering = ["project", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="amendment_number_unique"),
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(status__in=["open", "under_review", "changes_requested"]),
                name="one_pending_amendment_per_project",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "under_review", "changes_requested"])
                | Q(closed_at__isnull=False),
                name="amendment_closed_at_when_closed",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "refused"]) | Q(decision__isnull=False),
                name="decided_amendment_has_decision",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["under_review", "approved", "refused"])
                | Q(version__isnull=False),
                name="submitted_amendment_has_version",
            ),
        ]

    def __str__(self) -> str:
        return f"amendment {self.number} of {self.project_id}"

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_AMENDMENT_STATUSES
