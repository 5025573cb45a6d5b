"""Factories of the models that tests build by hand rather than through the application.

Projects are not among them: ``projects.actions.create_project`` makes one as the portal does
(reference, lead membership, audit trail), and the tests build theirs through it.
"""

from __future__ import annotations

import factory
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from eds_portal.actions import grant_role
from eds_portal.models import User
from eds_portal.roles import STAFF_ROLES, Role
from projects.models import Decision, ProtocolVersion, Recommendation, TeamRole

TEST_PASSWORD = "correct-horse-battery-12"
# Who validates the staff roles of test accounts, for a year (SEC-04).
TEST_VALIDATOR = "Marie Manager"


def _in_a_year():
    from datetime import timedelta

    from django.utils import timezone

    return timezone.localdate() + timedelta(days=365)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name", locale="fr_FR")
    # Distinct by default: a shared organisation makes commission members conflicted.
    organisation = factory.Sequence(lambda n: f"Laboratoire {n}")
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or ():
            grant_role(
                user=self,
                role=role,
                validated_by=TEST_VALIDATOR if role in STAFF_ROLES else "",
                valid_until=_in_a_year() if role in STAFF_ROLES else None,
            )


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TOTPDevice

    user = factory.SubFactory(UserFactory)
    name = "phone"
    confirmed = True


class ProtocolVersionFactory(factory.django.DjangoModelFactory):
    """A submitted version set down directly, numbered after the project's last one.

    ``project`` is required; the submitter defaults to the project's lead.
    """

    class Meta:
        model = ProtocolVersion

    number = factory.LazyAttribute(lambda version: version.project.versions.count() + 1)
    content = factory.LazyFunction(dict)
    submitted_at = factory.LazyFunction(timezone.now)
    submitted_by = factory.LazyAttribute(
        lambda version: version.project.memberships.get(role=TeamRole.LEAD).user
    )


class DecisionFactory(factory.django.DjangoModelFactory):
    """A decision recorded by hand, outside any session or written procedure.

    ``project`` is required; the decision is on its last version (one is submitted by the
    signatory if the project has none). The default number cannot be taken for one of the
    commission's ("CSE-<year>-<NNN>", see ``next_decision_number``).
    """

    class Meta:
        model = Decision

    number = factory.Sequence(lambda n: f"TEST-{n:04d}")
    signed_by = factory.SubFactory(UserFactory, roles=[Role.CHAIR, Role.COMMISSION_MEMBER])
    version = factory.LazyAttribute(
        lambda decision: (
            decision.project.versions.order_by("-number").first()
            or ProtocolVersionFactory(project=decision.project, submitted_by=decision.signed_by)
        )
    )
    opinion = Recommendation.FAVOURABLE
    reasons = "Protocole solide."
    approved_specification = factory.LazyFunction(lambda: {"variables": []})
