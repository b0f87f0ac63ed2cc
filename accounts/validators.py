"""Validation of the values customers type, applied to the normalised value that is stored."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail.message import sanitize_address
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from .normalize import has_control_characters

EMAIL_MAX_LENGTH = 254
# RFC 1035: at most 253 characters in a domain name as it travels (ASCII, after IDNA).
DOMAIN_MAX_LENGTH = 253


def validate_normalized_email(email: str) -> None:
    """Raise ``ValidationError`` unless ``email``, as stored, is an address mail can be sent to.

    Normalising can break a value that was valid as typed: lowercasing the domain turns ``İ``
    into ``i̇`` (two code points), so ``a@`` + ``İ`` × 40 + ``.vn`` passes ``EmailField`` but is
    stored with an 80-character label that the model's own validator refuses and that IDNA cannot
    encode when a message is sent. Checked here: no control characters, at most 254 characters,
    Django's ``validate_email``, a domain that IDNA encodes into at most 253 characters, and an
    address Django's mail can put in a header (a long non-ASCII local part cannot be).
    """
    invalid = ValidationError(_("Enter a valid email address."), code="invalid")
    if has_control_characters(email):
        raise invalid
    if len(email) > EMAIL_MAX_LENGTH:
        raise ValidationError(
            _("Use at most %(max)d characters (you typed %(length)d).")
            % {"max": EMAIL_MAX_LENGTH, "length": len(email)},
            code="max_length",
        )
    validate_email(email)
    domain = email.rpartition("@")[2]
    try:
        ascii_domain = domain.encode("idna")
        # What Django does to the address when it sends mail (IDNA, encoded words).
        sanitize_address(email, settings.DEFAULT_CHARSET)
    except (UnicodeError, ValueError):
        raise invalid from None
    if len(ascii_domain) > DOMAIN_MAX_LENGTH:
        raise invalid
