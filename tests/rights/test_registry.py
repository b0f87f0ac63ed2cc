"""Every model whose history is personal data declares its personal fields for erasure."""

import pytest
from django.apps import apps

from consent.history import PurposeHistoryModel
from rights.registry import registered

pytestmark = pytest.mark.django_db


def test_every_personal_history_model_is_declared_in_the_erasure_registry():
    declared = {entry.model_label for entry in registered()}
    personal = {
        model._meta.label
        for model in apps.get_models()
        if getattr(model, "history", None) is not None
        and issubclass(model.history.model, PurposeHistoryModel)
    }
    assert personal - declared == set()


def test_declared_fields_exist_on_the_model_and_its_history():
    for entry in registered():
        model = apps.get_model(entry.model_label)
        for name in entry.fields:
            model._meta.get_field(name)
            history = getattr(model, "history", None)
            if entry.history and history is not None:
                history.model._meta.get_field(name)
