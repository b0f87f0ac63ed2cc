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


def test_reminds_without_warning_when_next_year_has_no_holiday(settings):
    settings.PUBLIC_HOLIDAYS = [f"{this_year}-09-02", f"{this_year - 1}-01-01"]
    output = check()
    assert "rights.W001" not in output
    assert "rights.I001" in output and str(this_year + 1) in output


def test_warns_when_this_year_has_no_holiday(settings):
    settings.PUBLIC_HOLIDAYS = ["2020-01-01"]
    output = check()
    assert "rights.W001" in output and str(this_year) in output
    assert "rights.I001" in output


def test_the_deploy_check_does_not_fail_on_next_years_reminder(settings):
    settings.PUBLIC_HOLIDAYS = [f"{this_year}-09-02"]
    call_command("check", fail_level="WARNING", stdout=io.StringIO(), stderr=io.StringIO())


def test_an_entry_that_is_no_date_is_an_error(settings):
    settings.PUBLIC_HOLIDAYS = [f"{this_year}-09-02", "2 September"]
    with pytest.raises(SystemCheckError, match="rights.E001"):
        check()
