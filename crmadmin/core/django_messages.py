"""Django's own messages that staff can meet but Django's Vietnamese catalogue lacks.

Django 6.1's ``vi`` catalogue has no entry for the blank choice of a select (new in 6.1)
and leaves the CSRF failure page untranslated. Marking the exact English texts here puts
them in ``locale/vi/LC_MESSAGES/django.po``, and the project's catalogue is consulted before
Django's. Nothing imports this module: ``makemessages`` only needs to read it.
"""

from django.utils.translation import gettext_noop

DJANGO_MESSAGES = (
    # django.db.models.fields.BLANK_CHOICE_LABEL: the empty option of every select.
    gettext_noop("- Select an option -"),
    # django.views.csrf.csrf_failure: e.g. a login form left open until its token expired.
    gettext_noop("Forbidden"),
    gettext_noop("CSRF verification failed. Request aborted."),
    gettext_noop(
        "You are seeing this message because this HTTPS site requires a “Referer header” to "
        "be sent by your web browser, but none was sent. This header is required for "
        "security reasons, to ensure that your browser is not being hijacked by third "
        "parties."
    ),
    gettext_noop(
        "If you have configured your browser to disable “Referer” headers, please re-enable "
        "them, at least for this site, or for HTTPS connections, or for “same-origin” "
        "requests."
    ),
    gettext_noop(
        'If you are using the <meta name="referrer" content="no-referrer"> tag or including '
        "the “Referrer-Policy: no-referrer” header, please remove them. The CSRF protection "
        "requires the “Referer” header to do strict referer checking. If you’re concerned "  # noqa: RUF001
        'about privacy, use alternatives like <a rel="noreferrer" …> for links to '
        "third-party sites."
    ),
    gettext_noop(
        "You are seeing this message because this site requires a CSRF cookie when "
        "submitting forms. This cookie is required for security reasons, to ensure that your "
        "browser is not being hijacked by third parties."
    ),
    gettext_noop(
        "If you have configured your browser to disable cookies, please re-enable them, at "
        "least for this site, or for “same-origin” requests."
    ),
    gettext_noop("More information is available with DEBUG=True."),
)
