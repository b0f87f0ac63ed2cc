"""The summary line a notice run prints."""

from __future__ import annotations

from typing import Any

from .sending import RunSummary


def write_summary(out: Any, summary: RunSummary) -> None:
    """Write ``summary`` to a command's stdout."""
    if summary.dry_run:
        out.write(
            f"Dry run: would send {summary.due}; skipped {summary.skipped}"
            f" (consent withdrawn: {summary.skipped_consent})."
        )
        return
    out.write(
        f"Sent {summary.sent}, skipped {summary.skipped} (already sent or being sent by another"
        f" run: {summary.skipped_already}; consent withdrawn: {summary.skipped_consent}),"
        f" failed {summary.failed}. Run {summary.run_id}."
    )
    for error in summary.errors[:5]:
        out.write(f"  failure: {error}")
