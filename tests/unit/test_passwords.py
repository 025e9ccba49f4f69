"""The password policy: 12 to 128 characters and a zxcvbn score of at least 3."""

import pytest

from consult.services.accounts import PASSWORD_MAX, PASSWORD_MIN, password_problem

STRONG_WORDS = "violet quartz harbour lantern meadow cobalt thistle juniper "


@pytest.fixture(autouse=True)
def _context(app):
    with app.test_request_context("/"):
        yield


@pytest.mark.parametrize("length", [PASSWORD_MIN + 8, 64, 72, 73, 100, PASSWORD_MAX])
def test_strong_passwords_up_to_128_accepted(length):
    password = (STRONG_WORDS * 3)[:length]
    assert len(password) == length and password_problem(password) is None


def test_too_short_and_too_long_refused():
    assert "at least 12" in password_problem("Xq7#kLm2!vT")
    assert "at most 128" in password_problem((STRONG_WORDS * 3)[: PASSWORD_MAX + 1])


@pytest.mark.parametrize("password", ["password1234", "123456789012", "qwertyuiopasdf", "aaaaaaaaaaaaaaaa"])
def test_common_or_patterned_passwords_refused(password):
    assert "too easy to guess" in password_problem(password)


def test_password_made_of_the_users_own_details_refused():
    assert password_problem("ada.lovelace2024", user_inputs=["ada.lovelace2024@example.org", "Ada Lovelace"])
