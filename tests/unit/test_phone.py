import pytest

from rules import phone
from rules.errors import InvalidInput


@pytest.mark.parametrize("raw", ["13800138000", "+86 138 0013 8000", "0086-138-0013-8000", "86 13800138000",
                                 "(138) 0013-8000"])
def test_every_way_of_writing_a_mobile_number_normalises_to_the_same_eleven_digits(raw):
    assert phone.normalise(raw) == "13800138000"


@pytest.mark.parametrize("raw", ["", "1380013800", "23800138000", "12800138000", "+1 415 555 0100", "138OO138000"])
def test_anything_else_is_refused_naming_the_phone_field(raw):
    with pytest.raises(InvalidInput) as refused:
        phone.normalise(raw)
    assert refused.value.field == "phone"


def test_a_number_is_shown_masked_and_looked_up_by_a_keyed_hash():
    assert phone.mask("13800138000") == "138****8000"
    hashed = phone.phone_hash("13800138000", "key-a")
    assert "13800138000" not in hashed
    assert hashed == phone.phone_hash("13800138000", "key-a")
    assert hashed != phone.phone_hash("13800138000", "key-b")


def test_numbers_in_free_text_are_redacted():
    assert phone.redact("call 13800138000 or +8613900139000") == "call 138****8000 or 139****9000"
