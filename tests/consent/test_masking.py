from consent.masking import mask_email, mask_name, mask_phone, mask_value


def test_phone_mask_keeps_country_first_digit_and_last_three():
    assert mask_phone("+84912345678") == "+84 9** *** 678"


def test_email_mask_keeps_first_letter_and_domain():
    assert mask_email("nguyen.an@gmail.com") == "n***@gmail.com"


def test_name_mask_keeps_family_name_and_initials():
    assert mask_name("Nguyễn Văn An") == "Nguyễn V. A***"
    assert mask_name("An") == "A***"
    assert mask_name("") == ""


def test_unknown_fields_are_fully_masked():
    assert mask_value("address", "12 Lê Lợi") == "***"
