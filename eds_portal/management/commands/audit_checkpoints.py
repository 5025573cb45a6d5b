"""The audit trail's signed checkpoints (LOG-04): key, sealing, verification."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from eds_portal import audit_epochs
from eds_portal.audit import verify_chain


class Command(BaseCommand):
    help = (
        "Signed checkpoints of the audit trail: --create-key PATH writes a new Ed25519 signing "
        "key (mode 0600; keep it off the database server), --public-key prints the verifying "
        "key, --close seals the closed months, --verify checks the chain, the signatures, the "
        "copies in EDS_AUDIT_CHECKPOINT_DIR and that no checkpoint is missing (status 1 if not)."
    )

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--create-key", metavar="PATH")
        group.add_argument("--public-key", action="store_true")
        group.add_argument("--close", action="store_true")
        group.add_argument("--verify", action="store_true")

    def handle(self, *args, **options):
        if options["create_key"]:
            path = Path(options["create_key"])
            if path.exists():
                raise CommandError(f"{path} exists: a key is never overwritten.")
            key_id = audit_epochs.create_signing_key(path)
            self.stdout.write(f"Key {key_id} written to {path}.")
            return
        if options["public_key"]:
            key = audit_epochs.verify_key()
            if key is None:
                raise CommandError("EDS_AUDIT_SIGNING_KEY_FILE is not set.")
            self.stdout.write(audit_epochs.public_pem(key))
            return
        if options["close"]:
            written = audit_epochs.close_periods()
            self.stdout.write(f"{len(written)} checkpoint(s) written.")
            return
        chain = verify_chain()
        checkpoints = audit_epochs.verify_checkpoints()
        problems = ([] if chain.ok else [chain.reason]) + checkpoints.problems
        if problems:
            raise CommandError("Audit trail NOT verified: " + "; ".join(problems))
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit trail verified: {chain.checked} events, "
                f"{checkpoints.checked} signed checkpoints."
            )
        )
