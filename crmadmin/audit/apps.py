from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "crmadmin.audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        from crmadmin.audit import signals

        signals.connect()
