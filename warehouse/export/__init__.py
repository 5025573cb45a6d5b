"""Provisioning's extraction engine: approved specification in, minimised dataset out.

It reads the warehouse and knows nothing of projects, registers or runs: the caller (the
provisioning run, in ``access``) builds an ``ExportRequest`` from the decision, the register
snapshot and the project key, then calls ``plan_run``, ``run_part`` for every part (in any
worker) and ``publish``; ``iter_delivered_pseudonyms`` tells who a plan delivers, when the
dataset itself does not say. See ``engine`` for the flow, ``plan`` for what may leave.
"""

from .engine import (
    ExportError,
    ExportRequest,
    Part,
    RunPlan,
    export_dataset,
    iter_delivered_pseudonyms,
    plan_run,
    pseudonym,
    publish,
    run_part,
    shift_days,
)
from .manifest import verify as verify_dataset
from .plan import SpecificationError, build_plan, person_link_column

__all__ = [
    "ExportError",
    "ExportRequest",
    "Part",
    "RunPlan",
    "SpecificationError",
    "build_plan",
    "export_dataset",
    "iter_delivered_pseudonyms",
    "person_link_column",
    "plan_run",
    "pseudonym",
    "publish",
    "run_part",
    "shift_days",
    "verify_dataset",
]
