from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _restore_roles(sender, **kwargs) -> None:
    # A database flush (transactional tests, `manage.py flush`) empties the groups that
    # the data migration created; post_migrate follows every flush and puts them back.
    from crmadmin.accounts.roles import create_all_permissions, sync_roles

    apps = kwargs.get("apps") or global_apps
    create_all_permissions(apps)
    sync_roles(apps)


class AccountsConfig(AppConfig):
    name = "crmadmin.accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from crmadmin.accounts.middleware import start_idle_clock

        user_logged_in.connect(start_idle_clock, dispatch_uid="crmadmin.accounts.idle_clock")
        post_migrate.connect(
            _restore_roles, sender=self, dispatch_uid="crmadmin.accounts.restore_roles"
        )
