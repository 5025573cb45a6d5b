"""manage.py generate_warehouse --size XS|S|M --seed N [--replace]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from warehouse.disclosure import assign_record_keys
from warehouse.models import Person
from warehouse.selectors import forget_fill_rates
from warehouse.synthetic.clinical import missing_codes
from warehouse.synthetic.generator import SIZES, WarehouseNotEmpty, generate


class Command(BaseCommand):
    help = (
        "Fills the warehouse and the identity vault with synthetic SOS Médecins data: "
        "XS about 10,000 episodes (autumn 2025), S 200,000 and M 4.4 million (year 2025). "
        "The same seed and size always give the same data."
    )

    def add_arguments(self, parser):
        public = [name for name, size in SIZES.items() if not size.hidden]
        parser.add_argument(
            "--size", required=True, choices=list(SIZES), metavar="{" + ",".join(public) + "}"
        )
        parser.add_argument("--seed", type=int, required=True)
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Empty the warehouse tables (except concept) and the vault first.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Load only when the warehouse holds no person yet (make run uses it).",
        )

    def handle(self, *args, size, seed, replace, if_empty, **options):
        if seed < 0:
            raise CommandError("--seed must be a non-negative integer.")
        if if_empty and not replace and Person.objects.exists():
            self.stdout.write("The warehouse already holds data: nothing to do.")
            return
        verbosity = options["verbosity"]

        def progress(done: int, total: int) -> None:
            if verbosity >= 2:
                self.stderr.write(f"  {done:,} / {total:,} episodes")

        if verbosity >= 2:
            for gap in missing_codes():
                self.stderr.write(f"  not in the code lists, left out: {gap}")
        try:
            summary = generate(size=size, seed=seed, replace=replace, progress=progress)
        except WarehouseNotEmpty:
            raise CommandError(
                "The warehouse (or the vault) already holds data; nothing was loaded. "
                "Run again with --replace to empty them first."
            ) from None
        forget_fill_rates()
        # Feasibility counts perturb by the persons' record keys: new persons get theirs now (a
        # replaced warehouse holds other persons under the same ids: all are drawn again).
        assign_record_keys(reset=replace)
        if verbosity >= 1:
            self.stdout.write(
                f"Synthetic warehouse, size {size}, seed {seed}: {summary.persons:,} persons, "
                f"{summary.episodes:,} episodes in {summary.seconds:.1f} s."
            )
            width = max(len(table) for table in summary.rows)
            for table, count in summary.rows.items():
                self.stdout.write(f"  {table:<{width}}  {count:>12,}")
