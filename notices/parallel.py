"""Run one renewal-notice run from several processes, each on a disjoint share of the licences.

Shares are ``licence id mod workers``; the claims of ``notices.sending`` keep every notice
exactly-once even if shares overlapped. Each worker opens its own database connection.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence

from django.db import connections

from licensing.work import system_actor

from .sending import RunSummary, new_run_id


def _worker(args: tuple[Sequence[int], int, int, bool]) -> RunSummary:
    from .services import renewal_notices_send

    windows, index, count, progress = args
    connections.close_all()  # never share the parent's connection
    try:
        return renewal_notices_send(windows=windows, progress=progress, shard=(index, count))
    finally:
        connections.close_all()


def send_in_parallel(*, windows: Sequence[int], workers: int, progress: bool) -> RunSummary:
    """Send renewal notices from ``workers`` processes; return the combined summary."""
    system_actor()  # create it once, before the workers start
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        parts = pool.map(
            _worker, [(list(windows), i, workers, progress and i == 0) for i in range(workers)]
        )
    total = RunSummary(run_id=new_run_id())
    for part in parts:
        total.due += part.due
        total.sent += part.sent
        total.failed += part.failed
        total.already_sent += part.already_sent
        total.skipped_already += part.skipped_already
        total.skipped_consent += part.skipped_consent
        total.skipped_restricted += part.skipped_restricted
        total.errors.extend(part.errors)
    total.run_id = ",".join(part.run_id for part in parts)
    return total
