"""The lists: search (any case, any accents), sort, paging, counts, empty states, htmx."""

import pytest
from django.urls import reverse

from crmadmin.codes.models import Status, Type
from crmadmin.customers.models import Customer

from .conftest import make_record

pytestmark = pytest.mark.django_db

STATUSES = reverse("codes:list", kwargs={"kind": "statuses"})


def codes_shown(response) -> list[str]:
    return [row["record"].code for row in response.context["rows"]]


@pytest.fixture
def viewer(client_as):
    return client_as("support")


@pytest.fixture
def vietnamese_statuses(db):
    make_record("statuses", "TT_MOI", "Trạng thái mới")
    make_record("statuses", "VIP", "Khách VIP")
    make_record("statuses", "NGUNG", "Ngừng giao dịch")
    make_record("statuses", "DANG_CHAM_SOC", "Đang chăm sóc")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("trang thai", ["TT_MOI"]),
        ("TRẠNG THÁI", ["TT_MOI"]),
        ("KHACH", ["VIP"]),
        ("khách vip", ["VIP"]),
        ("vip", ["VIP"]),
        ("dang cham", ["DANG_CHAM_SOC"]),  # "Đ" folds to "d"
        ("ngung", ["NGUNG"]),
        ("  giao   dịch ", ["NGUNG"]),
        ("tt_moi", ["TT_MOI"]),  # the code too, any case
        ("n", ["DANG_CHAM_SOC", "NGUNG", "TT_MOI"]),
        ("100%", []),  # LIKE's wildcards are matched literally
    ],
)
def test_search_by_code_or_name_ignores_case_and_accents(
    viewer, vietnamese_statuses, query, expected
):
    response = viewer.get(STATUSES, {"q": query})

    assert codes_shown(response) == expected


def test_a_search_that_finds_nothing_says_so_and_offers_to_clear_it(viewer, vietnamese_statuses):
    page = viewer.get(STATUSES, {"q": "không có"}).content.decode()

    assert 'data-state="no-match"' in page
    assert "Nothing matches “không có”." in page
    assert "Clear the search" in page
    assert 'data-state="empty"' not in page


def test_an_empty_register_invites_the_administrator_to_create_the_first(client_as):
    page = client_as("administrator").get(STATUSES).content.decode()

    assert 'data-state="empty"' in page
    assert "There are no customer statuses yet." in page
    assert "Create the first status" in page
    assert reverse("codes:create", kwargs={"kind": "statuses"}) in page


def test_an_empty_register_offers_no_create_button_to_a_reader(viewer):
    page = viewer.get(STATUSES).content.decode()

    assert 'data-state="empty"' in page
    assert "Create the first" not in page
    assert "An administrator can add them." in page


def test_the_list_counts_and_shows_code_name_and_usage(viewer, vietnamese_statuses):
    status = Status.objects.get(code="VIP")
    other = make_record("statuses", "KHAC", "Khác")
    customer_type = make_record("types", "CA_NHAN", "Cá nhân")
    group = make_record("groups", "HN", "Hà Nội")
    for number in range(3):
        Customer.objects.create(
            code=f"KH{number}", name="Khách", status=status, type=customer_type, group=group
        )
    Customer.objects.create(code="KH9", name="Khác", status=other, type=customer_type, group=group)

    response = viewer.get(STATUSES)

    page = response.content.decode()
    assert "5 statuses" in page
    usage = {row["record"].code: row["record"].usage for row in response.context["rows"]}
    assert usage == {"DANG_CHAM_SOC": 0, "KHAC": 1, "NGUNG": 0, "TT_MOI": 0, "VIP": 3}
    assert '<td data-label="Name">Khách VIP</td>' in page


def test_field_usage_counts_customers_with_a_value(viewer):
    from crmadmin.customers.models import CustomerFieldValue

    field = make_record("fields", "NGAY_SINH", "Ngày sinh", field_type="date")
    make_record("fields", "WEBSITE", "Website", field_type="url")
    status = make_record("statuses", "MOI")
    customer_type = make_record("types", "CA_NHAN")
    group = make_record("groups", "HN")
    for number in range(2):
        customer = Customer.objects.create(
            code=f"KH{number}", name="Khách", status=status, type=customer_type, group=group
        )
        CustomerFieldValue.objects.create(customer=customer, field=field, value="2000-01-01")

    response = viewer.get(reverse("codes:list", kwargs={"kind": "fields"}))

    usage = {row["record"].code: row["record"].usage for row in response.context["rows"]}
    assert usage == {"NGAY_SINH": 2, "WEBSITE": 0}
    page = response.content.decode()
    assert "2 custom fields" in page
    assert ">Date</td>" in page  # a known type by its label


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("code", ["DANG_CHAM_SOC", "NGUNG", "TT_MOI", "VIP"]),
        ("-code", ["VIP", "TT_MOI", "NGUNG", "DANG_CHAM_SOC"]),
        ("name", ["VIP", "NGUNG", "TT_MOI", "DANG_CHAM_SOC"]),
        ("-name", ["DANG_CHAM_SOC", "TT_MOI", "NGUNG", "VIP"]),
        ("updated", ["TT_MOI", "VIP", "NGUNG", "DANG_CHAM_SOC"]),
        ("-updated", ["DANG_CHAM_SOC", "NGUNG", "VIP", "TT_MOI"]),
        ("bogus", ["DANG_CHAM_SOC", "NGUNG", "TT_MOI", "VIP"]),
    ],
)
def test_sort_by_code_name_or_last_change_both_ways(viewer, sort, expected):
    # Names without accents at the start, so every database orders them alike.
    for code, name in [
        ("TT_MOI", "Trang thai moi"),
        ("VIP", "Khach VIP"),
        ("NGUNG", "Ngung giao dich"),
        ("DANG_CHAM_SOC", "Van dang cham soc"),
    ]:
        make_record("statuses", code, name)

    response = viewer.get(STATUSES, {"sort": sort})

    assert codes_shown(response) == expected


