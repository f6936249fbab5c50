"""The list: one search box, filters, sort, pages, htmx partials and empty states."""

import pytest
from django.urls import reverse

from crmadmin.customers.models import Customer
from crmadmin.customers.selectors import search_words

from .conftest import make_customer

pytestmark = pytest.mark.django_db

LIST = "/customers/"


@pytest.fixture
def register(codes):
    return {
        "an": make_customer(
            "KH0001",
            "Nguyễn Văn An",
            ["0912345678", "0283 822 1234"],
            codes=codes,
            email="an.nguyen@example.vn",
        ),
        "bich": make_customer(
            "KH0002",
            "Trần Thị Bích",
            ["0987654321"],
            codes=codes,
            email="bich@congty.vn",
            status=codes["status_vip"],
            group=codes["group_south"],
        ),
        "dung": make_customer(
            "DN-77",
            "Lê Hoàng Dũng",
            ["+14155550100"],
            codes=codes,
            type=codes["type_company"],
        ),
    }


def codes_listed(response) -> list[str]:
    return [customer.code for customer in response.context["customers"]]


@pytest.mark.parametrize(
    "query",
    [
        "nguyen van an",
        "NGUYỄN văn an",
        "Nguyễn Văn An",
        "  nguyen   van  an ",
        "van an",
        "NGUYEN",
    ],
)
def test_name_search_ignores_case_and_accents(support_client, register, query):
    assert codes_listed(support_client.get(LIST, {"q": query})) == ["KH0001"]


@pytest.mark.parametrize(
    "query",
    [
        "0912345678",
        "0912 345 678",
        "0912.345.678",
        "0912-345-678",
        "+84 912 345 678",
        "+84912345678",
        "84912345678",
        "345 678",
        "2345",
        "912 345",
    ],
)
def test_phone_search_in_any_format(support_client, register, query):
    assert codes_listed(support_client.get(LIST, {"q": query})) == ["KH0001"]


def test_a_second_phone_finds_the_customer_too(support_client, register):
    assert codes_listed(support_client.get(LIST, {"q": "3822 1234"})) == ["KH0001"]


def test_fewer_than_four_digits_do_not_search_phones(support_client, register):
    # "678" is in 0912345678 but too short to be a phone search, and in no code or name.
    assert codes_listed(support_client.get(LIST, {"q": "678"})) == []
    assert codes_listed(support_client.get(LIST, {"q": "0912"})) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("KH0002", ["KH0002"]),
        ("kh000", ["KH0001", "KH0002"]),
        ("dn-7", ["DN-77"]),
        ("0002", ["KH0002"]),
    ],
)
def test_code_search_matches_a_prefix_or_a_part_in_any_case(
    support_client, register, query, expected
):
    assert codes_listed(support_client.get(LIST, {"q": query})) == expected


@pytest.mark.parametrize("query", ["bich@congty.vn", "CONGTY", "bich@"])
def test_email_search(support_client, register, query):
    assert codes_listed(support_client.get(LIST, {"q": query})) == ["KH0002"]


def test_search_wildcards_are_literal(support_client, register):
    assert codes_listed(support_client.get(LIST, {"q": "%"})) == []
    assert codes_listed(support_client.get(LIST, {"q": "_"})) == []


def test_filters_alone_and_combined(support_client, register, codes):
    assert codes_listed(support_client.get(LIST, {"status": "VIP"})) == ["KH0002"]
    assert codes_listed(support_client.get(LIST, {"type": "DOANH_NGHIEP"})) == ["DN-77"]
    assert codes_listed(support_client.get(LIST, {"group": "HN"})) == ["DN-77", "KH0001"]
    assert codes_listed(support_client.get(LIST, {"group": "HN", "q": "nguyen"})) == ["KH0001"]
    assert codes_listed(support_client.get(LIST, {"status": "VIP", "group": "HN"})) == []


def test_an_unknown_filter_value_is_ignored(support_client, register):
    response = support_client.get(LIST, {"status": "NO-SUCH", "sort": "password"})
    assert response.status_code == 200
    assert codes_listed(response) == ["DN-77", "KH0001", "KH0002"]


