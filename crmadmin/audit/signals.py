"""Receivers that turn Django's and django-axes' sign-in signals into local events."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from crmadmin.audit import events
from crmadmin.core.middleware import client_ip_of


def _ip(request) -> str | None:
    return client_ip_of(request) if request is not None else None


def signed_in(sender, request, user, **kwargs) -> None:
    events.record(events.SIGN_IN, actor=user, code=user.get_username(), ip=_ip(request))


def signed_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        events.record(events.SIGN_OUT, actor=user, code=user.get_username(), ip=_ip(request))


def sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    # Django has already replaced the password with asterisks; only the username is kept.
    username = str(credentials.get("username") or "")
    events.record(events.SIGN_IN_FAILED, code=username, ip=_ip(request))


def locked_out(sender, request, username, ip_address, **kwargs) -> None:
    events.record(events.LOCKED_OUT, code=str(username or ""), ip=ip_address or _ip(request))


def connect() -> None:
    from axes.signals import user_locked_out

    uid = "crmadmin.audit.events."
    user_logged_in.connect(signed_in, dispatch_uid=uid + "sign_in")
    user_logged_out.connect(signed_out, dispatch_uid=uid + "sign_out")
    user_login_failed.connect(sign_in_failed, dispatch_uid=uid + "sign_in_failed")
    user_locked_out.connect(locked_out, dispatch_uid=uid + "locked_out")
