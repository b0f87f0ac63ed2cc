"""`manage.py check` refuses an extra day off that is no date; national holidays need no list."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError


def check():
    out, err = io.StringIO(), io.StringIO()
    call_command("check", stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_no_message_without_extra_days_off(settings):
    settings.PUBLIC_HOLIDAYS = []
    assert "rights." not in check()
    call_command("check", fail_level="WARNING", stdout=io.StringIO(), stderr=io.StringIO())


def test_extra_days_off_that_are_dates_pass(settings):
    settings.PUBLIC_HOLIDAYS = ["2027-09-01"]
    assert "rights." not in check()


def test_an_entry_that_is_no_date_is_an_error(settings):
    settings.PUBLIC_HOLIDAYS = ["2027-09-01", "2 September"]
    with pytest.raises(SystemCheckError, match="rights.E001"):
        check()
