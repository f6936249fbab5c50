from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReconcileConfig(AppConfig):
    name = "crmadmin.reconcile"
    verbose_name = _("Needs attention")
