"""History of personal data: every change carries its actor, purpose, reference and reason.

simple-history records each save. This module closes its known gaps for personal-data models:
- the actor, purpose, reference and reason come from the access context (``consent.context``),
  and a personal-data write with no context open raises ``MissingAccessContext``;
- ``QuerySet.update()`` raises, ``bulk_update()`` works only through ``bulk_update_tracked`` and
  ``bulk_create()`` only through ``bulk_create_tracked``, which write history rows
  (simple-history's ``bulk_update_with_history`` and ``bulk_create_with_history``); upserts
  (``bulk_create(update_conflicts=True)``) have no tracked form and always raise;
- the models' base manager (Django's ``_base_manager``: related-object access, ``save()``,
  ``refresh_from_db()``) is the tracked one, so ``Model._base_manager.update()`` raises too;
- ``TrackedModel.changed_fields()`` lets services skip saves that change nothing, so an unchanged
  object adds no history row and no write;
- a write composed as SQL writes its history rows in the same statement through
  ``history_insert_select``, with the columns ``save()`` gives them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.manager import HistoryDescriptor
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from .context import require_context


class HistoryBypassError(RuntimeError):
    """A write path that would change personal data without writing history."""


class PurposeHistoryModel(models.Model):
    """Extra columns of every historical table of personal data."""

    history_purpose = models.CharField(_("purpose"), max_length=40, blank=True)
    history_reference = models.CharField(_("reference"), max_length=200, blank=True)
    history_channel = models.CharField(_("channel"), max_length=10, blank=True)

    class Meta:
        abstract = True


def history_actor(instance: Any = None, request: Any = None, **kwargs: Any) -> Any:
    """Return the acting user for simple-history: the access context's actor."""
    explicit = getattr(instance, "_history_user", None)
    if explicit is not None:
        return explicit
    ctx = require_context()
    actor = ctx.actor
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


@receiver(pre_create_historical_record)
def _fill_history_from_context(sender: Any, instance: Any, history_instance: Any, **kwargs: Any):
    if not isinstance(history_instance, PurposeHistoryModel):
        return
    ctx = require_context()
    history_instance.history_purpose = ctx.purpose or ""
    history_instance.history_reference = ctx.reference[:200]
    history_instance.history_channel = ctx.channel
    if not history_instance.history_change_reason and ctx.reason:
        history_instance.history_change_reason = ctx.reason[:100]


@functools.cache
def _untracked(sender: Any) -> frozenset[str]:
    """The fields of ``sender`` that its history leaves out (fixed once the models are loaded)."""
    history = getattr(sender, sender._meta.simple_history_manager_attribute, None)
    return frozenset(getattr(getattr(history, "model", None), "_history_excluded_fields", ()) or ())


class _HistoryDescriptor(HistoryDescriptor):
    """simple-history's ``Model.history`` descriptor, with its manager class built once.

    The stock descriptor builds a new manager class (``Manager.from_queryset``, which inspects
    every queryset method) on each access, and simple-history reads it for every history row it
    writes: a quarter of the time of the app's permission report went there.
    """

    def __init__(self, model: Any, manager: Any, queryset: Any) -> None:
        super().__init__(model, manager=manager, queryset=queryset)
        self._manager = self.manager_class.from_queryset(self.queryset_class)

    def __get__(self, instance: Any, owner: Any) -> Any:
        return self._manager(self.model, instance)


@receiver(pre_save)
def _refuse_write_without_context(
    sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any
) -> None:
    """Refuse a personal-data write with no access context before the row is written."""
    if not isinstance(instance, TrackedModel) or kwargs.get("raw"):
        return
    if update_fields is not None and set(update_fields) <= _untracked(sender):
        return
    require_context()


