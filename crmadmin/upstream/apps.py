from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UpstreamConfig(AppConfig):
    name = "crmadmin.upstream"
    verbose_name = _("Upstream CRM client")
