import datetime

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from audit.triggers import has_append_only_triggers
from consent.models import PolicyVersion, PublishedPolicyError, sha256_hex
from consent.services import policy_publish
from tests.audit.helpers import assert_flush_refused

pytestmark = pytest.mark.django_db

SEED_VI = "Chính sách bảo mật\n\nBằng việc cung cấp"


def test_the_first_version_is_the_clients_policy_with_its_hashes(policy):
    assert policy.label == "1.0"
    assert policy.text_vi.startswith(SEED_VI)
    assert "five purposes" not in policy.text_en  # the team's translator note is not shipped
    assert policy.sha256_vi == sha256_hex(policy.text_vi)
    assert policy.sha256_en == sha256_hex(policy.text_en)


def test_policy_page_shows_the_current_text_in_the_active_language(client, policy):
    response = client.get(reverse("consent:policy"))
    assert response.context["text"].startswith(SEED_VI)
    assert "Phạm vi sử dụng thông tin" in response.content.decode()
    client.post(reverse("set_language"), {"language": "en"})
    response = client.get(reverse("consent:policy"))
    assert "Scope of use" in response.content.decode()
    assert policy.sha256_en in response.content.decode()


def test_accept_language_header_selects_english(client, policy):
    response = client.get(reverse("consent:policy"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.content.decode().count("Privacy policy") >= 1
    assert '<html lang="en">' in response.content.decode()


def test_a_new_version_becomes_current_and_the_old_one_stays_readable(client, policy):
    policy_publish(
        label="2.0",
        effective_date=datetime.date(2027, 1, 1),
        text_vi="Chính sách mới",
        text_en="New policy",
    )
    assert client.get(reverse("consent:policy")).context["text"] == "Chính sách mới"
    old = client.get(reverse("consent:policy_version", args=["1.0"]))
    assert old.context["text"].startswith(SEED_VI)
    assert client.get(reverse("consent:policy_version", args=["9.9"])).status_code == 404


def test_labels_are_unique_so_a_published_version_cannot_be_replaced(policy):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        policy_publish(
            label="1.0", effective_date=datetime.date(2027, 1, 1), text_vi="x", text_en="y"
        )
    assert PolicyVersion.objects.get(label="1.0").text_vi.startswith(SEED_VI)


# -- a published version never changes -------------------------------------------------------


def test_saving_a_changed_published_version_is_refused(policy):
    policy.text_vi = "tampered"
    with pytest.raises(PublishedPolicyError):
        policy.save()
    assert PolicyVersion.objects.get(label="1.0").text_vi.startswith(SEED_VI)


def test_a_new_object_with_a_published_id_cannot_save_over_it(policy):
    impostor = PolicyVersion(
        pk=policy.pk, label="1.0", effective_date=policy.effective_date, text_vi="tampered",
        text_en="tampered", sha256_vi=sha256_hex("tampered"), sha256_en=sha256_hex("tampered"),
    )
    with pytest.raises(PublishedPolicyError):
        impostor.save()
    assert PolicyVersion.objects.get(pk=policy.pk).text_vi.startswith(SEED_VI)


def test_deleting_a_published_version_is_refused(policy):
    with pytest.raises(PublishedPolicyError):
        policy.delete()
    assert PolicyVersion.objects.filter(pk=policy.pk).exists()


def test_the_table_carries_the_append_only_triggers(policy):
    assert has_append_only_triggers(connection, "consent_policyversion")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE consent_policyversion SET text_vi = 'tampered'",
        "DELETE FROM consent_policyversion",
    ],
)
def test_the_database_refuses_changes_that_skip_the_model(policy, sql):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        PolicyVersion.objects.filter(pk=policy.pk).update(text_vi="tampered")
    assert PolicyVersion.objects.get(pk=policy.pk).text_vi.startswith(SEED_VI)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE exists on PostgreSQL")
def test_the_database_refuses_truncate(policy):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE consent_policyversion CASCADE")


def test_the_test_suite_flush_still_empties_the_table(policy):
    """pytest-django's flush goes through audit's test gate, as for the other audit tables.

    Run inside this test's transaction (rolled back afterwards), so that later tests keep the
    migrations' data.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # no deferred FK checks pending in this transaction
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("flush", interactive=False, verbosity=0)
    assert not PolicyVersion.objects.exists()


def test_flush_outside_the_test_suite_is_refused_by_the_policy_table_too(policy, settings):
    # Without the test suite's gate, `flush` is Django's own and the policy table refuses it.
    assert_flush_refused(settings)
    assert PolicyVersion.objects.filter(pk=policy.pk).exists()
