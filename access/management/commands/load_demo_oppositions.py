"""Sample opposition requests for the demo, and one warehouse identity to object with."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from access.opposition import demo
from eds_portal.demo import DEMO_ACCOUNTS
from eds_portal.models import User
from eds_portal.roles import Role


class Command(BaseCommand):
    help = (
        "Records the formalities of approved demo projects and publishes their pages, adds "
        "three sample opposition requests (idempotent) and prints a demo identity."
    )

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("Demo data is never created in production.")
        staff = self._account(Role.SECRETARIAT)
        if staff is None:
            raise CommandError("Run load_demo first: the demo secretariat does not exist.")
        for project in demo.publish_approved(staff):
            self.stdout.write(
                f"  {project.reference} {project.get_status_display()}: {project.title}"
            )
        created, visitor = demo.load(
            staff,
            identity_officer=self._account(Role.IDENTITY_OFFICER),
            dpo=self._account(Role.DPO),
        )
        for request in created:
            self.stdout.write(f"  {request.receipt_number} {request.get_status_display()}")
        if visitor is not None:
            self.stdout.write(
                "Object at /opposition/ as this warehouse person (in the published project's "
                f"cohort): birth name {visitor.birth_name}, first names {visitor.first_names}, "
                f"sex {visitor.sex}, born {visitor.birth_date:%Y-%m-%d} in "
                f"{visitor.birth_place_name}"
            )
        else:
            self.stdout.write(
                "No warehouse person is in a published project's cohort (generate the warehouse "
                "first, then run this command again): no identity to object with."
            )

    @staticmethod
    def _account(role: Role) -> User | None:
        email = next((a.email for a in DEMO_ACCOUNTS if role in a.roles), None)
        return User.objects.filter(email=email).first() if email else None
