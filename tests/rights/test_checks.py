"""`manage.py check` warns before the public-holiday list runs out."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import timezone

this_year = timezone.localdate().year


def check():
    out, err = io.StringIO(), io.StringIO()
    call_command("check", stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_no_warning_while_this_and_next_year_have_holidays(settings):
    settings.PUBLIC_HOLIDAYS = [f"{this_year}-09-02", f"{this_year + 1}-01-01"]
    assert "rights.W001" not in check()


def test_warns_when_next_year_has_no_holiday(settings):
    settings.PUBLIC_HOLIDAYS = [f"{this_year}-09-02", f"{this_year - 1}-01-01"]
    output = check()
    assert "rights.W001" in output and str(this_year + 1) in output
    assert f"{this_year}," not in output


def test_warns_for_both_years_when_the_list_is_old(settings):
    settings.PUBLIC_HOLIDAYS = ["2020-01-01"]
    output = check()
    assert "rights.W001" in output and f"{this_year}, {this_year + 1}" in output


def test_an_entry_that_is_no_date_is_an_error(settings):
    settings.PUBLIC_HOLIDAYS = [f"{this_year}-09-02", "2 September"]
    with pytest.raises(SystemCheckError, match="rights.E001"):
        check()
