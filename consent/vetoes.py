"""Access vetoes: registered rules that forbid using a customer's data even under an allowed
purpose (``rights`` vetoes customers under a standing restriction, except for complaints).

Asked by the admin (``consent.admin_mixins``), the licence and care services
(``licensing.work``) and both notice runs, always through ``vetoed_customer_ids``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.utils.translation import gettext

# Functions ``(customer_ids=, purpose=) -> set of vetoed ids`` registered by apps
# (``rights`` vetoes restricted customers). A vetoed customer's data is refused even under an
# allowed purpose: a ``denied`` row on every admin page using the mixin, a refusal in the
# services, a skipped customer in the notice runs.
ACCESS_VETOES: list[Callable[..., set[int]]] = []


def register_access_veto(veto: Callable[..., set[int]]) -> Callable[..., set[int]]:
    """Register ``veto`` (called with ``customer_ids=`` and ``purpose=``); return it."""
    if veto not in ACCESS_VETOES:
        ACCESS_VETOES.append(veto)
    return veto


# Vetoes are asked about this many customer ids at a time (one query each for ``rights``).
VETO_CHUNK = 2000


def vetoed_customer_ids(customer_ids: Iterable[Any], *, purpose: str | None) -> set[int]:
    """Return those of ``customer_ids`` whose data a registered access veto forbids under
    ``purpose`` (``rights`` vetoes customers under a standing restriction, except for
    complaints). The one place that asks the vetoes: the admin, the services and the runs."""
    if not ACCESS_VETOES:
        return set()
    ids = [int(pk) for pk in customer_ids if pk is not None]
    vetoed: set[int] = set()
    for start in range(0, len(ids), VETO_CHUNK):
        for veto in ACCESS_VETOES:
            vetoed.update(veto(customer_ids=ids[start : start + VETO_CHUNK], purpose=purpose))
    return vetoed


def restriction_message() -> str:
    """Say why a vetoed customer's data is refused."""
    return gettext(
        "This customer has restricted the processing of their data: it may be used "
        "only to resolve complaints and questions."
    )
