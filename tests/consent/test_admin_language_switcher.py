"""The admin's language switcher (templates/admin/_language_switcher.html): vi and en, no script."""

import re

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

pytestmark = pytest.mark.django_db


def rendered(language="vi", path="/admin/accounts/customer/?q=x"):
    request = RequestFactory().get(path)
    with translation.override(language):
        return render_to_string("admin/_language_switcher.html", request=request)


def test_switcher_posts_vi_and_en_to_set_language_and_comes_back_here():
    html = rendered()
    assert 'action="/i18n/setlang/"' in html and 'method="post"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'name="next" type="hidden" value="/admin/accounts/customer/?q=x"' in html
    buttons = re.findall(r'<button type="submit" name="language" value="(\w+)"', html)
    assert buttons == ["vi", "en"]
    assert 'value="vi" lang="vi" aria-current="true"' in html


def test_switcher_marks_english_when_english_is_active():
    assert 'value="en" lang="en" aria-current="true"' in rendered("en")


def test_switcher_needs_no_script_or_inline_style():
    html = rendered().lower()
    assert "<script" not in html and "style=" not in html and "javascript:" not in html
    assert not re.search(r"\son\w+=", html)


def test_posting_it_switches_the_admin_to_english(client, support_user):
    client.force_login(support_user)
    response = client.post(
        "/i18n/setlang/", {"language": "en", "next": "/admin/accounts/customer/"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/accounts/customer/"
    page = client.get("/admin/accounts/customer/").content.decode()
    assert '<html lang="en"' in page


def test_every_admin_page_carries_the_switcher_the_sign_in_page_too(client, support_user):
    assert 'id="admin-language"' in client.get("/admin/login/").content.decode()
    client.force_login(support_user)
    for url in ("/admin/", "/admin/accounts/customer/", "/admin/purpose/"):
        assert 'id="admin-language"' in client.get(url).content.decode(), url
