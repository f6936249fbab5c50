"""Issue 10 item 7 in real Chromium: focus goes to the first error; phone rows are added
and removed with JavaScript off too."""

import pytest

from crmadmin.codes.models import Group, Status, Type

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def codes(db):
    Status.objects.create(code="MOI", name="Mới")
    Type.objects.create(code="CA_NHAN", name="Cá nhân")
    Group.objects.create(code="HN", name="Hà Nội")


@pytest.mark.parametrize(
    ("fill", "focused"),
    [
        ({"#id_code": "KH 1", "#id_email": "not an address"}, "id_code"),
        ({"#id_code": "KH1", "#id_email": "not an address"}, "id_email"),
        ({"#id_code": "KH1", "#id_name": ""}, "id_name"),
    ],
)
def test_focus_goes_to_the_first_invalid_field(
    page, live_server, browser_login, support_user, codes, fill, focused
):
    browser_login(page, support_user)
    page.goto(f"{live_server.url}/customers/new/")
    page.fill("#id_name", "Nguyễn Văn An")
    page.locator("input[name=phones]").first.fill("0912345678")
    for selector, value in fill.items():
        page.fill(selector, value)
    with page.expect_navigation():
        page.get_by_role("button", name="Create customer").click()
    page.wait_for_function("document.activeElement && document.activeElement.id !== ''")

    assert page.evaluate("document.activeElement.id") == focused
    assert page.locator(f"#{focused}").get_attribute("aria-invalid") == "true"


def test_phone_rows_without_javascript(browser, live_server, browser_login, support_user, codes):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    browser_login(page, support_user)
    page.goto(f"{live_server.url}/customers/new/")
    page.fill("#id_name", "Nguyễn Văn An")
    phones = page.locator("input[name=phones]")
    phones.first.fill("0912345678")

    with page.expect_navigation():
        page.get_by_role("button", name="+ Add phone").click()
    assert phones.count() == 2
    assert page.input_value("#id_name") == "Nguyễn Văn An"
    phones.nth(1).fill("0987654321")
    with page.expect_navigation():
        page.get_by_role("button", name="+ Add phone").click()
    assert phones.count() == 3

    with page.expect_navigation():
        page.get_by_role("button", name="Remove this phone number").first.click()
    assert [phones.nth(i).input_value() for i in range(phones.count())] == ["0987654321", ""]
    context.close()
