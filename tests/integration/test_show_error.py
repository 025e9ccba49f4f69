"""The one helper that puts an error beside its form field (consult.forms.base.show_error), and what a reader sees."""

import re

import pytest
from wtforms import HiddenField, StringField, TextAreaField

from consult.forms.base import Form, show_error
from consult.services import ServiceError
from tests.factories import csrf_token, make_user, sign_in


class _Form(Form):
    token = HiddenField()
    title = StringField("Title")
    body = TextAreaField("Body")
    new_label = StringField("New label")


@pytest.fixture
def form(app):
    with app.test_request_context("/"):
        yield _Form()


def test_a_service_error_goes_beside_the_field_it_names(form):
    show_error(form, ServiceError("Write your comment.", field="body"), "title")
    assert form.body.errors == ["Write your comment."] and not form.title.errors


def test_a_name_the_form_lacks_falls_back_to_the_default_then_to_the_first_visible_field(form):
    show_error(form, ServiceError("Select at least one comment.", field="ids"), "body")
    show_error(form, ServiceError("Not allowed.", status=403))
    show_error(form, ServiceError("Has no field either.", field="data"))  # a Form attribute, not a field
    assert form.body.errors == ["Select at least one comment."]
    assert form.title.errors == ["Not allowed.", "Has no field either."]  # the hidden field is never chosen
    assert not form.token.errors


def test_aliases_map_the_services_names_to_the_forms(form):
    show_error(form, ServiceError("Give the theme a name.", field="label"), "title", aliases={"label": "new_label"})
    assert form.new_label.errors == ["Give the theme a name."]


def test_a_plain_message_and_a_line_of_a_draft(form):
    show_error(form, "Too many attempts.", "body")
    show_error(form, ServiceError("Unclosed fence.", line=12, field="body"))
    assert form.body.errors == ["Too many attempts.", "Line 12: Unclosed fence."]


def test_errors_add_up_after_validation_too(form):
    form.validate()  # WTForms makes each field's errors a list (a tuple before)
    show_error(form, ServiceError("One."), "body")
    show_error(form, ServiceError("Two."), "body")
    assert form.body.errors == ["One.", "Two."]


def test_the_reader_sees_the_message_beside_its_field_and_in_the_summary(app, client):
    user = make_user("drafter")
    sign_in(client, user.email)
    token = csrf_token(client, "/my/close")
    response = client.post("/my/close", data={"csrf_token": token, "comments": "keep", "password": "not my password"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400  # the service refused it: the form itself was valid
    beside = re.search(r'<p class="field__error" id="password-error">(.*?)</p>', html, re.S)
    assert beside and "Your password is not right." in beside.group(1)
    assert 'href="#password"' in html and 'aria-describedby="password-error"' in html