def test_sort_by_code_name_and_last_change(support_client, register):
    assert codes_listed(support_client.get(LIST)) == ["DN-77", "KH0001", "KH0002"]
    assert codes_listed(support_client.get(LIST, {"sort": "-code"})) == [
        "KH0002",
        "KH0001",
        "DN-77",
    ]
    # By the folded name: Lê < Nguyễn < Trần.
    assert codes_listed(support_client.get(LIST, {"sort": "name"})) == [
        "DN-77",
        "KH0001",
        "KH0002",
    ]
    register["an"].save()  # the most recent change
    assert codes_listed(support_client.get(LIST, {"sort": "-changed"}))[0] == "KH0001"
    assert codes_listed(support_client.get(LIST, {"sort": "changed"}))[-1] == "KH0001"


def test_rows_show_every_column(support_client, register):
    response = support_client.get(LIST, {"q": "KH0002"})
    row = response.text[response.text.index('data-code="KH0002"') :]
    row = row[: row.index("</tr>")]
    for text in ["Trần Thị Bích", "0987654321", "bich@congty.vn", "Khách VIP", "Cá nhân"]:
        assert text in row
    assert "Hồ Chí Minh" in row


def test_pages_of_25_with_a_total_count(support_client, codes):
    for number in range(1, 61):
        make_customer(f"KH{number:04d}", f"Khách {number}", [f"09000000{number:02d}"], codes=codes)

    first = support_client.get(LIST)
    third = support_client.get(LIST, {"page": 3})

    assert len(codes_listed(first)) == 25
    assert first.context["page_obj"].paginator.count == 60
    assert "60 customers" in first.text
    assert "page 1 of 3" in first.text
    assert 'href="?page=2"' in first.text
    assert codes_listed(third) == [f"KH{number:04d}" for number in range(51, 61)]
    assert codes_listed(support_client.get(LIST, {"page": "999"})) == codes_listed(third)
    searched = support_client.get(LIST, {"q": "khach", "page": 2})
    assert searched.context["page_obj"].paginator.count == 60
    assert codes_listed(searched)[0] == "KH0026"


def test_the_list_reads_a_fixed_number_of_queries(
    support_client, codes, django_assert_max_num_queries
):
    for number in range(1, 41):
        make_customer(
            f"KH{number:04d}",
            f"Khách {number}",
            [f"09000000{number:02d}", f"09100000{number:02d}"],
            codes=codes,
        )
    with django_assert_max_num_queries(14):
        support_client.get(LIST)
    with django_assert_max_num_queries(14):
        support_client.get(LIST, {"q": "khach"})


