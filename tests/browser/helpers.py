"""Steps that several browser journeys share."""

from __future__ import annotations

from tests.factories import PASSWORD
from tests.security.helpers import enrolled_device, totp_code


def staff_sign_in(page, user) -> None:
    """Sign ``user`` in on the staff sign-in page the browser shows: password and one-time code.

    The user gets an enrolled authenticator first (staff pages need two factors)."""
    device = enrolled_device(user)
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", totp_code(device))
    page.click("input[type=submit]")
