"""Issue 10 item 10: favicon, htmx without injected styles, no-store on signed-in pages,
a development .env written once. (make run's output: tests/test_readme.py.)"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db

SIGNED_IN_PAGES = [
    "/",
    reverse("customers:list"),
    reverse("customers:create"),
    reverse("codes:list", kwargs={"kind": "statuses"}),
    reverse("codes:create", kwargs={"kind": "groups"}),
    reverse("audit:list"),
    reverse("audit:dashboard"),
    reverse("audit:export"),
]


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_signed_in_pages_are_never_stored(client, superuser, path):
    client.force_login(superuser)

    response = client.get(path)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


@pytest.mark.parametrize("signed_in", [False, True])
def test_every_page_names_the_favicon_and_configures_htmx_without_inline_styles(
    client, superuser, signed_in
):
    if signed_in:
        client.force_login(superuser)

    html = client.get(reverse("customers:list") if signed_in else reverse("login")).text

    icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
    assert icon and finders.find(icon.group(1).removeprefix(settings.STATIC_URL).lstrip("/"))
    assert '"includeIndicatorStyles": false' in html
    # The config must come before htmx reads it.
    assert html.index("htmx-config") < html.index("django_htmx/htmx")


def test_the_favicon_is_an_svg_image():
    path = Path(finders.find("favicon.svg"))
    assert path.read_text().startswith("<svg ")


@pytest.mark.parametrize("existing", [None, "DEBUG=false\nSECRET_KEY=mine\n"])
def test_write_dev_env_writes_once_and_never_overwrites(tmp_path, existing):
    target = tmp_path / ".env"
    if existing is not None:
        target.write_text(existing)

    call_command("write_dev_env", path=str(target))
    first = target.read_text()
    call_command("write_dev_env", path=str(target))

    assert target.read_text() == first
    if existing is None:
        assert "DEBUG=true" in first
        assert re.search(r"^SECRET_KEY=\S{40,}$", first, re.M)
        assert target.stat().st_mode & 0o077 == 0  # readable by its owner only
    else:
        assert first == existing
