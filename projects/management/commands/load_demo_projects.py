from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from eds_portal.demo import DEMO_ACCOUNTS
from eds_portal.models import User
from eds_portal.roles import Role
from projects import demo


class Command(BaseCommand):
    help = (
        "Creates sample projects for the demo researcher: a draft, a submitted one, one with "
        "two versions (returned as incomplete, then revised), a withdrawn one, one under "
        "review and one decided in a past session. Idempotent."
    )

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("Demo data is never created in production.")
        email = next(a.email for a in DEMO_ACCOUNTS if Role.RESEARCHER in a.roles)
        researcher = User.objects.filter(email=email).first()
        if researcher is None:
            raise CommandError("Run load_demo first: the demo researcher does not exist.")
        secretariat_email = next(a.email for a in DEMO_ACCOUNTS if Role.SECRETARIAT in a.roles)
        secretariat = User.objects.filter(email=secretariat_email).first()
        projects = demo.load(researcher, secretariat)
        commission = {
            role: [
                User.objects.get(email=a.email)
                for a in DEMO_ACCOUNTS
                if role in a.roles and User.objects.filter(email=a.email).exists()
            ]
            for role in (Role.CHAIR, Role.COMMISSION_MEMBER, Role.PATIENT_REPRESENTATIVE)
        }
        chairs = commission[Role.CHAIR]
        members = [m for m in commission[Role.COMMISSION_MEMBER] if m not in chairs]
        if chairs and len(members) >= 2 and commission[Role.PATIENT_REPRESENTATIVE]:
            projects += demo.load_commission(
                researcher=researcher,
                secretariat=secretariat,
                chair=chairs[0],
                members=members,
                patient=commission[Role.PATIENT_REPRESENTATIVE][0],
            )
        for project in projects:
            project.refresh_from_db()
            self.stdout.write(
                f"  {project.reference} {project.get_status_display()}: {project.title}"
            )
