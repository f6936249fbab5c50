"""The create and edit forms as drawn: phone rows, widgets per field type, keyboard use."""

import re

import pytest
from django.urls import reverse

from crmadmin.codes.models import Field

from .conftest import make_customer

pytestmark = pytest.mark.django_db


def test_create_form_starts_with_one_phone_row_and_the_code_focused(support_client, codes):
    response = support_client.get(reverse("customers:create"))

    text = response.text
    assert response.status_code == 200
    assert text.count('name="phones"') == 1
    assert 'name="code"' in text
    assert "autofocus" in re.search(r'<input[^>]*name="code"[^>]*>', text).group(0)
    assert 'hx-get="/customers/new/phone-row/"' in text
    assert 'hx-swap="beforeend"' in text
    assert "js/customers.js" in text
    assert '<label for="id_name">' in text


def test_phone_row_partial_is_one_focused_input(support_client, codes):
    response = support_client.get(reverse("customers:phone_row"), headers={"HX-Request": "true"})

    text = response.text.strip()
    assert text.startswith('<div class="phone-row">')
    assert text.count('name="phones"') == 1
    assert "autofocus" in text
    assert "data-remove-phone" in text
    assert "<html" not in text


@pytest.mark.parametrize(
    ("field_type", "widget"),
    [
        ("text", 'type="text"'),
        ("textarea", "<textarea"),
        ("number", 'type="number"'),
        ("date", 'type="date"'),
        ("email", 'type="email"'),
        ("phone", 'type="tel"'),
        ("url", 'type="url"'),
        ("CUSTOMER_INFORMATION_KIND", 'type="text"'),
    ],
)
def test_each_custom_field_gets_the_widget_of_its_type(support_client, codes, field_type, widget):
    Field.objects.all().delete()
    field = Field.objects.create(code="X", name="Trường X", field_type=field_type)

    text = support_client.get(reverse("customers:create")).text

    rendered = text[text.index(f'<label for="id_cf_{field.pk}">') :]
    rendered = rendered[: rendered.index("</div>")]
    assert "Trường X" in rendered
    assert widget in rendered


def test_custom_field_values_are_validated_by_type(crm, support_client, codes):
    data = {
        "code": "KH0001",
        "name": "An",
        "phones": ["0912345678"],
        "status": codes["status"].pk,
        "type": codes["type"].pk,
        "group": codes["group"].pk,
        f"cf_{codes['birthday'].pk}": "17/05/1990x",
        f"cf_{codes['staff'].pk}": "many",
    }

    response = support_client.post(reverse("customers:create"), data)

    assert response.status_code == 422
    assert response.context["form"].errors[f"cf_{codes['birthday'].pk}"] == ["Enter a valid date."]
    assert response.context["form"].errors[f"cf_{codes['staff'].pk}"] == ["Enter a number."]


def test_edit_form_is_filled_from_the_register_without_a_code_input(support_client, codes):
    make_customer(
        "KH0001",
        "Nguyễn Văn An",
        ["0912345678", "0987654321"],
        codes=codes,
        email="an@example.vn",
        values={codes["note"]: "Gọi buổi sáng"},
    )

    response = support_client.get(reverse("customers:edit", kwargs={"code": "KH0001"}))

    text = response.text
    assert 'name="code"' not in text
    assert text.count('name="phones"') == 2
    assert 'value="0912345678"' in text
    assert 'value="0987654321"' in text
    assert 'value="an@example.vn"' in text
    assert "Gọi buổi sáng</textarea>" in text
    assert f'<option value="{codes["status"].pk}" selected>' in text


def test_rename_refuses_the_same_or_a_taken_code(support_client, codes):
    make_customer("KH0001", "Nguyễn Văn An", codes=codes)
    make_customer("KH0002", "Trần Thị Bích", ["0987654321"], codes=codes)
    url = reverse("customers:rename", kwargs={"code": "KH0001"})

    same = support_client.post(url, {"new_code": "KH0001"})
    taken = support_client.post(url, {"new_code": "KH0002"})

    assert "That is the current code; enter a different one." in same.text
    assert "Another customer already has the code “KH0002”." in taken.text
