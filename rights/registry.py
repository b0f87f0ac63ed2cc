"""The registry of personal fields: each app declares which columns hold a customer's values.

Erasure (``rights.erasure``) iterates over this registry, and over the simple-history table of
every registered model, so a new app is covered as soon as it declares its fields here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Given the customer being erased, return the filter (column -> value) that selects their rows.
SubjectFilter = Callable[[Any], dict[str, Any]]


@dataclass(frozen=True)
class PersonalFields:
    model_label: str
    fields: tuple[str, ...]
    subject: SubjectFilter
    history: bool = True


_registry: dict[str, PersonalFields] = {}


def register(
    model_label: str, *, fields: tuple[str, ...], subject: SubjectFilter, history: bool = True
) -> None:
    """Declare that ``fields`` of ``model_label`` hold personal values of the subject customer.

    ``subject(customer)`` returns the column filter selecting that customer's rows; it must use
    column names (``customer_id``, ``id``, ``user_id``) so it also selects their history rows.
    """
    _registry[model_label] = PersonalFields(model_label, tuple(fields), subject, history)


def registered() -> list[PersonalFields]:
    """Return the declarations of every installed app."""
    from django.apps import apps

    return [entry for label, entry in _registry.items() if _installed(apps, label)]


def _installed(apps: Any, label: str) -> bool:
    try:
        apps.get_model(label)
    except LookupError:
        return False
    return True
