"""Matches again the objections without a warehouse person (OPP-09); run after each load."""

from django.core.management.base import BaseCommand

from access.opposition.actions import rematch_oppositions


class Command(BaseCommand):
    help = "Match again the objections not matched yet against the warehouse's persons."

    def handle(self, *args, **options):
        summary = rematch_oppositions(by=None)
        self.stdout.write(
            f"{summary.checked} objection(s) checked, {summary.matched} now in force, "
            f"{summary.with_candidates} with candidates for the identity officer."
        )