def test_sort_headers_toggle_direction_and_keep_the_search(viewer, vietnamese_statuses):
    response = viewer.get(STATUSES, {"q": "a", "sort": "name"})

    headers = response.context["sort_headers"]
    assert headers["name"] == {"href": f"{STATUSES}?q=a&sort=-name", "aria_sort": "ascending"}
    assert headers["code"] == {"href": f"{STATUSES}?q=a&sort=code", "aria_sort": ""}
    page = response.content.decode()
    assert 'aria-sort="ascending"' in page
    # The search form carries the chosen sort along to the next search.
    assert '<input type="hidden" name="sort" value="name" form="code-search">' in page


def test_pages_of_25_with_links_that_keep_search_and_sort(viewer):
    for number in range(60):
        make_record("types", f"T{number:02d}", f"Loại {number}")

    first = viewer.get(reverse("codes:list", kwargs={"kind": "types"}), {"q": "loai"})
    third = viewer.get(
        reverse("codes:list", kwargs={"kind": "types"}), {"q": "loai", "sort": "-code", "page": 3}
    )
    beyond = viewer.get(reverse("codes:list", kwargs={"kind": "types"}), {"page": 99})

    types_url = reverse("codes:list", kwargs={"kind": "types"})
    assert codes_shown(first) == [f"T{n:02d}" for n in range(25)]
    assert "60 types" in first.content.decode()
    assert "Page 1 of 3" in first.content.decode()
    assert first.context["next_href"] == f"{types_url}?q=loai&sort=code&page=2"
    assert first.context["previous_href"] == ""
    assert codes_shown(third) == [f"T{n:02d}" for n in range(9, -1, -1)]
    assert third.context["previous_href"] == f"{types_url}?q=loai&sort=-code&page=2"
    assert third.context["next_href"] == ""
    assert codes_shown(beyond) == [f"T{n:02d}" for n in range(50, 60)]  # the last page


def test_htmx_gets_only_the_table_partial_and_a_plain_request_the_page(viewer, vietnamese_statuses):
    partial = viewer.get(STATUSES, {"q": "khach"}, HTTP_HX_REQUEST="true")
    whole = viewer.get(STATUSES, {"q": "khach"})

    partial_html = partial.content.decode()
    assert partial_html.lstrip().startswith('<div id="code-results"')
    assert "<html" not in partial_html
    assert 'id="code-search"' not in partial_html
    assert 'data-code="VIP"' in partial_html
    assert 'data-code="NGUNG"' not in partial_html
    whole_html = whole.content.decode()
    assert "<html" in whole_html
    assert 'id="code-search"' in whole_html
    assert 'data-code="VIP"' in whole_html
    assert "HX-Request" in partial["Vary"]
    assert "HX-Request" in whole["Vary"]


def test_htmx_history_restore_gets_the_whole_page(viewer, vietnamese_statuses):
    response = viewer.get(STATUSES, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")

    assert "<html" in response.content.decode()


def test_live_search_is_wired_for_htmx_with_real_links(viewer, vietnamese_statuses):
    page = viewer.get(STATUSES).content.decode()

    assert 'hx-trigger="input changed delay:250ms"' in page
    assert 'hx-target="#code-results"' in page
    assert 'hx-push-url="true"' in page
    assert f'method="get" action="{STATUSES}"' in page
    assert f'<a href="{STATUSES}?sort=-code" hx-get="{STATUSES}?sort=-code"' in page


def test_unknown_kind_is_not_found(viewer):
    assert viewer.get("/codes/colours/").status_code == 404
    assert viewer.get("/codes/colours/new/").status_code == 404


def test_unknown_code_is_not_found(client_as):
    client = client_as("administrator")
    make_record("statuses", "VIP")

    assert client.get("/codes/statuses/NOPE/edit/").status_code == 404
    assert client.get("/codes/statuses/vip/edit/").status_code == 404  # exact code only
    assert client.get("/codes/statuses/VIP/edit/").status_code == 200


def test_codes_with_dots_and_dashes_have_addresses(client_as):
    client = client_as("administrator")
    make_record("types", "B2B.v-2", "Doanh nghiệp")

    page = client.get(reverse("codes:list", kwargs={"kind": "types"})).content.decode()

    assert 'href="/codes/types/B2B.v-2/edit/"' in page
    assert client.get("/codes/types/B2B.v-2/edit/").status_code == 200
    assert Type.objects.get().code == "B2B.v-2"
