"""A published dataset's manifest in words, for the run page and the recipients' pages.

"1 833 personnes dans la cohorte, 12 exclues après opposition, 632 (34 %) retirées par le
contrôle des petits effectifs, 1 189 livrées": the figures the manifest records, the decision it
names and every variable with its generalisation. Manifests written before these were recorded
(format 1: variables as codes, no decision) still give what they hold; the generalisations then
come from the approved specification the run executed.
"""

from __future__ import annotations

from typing import Any

from django.utils import formats
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from access.models_provisioning import ProvisioningRun, RunStatus
from warehouse import catalogue
from warehouse.catalogue import Generalisation


def _number(value: int) -> str:
    return formats.number_format(value, decimal_pos=0, force_grouping=True)


def _count(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def cohort_sentence(manifest: dict) -> str:
    """The cohort's figures in words, in the active language; "" when the manifest has none."""
    cohort = manifest.get("cohort") or {}
    suppression = manifest.get("suppression") or {}
    persons = _count(cohort.get("persons"))
    if persons is None:
        return ""
    excluded = _count(cohort.get("excluded_by_objection")) or 0
    without_consent = _count(cohort.get("excluded_without_consent")) or 0
    suppressed = _count(cohort.get("suppressed_small_cells"))
    if suppressed is None:
        suppressed = _count(suppression.get("persons_suppressed")) or 0
    delivered = _count(cohort.get("delivered"))
    parts = [
        ngettext("%(count)s person in the cohort", "%(count)s persons in the cohort", persons)
        % {"count": _number(persons)},
        ngettext(
            "%(count)s excluded after objection", "%(count)s excluded after objection", excluded
        )
        % {"count": _number(excluded)},
    ]
    if manifest.get("consent_based") or without_consent:
        parts.append(
            ngettext("%(count)s without consent", "%(count)s without consent", without_consent)
            % {"count": _number(without_consent)}
        )
    percent = round(100 * suppressed / persons) if persons else 0
    parts.append(
        ngettext(
            "%(count)s (%(percent)s%%) removed by the small-cell check",
            "%(count)s (%(percent)s%%) removed by the small-cell check",
            suppressed,
        )
        % {"count": _number(suppressed), "percent": _number(percent)}
    )
    if delivered is not None:
        parts.append(
            ngettext("%(count)s delivered", "%(count)s delivered", delivered)
            % {"count": _number(delivered)}
        )
    return ", ".join(parts)


def _generalisation_label(value: str | None) -> str:
    if not value:
        return _("not recorded")
    try:
        return str(Generalisation(value).label)
    except ValueError:
        return value


def variables(run: ProvisioningRun) -> list[dict[str, str]]:
    """Every variable of the dataset: label, column, generalisation (code and words)."""
    manifest = run.manifest or {}
    listed = (manifest.get("specification") or {}).get("variables") or []
    approved = {}
    if run.decision is not None:
        for entry in (run.decision.approved_specification or {}).get("variables") or []:
            if isinstance(entry, dict) and entry.get("code"):
                approved[entry["code"]] = entry.get("generalisation")
    english = (get_language() or "fr").startswith("en")
    rows = []
    for entry in listed:
        if isinstance(entry, dict):
            code = str(entry.get("code") or "")
            column = str(entry.get("column") or "")
            table = str(entry.get("table") or "")
            how = entry.get("generalisation")
        else:  # format 1: the code only
            code, column, table, how = str(entry), "", "", approved.get(str(entry))
        variable = catalogue.BY_CODE.get(code)
        label = (variable.label_en if english else variable.label_fr) if variable else code
        rows.append(
            {
                "code": code,
                "label": label,
                "table": table,
                "column": column,
                "generalisation": how or "",
                "generalisation_label": _generalisation_label(how),
            }
        )
    return rows


def summary(run: ProvisioningRun) -> dict[str, Any] | None:
    """What the run page and the recipients' pages say of a published dataset."""
    if run.status != RunStatus.PUBLISHED or not run.manifest:
        return None
    manifest = run.manifest
    decision = manifest.get("decision") or {}
    number = decision.get("number") or ""
    return {
        "run": run,
        "sentence": cohort_sentence(manifest),
        "decision_number": number,
        # A manifest of format 1 names no decision: the run's own, said to come from the run.
        "decision_from_run": not number and run.decision is not None,
        "run_decision_number": run.decision.number if run.decision is not None else "",
        "decision_sha256": decision.get("approved_specification_sha256") or "",
        "specification_sha256": (manifest.get("specification") or {}).get("sha256") or "",
        "specification_version": (manifest.get("specification") or {}).get("version"),
        "manifest_sha256": run.manifest_sha256,
        "archive_sha256": run.archive_sha256,
        "format": manifest.get("format"),
        "variables": variables(run),
    }


def in_force(runs: list[ProvisioningRun]) -> ProvisioningRun | None:
    """The newest published dataset neither replaced nor destroyed, among ``runs``."""
    from access.provisioning.selectors import hasattr_destruction

    for run in runs:
        if (
            run.status == RunStatus.PUBLISHED
            and run.superseded_by_id is None
            and not hasattr_destruction(run)
        ):
            return run
    return None
