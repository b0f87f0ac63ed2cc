"""A backup and a restore of the test database, as an operator's dump and load would do them."""

from django.core.management import call_command


def backup(path) -> None:
    """Dump the data (not the audit evidence tables, which a restore keeps: append-only)."""
    call_command(
        "dumpdata",
        "--natural-foreign",
        "--exclude=contenttypes",
        "--exclude=auth.permission",
        "--exclude=sessions",
        "--exclude=audit",
        output=str(path),
        verbosity=0,
    )


def restore(path) -> None:
    """Empty the database and load the dump (the erasure ledger file outside it survives)."""
    call_command("flush", interactive=False, verbosity=0)
    call_command("loaddata", str(path), verbosity=0)
