import datetime

import pytest
from django.urls import reverse

from consent.models import PolicyVersion, sha256_hex
from consent.services import policy_publish

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
