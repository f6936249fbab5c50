"""Issue 10 item 6, in real Chromium: no screen scrolls sideways on a phone (390 by 844), the
navigation folds into a menu there, and at 1366 px the Vietnamese navigation and the
customer search fit on one line. No console error (CSP) on any of them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crmadmin.audit.models import AuditEntry, Outcome
from crmadmin.codes.models import Field, Group, Status, Type
from tests.audit.conftest import entry_fields
from tests.customers.conftest import make_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = "Nguyễn Thị Phương Thảo Trần Lê Hoàng Anh Kim Ngọc Bảo Châu Vũ Đình Khôi Nguyên"
PHONE = {"viewport": {"width": 390, "height": 844}}


@pytest.fixture
def register(superuser):
    codes = {
        "status": Status.objects.create(code="DANG_CHAM_SOC_DAI_HAN", name="Đang chăm sóc dài hạn"),
        "type": Type.objects.create(code="DOANH_NGHIEP_LON", name="Doanh nghiệp lớn"),
        "group": Group.objects.create(
            code="HO_CHI_MINH_1", name="Hồ Chí Minh", description="Khách ở TP. HCM " * 20
        ),
    }
    note = Field.objects.create(code="GHI_CHU_DAI", name="Ghi chú rất dài", field_type="textarea")
    make_customer(
        "KH_0000000001_VERY_LONG_CODE_FOR_A_TEST",
        LONG,
        ["0912345678", "+84283822123", "0987654321"],
        codes=codes,
        email="nguyen.thi.phuong.thao.tran.le.hoang.anh@congty-rat-dai.example.vn",
        values={note: "Gọi buổi sáng " * 30},
    )
    entry = AuditEntry.objects.create(
        **entry_fields(
            actor=superuser,
            operation="customer.update",
            record_kind="customer",
            code="KH_0000000001_VERY_LONG_CODE_FOR_A_TEST",
            outcome=Outcome.REJECTED,
            upstream_error="1101",
            upstream_message="Mã khách hàng đã tồn tại trong hệ thống, vui lòng kiểm tra " * 3,
            started_at=timezone.now() - timedelta(minutes=20),
        )
    )
    return {"entry": entry}


def _screens(entry) -> list[str]:
    customer = "KH_0000000001_VERY_LONG_CODE_FOR_A_TEST"
    screens = [
        "/",
        "/customers/",
        "/customers/?q=nobody-matches-this",
        f"/customers/{customer}/",
        "/customers/new/",
        f"/customers/{customer}/edit/",
        f"/customers/{customer}/rename/",
        f"/customers/{customer}/delete/",
        "/audit/",
        f"/audit/{entry.pk}/",
        "/audit/dashboard/",
    ]
    for kind, code in [
        ("statuses", "DANG_CHAM_SOC_DAI_HAN"),
        ("types", "DOANH_NGHIEP_LON"),
        ("groups", "HO_CHI_MINH_1"),
        ("fields", "GHI_CHU_DAI"),
    ]:
        screens += [
            f"/codes/{kind}/",
            f"/codes/{kind}/new/",
            f"/codes/{kind}/{code}/",
            f"/codes/{kind}/{code}/edit/",
            f"/codes/{kind}/{code}/rename/",
            f"/codes/{kind}/{code}/delete/",
        ]
    return screens


def _overflow(page) -> tuple[int, int]:
    return page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")


@pytest.mark.parametrize("language", ["en", "vi"])
def test_no_screen_scrolls_sideways_on_a_phone(
    browser, live_server, browser_login, superuser, register, language
):
    context = browser.new_context(**PHONE, locale=language)
    page = context.new_page()
    errors = []
    page.on(
        "console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None
    )
    page.goto(f"{live_server.url}/login/")
    assert _overflow(page)[0] <= _overflow(page)[1], "the sign-in page"
    browser_login(page, superuser)
    too_wide = {}
    for path in _screens(register["entry"]):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        scroll_width, inner_width = _overflow(page)
        if scroll_width > inner_width:
            too_wide[path] = scroll_width
    context.close()
    assert too_wide == {}, f"wider than 390 px: {too_wide}"
    assert errors == []


def test_the_navigation_folds_into_a_menu_on_a_phone(
    browser, live_server, browser_login, superuser
):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    browser_login(page, superuser)
    nav = page.get_by_role("navigation", name="Main")
    customers = nav.get_by_role("link", name="Customers")

    assert not customers.is_visible()
    nav.get_by_text("Menu").click()
    assert customers.is_visible()
    assert nav.get_by_role("button", name="Sign out").is_visible()
    customers.click()
    page.wait_for_url(f"{live_server.url}/customers/")
    assert not nav.get_by_role("link", name="Customers").is_visible()  # folded again
    context.close()


def test_at_1366_the_vietnamese_navigation_and_the_search_fit_on_one_line(
    browser, live_server, browser_login, superuser
):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi")
    page = context.new_page()
    browser_login(page, superuser)
    page.goto(f"{live_server.url}/customers/")

    nav_height, line_height = page.evaluate(
        """() => {
            const nav = document.querySelector('.nav');
            const link = nav.querySelector('.nav-links a');
            return [nav.getBoundingClientRect().height, link.getBoundingClientRect().height];
        }"""
    )
    tops = page.evaluate(
        """() => ['#id_q', '#id_status', '#id_type', '#id_group', '#customer-search [type=submit]']
            .map(s => Math.round(document.querySelector(s).getBoundingClientRect().top))"""
    )
    context.close()
    assert nav_height < 3 * line_height, "the navigation wraps onto a second line"
    assert max(tops) - min(tops) < 10, f"the search form wraps: {tops}"
