"""Reads about outputs, with their permission filtering."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from access.models_outputs import OutputItem, OutputItemStatus


def public_results(project, *, until: datetime | None = None) -> QuerySet[OutputItem]:
    """The released results the lead listed on the project's public page (TRA-11): title,
    release date and publication, never the file. ``until``: as listed at that moment (the
    listing date never changes, so a dated page shows what was online then, TRA-13)."""
    listed = OutputItem.objects.filter(
        request__project=project,
        status=OutputItemStatus.RELEASED,
        publicly_listed_at__isnull=False,
    )
    if until is not None:
        listed = listed.filter(publicly_listed_at__lte=until)
    return listed.only(
        "title", "release_number", "released_at", "publication_reference", "publicly_listed_at"
    ).order_by("released_at", "pk")


def public_closing_report(project):
    """The final report's public part (results, publications) once the project is closed."""
    from access.models_outputs import ClosingReport
    from projects.models import ProjectStatus

    if project.status != ProjectStatus.CLOSED:
        return None
    return (
        ClosingReport.objects.filter(project=project)
        .only("results_summary", "publications", "no_results_reason", "project_id")
        .first()
    )
