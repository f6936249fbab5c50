"""The dashboard speaks Vietnamese to a browser that asks for it, and English otherwise."""

import ast
import gettext
import inspect
import re
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import fields
from django.test import Client
from django.urls import reverse
from django.utils.translation import override
from django.views import csrf

from crmadmin.core.django_messages import DJANGO_MESSAGES

LOCALE_DIR = Path(settings.BASE_DIR) / "locale" / "vi" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|%%|\{\w*\}")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def read_po(path: Path) -> list[dict]:
    """The entries of a .po file: msgid, msgid_plural, msgstr / msgstr[n], and flags."""
    entries = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        entry: dict = {"flags": set()}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                entry[key] += _unquote(line[1:-1])
            else:
                key, _, value = line.partition(" ")
                entry[key] = _unquote(value[1:-1])
        entries.append(entry)
    return entries


CATALOGUE = read_po(LOCALE_DIR / "django.po")
HEADER, MESSAGES = CATALOGUE[0], CATALOGUE[1:]


def translations(entry: dict) -> list[str]:
    return [value for key, value in entry.items() if key.startswith("msgstr")]


def test_catalogue_is_vietnamese_with_one_plural_form():
    assert HEADER["msgid"] == ""
    assert "fuzzy" not in HEADER["flags"]
    assert "Language: vi\n" in HEADER["msgstr"]
    assert "Plural-Forms: nplurals=1; plural=0;\n" in HEADER["msgstr"]
    assert len(MESSAGES) > 300


def test_every_message_is_translated_and_none_is_fuzzy():
    fuzzy = [entry["msgid"] for entry in MESSAGES if "fuzzy" in entry["flags"]]
    untranslated = [entry["msgid"] for entry in MESSAGES if not all(translations(entry))]
    plural_forms = [
        entry["msgid"]
        for entry in MESSAGES
        if "msgid_plural" in entry and set(translations(entry)) and "msgstr[0]" not in entry
    ]
    assert fuzzy == []
    assert untranslated == []
    assert plural_forms == []


def test_translations_keep_placeholders_and_markup():
    wrong = []
    for entry in MESSAGES:
        # The plural source differs from the singular only in words, never in placeholders.
        source = entry.get("msgid_plural", entry["msgid"])
        for translated in translations(entry):
            same_placeholders = Counter(PLACEHOLDER.findall(translated)) == Counter(
                PLACEHOLDER.findall(source)
            )
            same_markup = TAG.findall(translated) == TAG.findall(entry["msgid"])
            if not (same_placeholders and same_markup):
                wrong.append((entry["msgid"], translated))
    assert wrong == []


def test_compiled_catalogue_matches_the_po_file():
    """CI has no gettext: the committed .mo must be compiled from the committed .po."""
    with (LOCALE_DIR / "django.mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    for entry in MESSAGES:
        if "msgid_plural" in entry:
            assert (
                catalogue.ngettext(entry["msgid"], entry["msgid_plural"], 1) == entry["msgstr[0]"]
            )
            assert (
                catalogue.ngettext(entry["msgid"], entry["msgid_plural"], 5) == entry["msgstr[0]"]
            )
        elif "msgctxt" in entry:
            assert catalogue.pgettext(entry["msgctxt"], entry["msgid"]) == entry["msgstr"]
        else:
            assert catalogue.gettext(entry["msgid"]) == entry["msgstr"]


@pytest.mark.django_db
def test_english_is_the_default(client):
    html = client.get(reverse("login")).content.decode()
    assert '<html lang="en">' in html
    assert "<h1>Sign in</h1>" in html
    assert "Đăng nhập" not in html
    # The switcher names each language in itself, so a Vietnamese reader finds it in English.
    assert '<option value="en" lang="en" selected>English</option>' in html
    assert '<option value="vi" lang="vi">Tiếng Việt</option>' in html


@pytest.mark.django_db
def test_login_page_follows_accept_language(client):
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert '<html lang="vi">' in html
    assert "<h1>Đăng nhập</h1>" in html
    assert "Tên đăng nhập" in html and "Mật khẩu" in html
    assert 'action="/i18n/setlang/"' in html  # the switcher is there before signing in


@pytest.mark.django_db
def test_home_page_in_vietnamese_for_a_signed_in_user(client_as):
    client = client_as("manager")
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="vi-VN,vi;q=0.9,en;q=0.5").content.decode()
    assert 'data-nav="customers">Khách hàng</a>' in html
    assert 'data-nav="audit">Nhật ký thao tác</a>' in html
    assert "Danh mục:" in html
    assert "Đăng xuất" in html
    assert '<option value="vi" lang="vi" selected>Tiếng Việt</option>' in html


@pytest.mark.django_db
def test_composed_messages_read_naturally(client_as):
    client = client_as("administrator")
    html = client.get("/codes/statuses/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert '<h1 class="codes-title">Trạng thái khách hàng</h1>' in html
    assert "Thêm trạng thái" in html


@pytest.mark.django_db
def test_set_language_switches_an_anonymous_visitor(client):
    page = client.get(reverse("login") + "?next=/customers/")
    assert 'name="next" value="/login/?next=/customers/"' in page.content.decode()

    response = client.post(
        reverse("set_language"), {"language": "vi", "next": "/login/?next=/customers/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/customers/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "vi"
    assert "<h1>Đăng nhập</h1>" in client.get(response["Location"]).content.decode()


@pytest.mark.django_db
def test_set_language_switches_a_signed_in_user_back_and_forth(client_as):
    client = client_as("support")
    response = client.post(reverse("set_language"), {"language": "vi", "next": "/customers/"})
    assert response["Location"] == "/customers/"
    html = client.get("/customers/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<h1>Khách hàng</h1>" in html  # the cookie wins over the browser's language

    client.post(reverse("set_language"), {"language": "en", "next": "/customers/"})
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "<h1>Customers</h1>" in client.get("/customers/").content.decode()


@pytest.mark.django_db
def test_set_language_does_not_redirect_off_site(client):
    response = client.post(
        reverse("set_language"), {"language": "vi", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_django_messages_missing_from_djangos_catalogue_are_exact_copies():
    """The texts marked in core/django_messages.py only help while they match Django's."""
    csrf_texts = {
        node.args[0].value
        for node in ast.walk(ast.parse(inspect.getsource(csrf)))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_"
    }
    with override("en"):
        assert set(DJANGO_MESSAGES) == csrf_texts | {str(fields.BLANK_CHOICE_LABEL)}


@pytest.mark.django_db
def test_customer_form_selects_start_with_a_vietnamese_blank_choice(client_as):
    client = client_as("administrator")
    html = client.get("/customers/new/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "- Chọn một mục -" in html
    assert "Select an option" not in html


@pytest.mark.django_db
def test_csrf_failure_page_in_vietnamese():
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("login"), {"username": "x"}, HTTP_ACCEPT_LANGUAGE="vi")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Xác minh CSRF không thành công. Yêu cầu đã bị hủy." in html
    assert "CSRF verification failed" not in html