def test_htmx_request_gets_only_the_results_partial(support_client, register):
    response = support_client.get(LIST, {"q": "bich"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="customer-search"' not in response.text
    assert 'data-code="KH0002"' in response.text
    assert 'data-code="KH0001"' not in response.text
    assert 'name="sort"' in response.text


def test_history_restore_gets_the_whole_page(support_client, register):
    response = support_client.get(
        LIST,
        {"q": "bich"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in response.text


def test_plain_request_gets_the_whole_page_with_live_search_wired(support_client, register):
    response = support_client.get(LIST, {"q": "bich", "status": "VIP"})

    text = response.text
    assert "<html" in text
    assert 'hx-trigger="input changed delay:250ms, search"' in text
    assert 'hx-push-url="true"' in text
    assert 'value="bich"' in text
    assert '<option value="VIP" selected>' in text
    assert 'href="?q=bich&amp;status=VIP&amp;sort=-code"' in text


def test_empty_register_invites_to_create(support_client, codes):
    response = support_client.get(LIST)
    assert "No customers yet." in response.text
    assert "Create the first customer" in response.text
    assert reverse("customers:create") in response.text


def empty_state(response) -> str:
    text = response.text
    return text[text.index('data-empty="no-match"') :].split("</div>")[0]


def test_no_match_says_so_and_offers_to_clear(support_client, register):
    response = support_client.get(LIST, {"q": "zzz"})
    empty = empty_state(response)
    assert "No customer matches:" in empty
    assert "the search “zzz”" in empty
    assert 'data-filter="status"' not in empty
    assert 'data-action="clear"' in empty


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"status": "VIP", "type": "DOANH_NGHIEP"}, ["status", "type"]),
        ({"q": "bich", "group": "HN"}, ["q", "group"]),
        ({"q": "nguyen", "status": "VIP", "group": "HCM"}, ["q", "status", "group"]),
        ({"field": "GHI_CHU"}, ["field"]),
        ({"q": "zzz", "status": "NO-SUCH"}, ["q"]),  # an unknown value is no filter
    ],
)
@pytest.mark.parametrize("language", ["en", "vi"])
def test_the_empty_state_names_the_filters_that_are_set(
    support_client, register, codes, params, named, language
):
    response = support_client.get(LIST, params, headers={"accept-language": language})

    assert codes_listed(response) == []
    empty = empty_state(response)
    assert [
        m for m in ("q", "status", "type", "group", "field") if f'data-filter="{m}"' in empty
    ] == named
    words = {
        "en": {
            "q": f"the search “{params.get('q')}”",
            "status": "the status Khách VIP (VIP)",
            "type": "the type Doanh nghiệp (DOANH_NGHIEP)",
            "group": {"HN": "the group Hà Nội (HN)", "HCM": "the group Hồ Chí Minh (HCM)"},
            "field": "a value in the field Ghi chú (GHI_CHU)",
            "lead": "No customer matches all of these:"
            if len(named) > 1
            else "No customer matches:",
        },
        "vi": {
            "q": f"tìm kiếm “{params.get('q')}”",
            "status": "trạng thái Khách VIP (VIP)",
            "type": "loại Doanh nghiệp (DOANH_NGHIEP)",
            "group": {"HN": "nhóm Hà Nội (HN)", "HCM": "nhóm Hồ Chí Minh (HCM)"},
            "field": "có giá trị ở trường Ghi chú (GHI_CHU)",
            "lead": "Không có khách hàng nào khớp với tất cả các điều kiện sau:"
            if len(named) > 1
            else "Không có khách hàng nào khớp với:",
        },
    }[language]
    assert words["lead"] in empty
    for name in named:
        expected = words[name]
        if isinstance(expected, dict):
            expected = expected[params[name]]
        assert expected in empty
    # Each named filter has a link that removes only it.
    for name in named:
        item = empty.split(f'data-filter="{name}"')[1].split("</li>")[0]
        link = item.split('href="')[1].split('"')[0]
        assert f"{'q' if name == 'q' else name}=" not in link
        for other in named:
            if other != name:
                assert f"{other}=" in link


def test_manager_sees_the_list_without_write_buttons(client_as, register):
    response = client_as("manager").get(LIST)
    assert response.status_code == 200
    assert 'data-action="create"' not in response.text


@pytest.mark.parametrize(
    "query", ['"', 'an"', "nguyen OR", "*abc*", "(x)", "NEAR(a b)", "an'", "a:b", "-van", "^ng"]
)
def test_search_syntax_of_the_index_is_plain_text(support_client, register, query):
    response = support_client.get(LIST, {"q": query})
    assert response.status_code == 200
    assert codes_listed(response) == []


def test_the_search_follows_changes_of_name_phones_code_and_deletion(support_client, register):
    customer = register["an"]
    customer.name = "Đỗ Minh Khánh"
    customer.phone_digits = "84977111222"
    customer.save()

    assert codes_listed(support_client.get(LIST, {"q": "nguyen van an"})) == []
    assert codes_listed(support_client.get(LIST, {"q": "345 678"})) == []
    assert codes_listed(support_client.get(LIST, {"q": "do minh khanh"})) == ["KH0001"]
    assert codes_listed(support_client.get(LIST, {"q": "0977 111 222"})) == ["KH0001"]

    customer.code = "VIP-9"
    customer.save(update_fields=["code"])
    assert codes_listed(support_client.get(LIST, {"q": "vip-9"})) == ["VIP-9"]
    assert codes_listed(support_client.get(LIST, {"q": "kh0001"})) == []

    customer.delete()
    assert codes_listed(support_client.get(LIST, {"q": "khanh"})) == []


def test_a_search_with_many_matches_finds_the_same_pages(support_client, codes, monkeypatch):
    for number in range(1, 31):
        make_customer(
            f"KH{number:04d}", f"Nguyễn Khách {number}", [f"09000000{number:02d}"], codes=codes
        )
    make_customer("ZZ0001", "Trần Thị Bích", ["0987654321"], codes=codes)
    few = [
        codes_listed(support_client.get(LIST, {"q": "nguyen", "sort": "-name", "page": page}))
        for page in (1, 2)
    ]

    monkeypatch.setattr("crmadmin.customers.selectors.SEARCH_COUNT_LIMIT", 26)
    first = support_client.get(LIST, {"q": "nguyen", "sort": "-name"})
    many = [
        codes_listed(first),
        codes_listed(support_client.get(LIST, {"q": "nguyen", "sort": "-name", "page": 2})),
    ]

    assert len(few[0]) == 25
    assert len(few[1]) == 5
    assert "ZZ0001" not in few[0] + few[1]
    # Past the limit the count stops ("more than 26"), the pages hold the same customers.
    assert "More than 26 customers match" in first.text
    assert many[0] == few[0]
    assert many[1] == few[1][:1]


