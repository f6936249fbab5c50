"""Record versions: a form carries the version it was opened at; a late form is refused.

Every register change raises the record's ``version`` in the same UPDATE that makes it
(``F("version") + 1``). A service checks the version under the record's write lock,
before anything is sent: a change made since the form was opened (an edit, a change of
code, a delete) refuses the form with ``StaleRecord`` and the CRM never sees it.

The form also carries the record as it was when opened (``opened``, signed), so the
refusal can show what changed since.
"""

from typing import Any

from django.core import signing
from django.db import models
from django.utils.translation import gettext

OPENED_SALT = "crmadmin.core.versions.opened"
# A signed snapshot larger than this is not read back (a hostile or broken form field).
OPENED_MAX_CHARS = 20_000


class StaleRecord(Exception):
    """The record changed (or went) since the form was opened: nothing was sent."""

    def __init__(self, *, code: str, expected: int | None, current: Any = None) -> None:
        self.code = code
        self.expected = expected
        # The register's row as it is now, or None when it was deleted (or re-coded away).
        self.current = current
        super().__init__(self.user_message)

    @property
    def deleted(self) -> bool:
        return self.current is None

    @property
    def user_message(self) -> str:
        if self.deleted:
            return gettext(
                "%(code)s was deleted or given another code since you opened this form. "
                "Nothing was sent to the CRM."
            ) % {"code": self.code}
        return gettext(
            "Someone changed %(code)s since you opened this form. Nothing was sent to the "
            "CRM: check the changes below, then apply your input to the new version or cancel."
        ) % {"code": self.code}

    def __str__(self) -> str:
        return self.user_message


def check_version(
    model: type[models.Model],
    *,
    pk: int,
    code: str,
    version: int | None,
    loaded: models.Model | None = None,
) -> models.Model:
    """The register's row ``pk`` as it is now, if it still has ``code`` and ``version``
    (None: any version); otherwise ``StaleRecord``.

    ``loaded``: the row as the caller read it from the database and has not changed
    since (a bulk job's frozen customer, with its phones and values prefetched). When the
    register still holds that very version, it *is* the row as it is now (every register
    change raises the version), so only the code and version are read, and ``loaded`` is
    returned with whatever it had prefetched."""
    if loaded is not None and (version is None or loaded.version == version):
        found = model.objects.filter(pk=pk).values_list("code", "version").first()
        if found == (code, loaded.version) and loaded.code == code:
            return loaded
    current = model.objects.filter(pk=pk).first()
    if current is None or current.code != code:
        raise StaleRecord(code=code, expected=version, current=None)
    if version is not None and current.version != version:
        raise StaleRecord(code=code, expected=version, current=current)
    return current


def sign_opened(snapshot: dict[str, Any]) -> str:
    return signing.dumps(snapshot, salt=OPENED_SALT, compress=True)


def read_opened(value: str | None) -> dict[str, Any] | None:
    """The snapshot a form was opened with, or None when absent or tampered with."""
    if not value or len(value) > OPENED_MAX_CHARS:
        return None
    try:
        opened = signing.loads(value, salt=OPENED_SALT)
    except signing.BadSignature:
        return None
    return opened if isinstance(opened, dict) else None


def changes_between(before: dict[str, Any] | None, after: dict[str, Any]) -> list[dict[str, Any]]:
    """``[{"key", "before", "after"}]`` for each key whose value differs."""
    if before is None:
        return []
    return [
        {"key": key, "before": before.get(key), "after": after.get(key)}
        for key in dict.fromkeys([*before, *after])
        if before.get(key) != after.get(key)
    ]