class PersonalHistory(HistoricalRecords):
    """``HistoricalRecords`` for personal data: context columns, and no row for a no-op save.

    A save that changes no tracked field (an unchanged form, or ``last_login`` on sign-in) adds no
    history row. The actor comes from the access context.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("bases", [PurposeHistoryModel])
        kwargs.setdefault("get_user", history_actor)
        kwargs.setdefault("user_related_name", "+")
        super().__init__(**kwargs)

    def finalize(self, sender: Any, **kwargs: Any) -> None:
        super().finalize(sender, **kwargs)
        descriptor = sender.__dict__.get(self.manager_name)
        if type(descriptor) is HistoryDescriptor:
            setattr(
                sender,
                self.manager_name,
                _HistoryDescriptor(
                    descriptor.model,
                    manager=descriptor.manager_class,
                    queryset=descriptor.queryset_class,
                ),
            )

    def post_save(self, instance: Any, created: bool, using: Any = None, **kwargs: Any) -> None:
        if not created and isinstance(instance, TrackedModel):
            excluded = set(self.excluded_fields or ())
            update_fields = kwargs.get("update_fields")
            if update_fields is not None and set(update_fields) <= excluded:
                return
            if not set(instance.changed_fields()) - excluded:
                return
        super().post_save(instance, created, using=using, **kwargs)
        if isinstance(instance, TrackedModel):
            instance.remember_loaded_values()


_bulk_allowed: ContextVar[bool] = ContextVar("excelcrm_history_bulk_allowed", default=False)


@contextmanager
def _allow_bulk() -> Iterator[None]:
    token = _bulk_allowed.set(True)
    try:
        yield
    finally:
        _bulk_allowed.reset(token)


class TrackedQuerySet(models.QuerySet):
    """A QuerySet for personal-data models that cannot change rows behind history's back."""

    def update(self, **kwargs: Any) -> int:
        if _bulk_allowed.get():
            # Django's bulk_update() runs update() per batch; bulk_update_tracked writes history.
            return super().update(**kwargs)
        raise HistoryBypassError(
            f"{self.model.__name__}.objects.update() would change personal data without history;"
            " use a service (save() or bulk_update_tracked())."
        )

    def bulk_update(self, objs: Any, fields: Any, batch_size: Any = None) -> int:
        if not _bulk_allowed.get():
            raise HistoryBypassError(
                f"{self.model.__name__}.objects.bulk_update() writes no history;"
                " use consent.history.bulk_update_tracked()."
            )
        return super().bulk_update(objs, fields, batch_size=batch_size)

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if kwargs.get("update_conflicts"):
            # An upsert changes existing rows without saying which: no history can describe it.
            raise HistoryBypassError(
                f"{self.model.__name__}.objects.bulk_create(update_conflicts=True) would change"
                " personal data without history; create with bulk_create_tracked() and change"
                " with a service."
            )
        if not _bulk_allowed.get():
            raise HistoryBypassError(
                f"{self.model.__name__}.objects.bulk_create() writes no history;"
                " use consent.history.bulk_create_tracked()."
            )
        return super().bulk_create(objs, *args, **kwargs)


class TrackedModel(models.Model):
    """A personal-data model that knows which fields changed since it was loaded."""

    objects = TrackedQuerySet.as_manager()

    class Meta:
        abstract = True
        # Inherited by every subclass, even one with its own Meta (Django takes a model's base
        # manager from its first parent with one): ``_base_manager`` is the tracked ``objects``.
        base_manager_name = "objects"

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> Any:
        instance = super().from_db(db, field_names, values)
        instance._loaded_values = dict(zip(field_names, values, strict=True))
        return instance

    def changed_fields(self) -> list[str]:
        """Return the names of concrete fields whose value differs from what was loaded."""
        loaded = getattr(self, "_loaded_values", None)
        if loaded is None or self._state.adding:
            return [f.attname for f in self._meta.concrete_fields]
        changed = []
        for field in self._meta.concrete_fields:
            if field.attname not in loaded:
                continue
            current, before = getattr(self, field.attname), loaded[field.attname]
            # The very object that was loaded is unchanged (preparing is not free: a phone
            # number is validated twice each time it is prepared).
            if current is not before and field.get_prep_value(current) != field.get_prep_value(
                before
            ):
                changed.append(field.attname)
        return changed

    def has_changes(self, fields: Sequence[str]) -> bool:
        """Return True if any of ``fields`` differs from what was loaded."""
        attnames = {self._meta.get_field(name).attname for name in fields}
        return bool(attnames & set(self.changed_fields()))

    def save_tracked(self) -> list[str]:
        """Validate what changed and save if anything did; return the changed field names.

        Unchanged fields were valid when stored, so only the changed ones are validated (this also
        spares a uniqueness query per unchanged unique field on every save).
        """
        changed = self.changed_fields()
        if not changed:
            return []
        require_context()
        unchanged = [f.name for f in self._meta.concrete_fields if f.attname not in changed]
        self.full_clean(exclude=unchanged)
        self.save()
        return changed

    def remember_loaded_values(self) -> None:
        """Treat the current field values as the stored ones (after a save)."""
        fields = self._meta.concrete_fields
        self._loaded_values = {f.attname: getattr(self, f.attname) for f in fields}