@pytest.fixture
def people(codes):
    """Names that share words and parts of words, as Vietnamese names do."""
    rows = [
        ("KH0001", "Nguyễn Thị Yến", "0901 111 222", "yen.nguyen@example.vn", "45 Trần Hưng Đạo"),
        ("KH0002", "Nguyễn Văn An", "0912345678", "an@example.vn", "12 Lê Lợi, Quận 1"),
        ("KH0003", "Đỗ Minh Khánh", "0987654321", "", "7 Nguyễn Huệ, Quận 1"),
        ("KH0004", "Nguyễn Văn Hùng", "0977000111", "nguyen.van.hung@example.vn", ""),
        ("KH0005", "Trần Thị Lan", "0966000222", "", "3 Lý Thường Kiệt"),
        ("KH0006", "Đỗ Văn An", "0355000333", "", ""),
    ]
    for code, name, phone, email, address in rows:
        customer = make_customer(code, name, [phone], codes=codes, email=email)
        customer.address = address
        customer.save()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # The three: any order, not adjacent.
        ("nguyen yen", ["KH0001"]),
        ("yen nguyen", ["KH0001"]),
        ("an nguyen", ["KH0002"]),
        ("nguyen an", ["KH0002"]),
        ("khanh do", ["KH0003"]),
        ("do khanh", ["KH0003"]),
        # Accents and case ignored.
        ("NGUYỄN yến", ["KH0001"]),
        ("Khánh ĐỖ", ["KH0003"]),
        # Words of one or two letters begin a word: "an" is An, not Lan or Khánh.
        ("an do", ["KH0006"]),
        ("an", ["KH0002", "KH0006"]),
        ("do", ["KH0003", "KH0006"]),
        ("y nguyen", ["KH0001"]),
        # The address.
        ("le loi", ["KH0002"]),
        ("tran hung dao", ["KH0001"]),
        ("ly thuong kiet lan", ["KH0005"]),
        ("quan 1", ["KH0002", "KH0003"]),
        ("nguyen hue khanh", ["KH0003"]),
        # A phone number in pieces is one word beside the others.
        ("nguyen 0912 345", ["KH0002"]),
        ("0912 345 nguyen", ["KH0002"]),
        ("an 0355 000", ["KH0006"]),
        ("nguyen 0987", []),
        # Every word must match.
        ("nguyen yen hung", ["KH0001"]),  # Hưng of the address
        ("nguyen yen lan", []),
        ("an khanh", []),
    ],
)
def test_every_word_matches_in_any_order(support_client, people, query, expected):
    assert codes_listed(support_client.get(LIST, {"q": query})) == expected


@pytest.mark.parametrize(
    "query",
    [
        "+84 (0) 912 345 678",
        "0084 912 345 678",
        "+84 912 345 678",
        "84912345678",
        "0912.345.678",
    ],
)
def test_every_way_of_writing_a_number_finds_its_customer(support_client, people, query):
    assert codes_listed(support_client.get(LIST, {"q": query})) == ["KH0002"]
    assert codes_listed(support_client.get(LIST, {"q": f"van an {query}"})) == ["KH0002"]


def test_a_change_of_address_is_searched(support_client, people):
    customer = Customer.objects.get(code="KH0004")
    customer.address = "99 Điện Biên Phủ"
    customer.save()

    assert codes_listed(support_client.get(LIST, {"q": "dien bien phu"})) == ["KH0004"]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("nguyen yen", [("nguyen", False, None), ("yen", True, None)]),
        ("an  nguyen an", [("an", True, None), ("nguyen", False, None)]),
        ("0912 345 678 an", [("0912 345 678", False, "84912345678"), ("an", True, None)]),
        ("kh 0002", [("kh", True, None), ("0002", False, None)]),
        ("ĐỖ", [("do", True, None)]),
    ],
)
def test_search_words(query, words):
    assert [(w.text, w.at_word_start, w.digits) for w in search_words(query)] == words
