"""The summary line a notice run prints."""

from __future__ import annotations

from typing import Any

from .sending import RunSummary


def _reasons(summary: RunSummary, *, claimed: bool) -> str:
    parts = [f"already sent: {summary.already_sent}"]
    if claimed:
        parts.append(f"being sent by another run: {summary.skipped_already}")
    parts.append(f"consent withdrawn: {summary.skipped_consent}")
    parts.append(f"restricted: {summary.skipped_restricted}")
    return "; ".join(parts)


def write_summary(out: Any, summary: RunSummary) -> None:
    """Write ``summary`` to a command's stdout."""
    if summary.dry_run:
        out.write(
            f"Dry run: would send {summary.due}; skipped {summary.skipped}"
            f" ({_reasons(summary, claimed=False)})."
        )
        return
    out.write(
        f"Sent {summary.sent}, skipped {summary.skipped} ({_reasons(summary, claimed=True)}),"
        f" failed {summary.failed}. Run {summary.run_id}."
    )
    for error in summary.errors[:5]:
        out.write(f"  failure: {error}")