def _history_columns(ctx: Any) -> dict[str, Any]:
    """Return the context's history columns (bulk_history_create sends no pre_create signal)."""
    return {
        "history_purpose": ctx.purpose or "",
        "history_reference": ctx.reference[:200],
        "history_channel": ctx.channel,
    }


def bulk_update_tracked(objs: Sequence[TrackedModel], fields: Sequence[str]) -> int:
    """Bulk-update ``objs`` and write one history row for each changed one, in one transaction.

    An object whose ``fields`` hold what was loaded is left out (no write, no history row), as
    ``save_tracked`` does for one object. Return the number of rows updated.
    """
    ctx = require_context()
    fields = list(fields)
    changed = [obj for obj in objs if obj.has_changes(fields)]
    if not changed:
        return 0
    model = type(changed[0])
    with transaction.atomic(), _allow_bulk():
        count = bulk_update_with_history(
            changed,
            model,
            fields,
            default_user=history_actor(),
            default_change_reason=ctx.reason[:100],
            custom_historical_attrs=_history_columns(ctx),
        )
    for obj in changed:
        obj.remember_loaded_values()
    return count


def bulk_create_tracked(
    objs: Sequence[TrackedModel], *, batch_size: int | None = None
) -> list[TrackedModel]:
    """Insert ``objs`` and write one ``+`` history row for each, in one transaction.

    The history rows carry the access context's actor, purpose, reference, reason and channel,
    like those of ``save()``; with no context open this raises ``MissingAccessContext``. Plain
    inserts only: ``ignore_conflicts`` would leave history rows for rows that were not inserted,
    and upserts change rows without history. Return the created objects (with their ids).
    """
    ctx = require_context()
    objs = list(objs)
    if not objs:
        return []
    model = type(objs[0])
    with transaction.atomic(), _allow_bulk():
        created = bulk_create_with_history(
            objs,
            model,
            batch_size=batch_size,
            default_user=history_actor(),
            default_change_reason=ctx.reason[:100] or None,
            custom_historical_attrs=_history_columns(ctx),
        )
    for obj in created:
        obj.remember_loaded_values()
    return created


def history_insert_select(
    model: type[TrackedModel], *, source: str, history_type: str, actor: str
) -> tuple[str, list[Any]]:
    """Return ``(sql, params)``: an ``INSERT … SELECT … FROM source`` writing, for each row of
    ``source`` (a table or ``WITH`` name holding rows of ``model``'s table, e.g. those of an
    ``UPDATE … RETURNING *``), the history row ``save()`` would write, its user being the SQL
    expression ``actor``.

    For a write that records its history in the same statement (a data-modifying ``WITH`` on
    PostgreSQL): the history columns come from the open access context as ``save()`` takes them
    (purpose, reference, channel, reason), the history date is now. Like simple-history's bulk
    helpers, it sends no ``pre_create_historical_record`` signal.
    """
    ctx = require_context()
    values = {
        **_history_columns(ctx),
        "history_date": timezone.now(),
        "history_change_reason": ctx.reason[:100] or None,
        "history_type": history_type,
    }
    sql, passed = _history_insert_select_sql(model, source, actor)
    return sql, [field.get_db_prep_save(values[field.attname], connection) for field in passed]


@functools.cache
def _history_insert_select_sql(
    model: type[TrackedModel], source: str, actor: str
) -> tuple[str, tuple[Any, ...]]:
    """The statement of ``history_insert_select`` and the history fields passed as parameters."""
    quote = connection.ops.quote_name
    history = model.history.model
    tracked = {f.attname: f.column for f in model._meta.concrete_fields}
    columns, expressions, passed = [], [], []
    for field in history._meta.concrete_fields:
        if field.attname == "history_id":
            continue
        columns.append(quote(field.column))
        if field.attname == "history_user_id":
            expressions.append(actor)
        elif field.attname in tracked:
            expressions.append(f'"s".{quote(tracked[field.attname])}')
        elif field.attname in _HISTORY_VALUES:
            expressions.append("%s")
            passed.append(field)
        else:
            raise ImproperlyConfigured(f"history_insert_select knows no value for {field}")
    sql = (
        f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(columns)}) "
        f'SELECT {", ".join(expressions)} FROM {source} AS "s"'
    )
    return sql, tuple(passed)


# The history columns that are not the tracked model's own, as ``history_insert_select`` fills them.
_HISTORY_VALUES = frozenset(
    {
        "history_purpose",
        "history_reference",
        "history_channel",
        "history_date",
        "history_change_reason",
        "history_type",
    }
)
