"""Factories, one per model of the foundation."""

from __future__ import annotations

import factory
from django_otp.plugins.otp_totp.models import TOTPDevice

from eds_portal.actions import grant_role
from eds_portal.models import User

TEST_PASSWORD = "correct-horse-battery-12"


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
            grant_role(user=self, role=role)


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TOTPDevice

    user = factory.SubFactory(UserFactory)
    name = "phone"
    confirmed = True
