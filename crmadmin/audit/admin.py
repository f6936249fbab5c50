"""The audit log in Django's admin: for reading only, like everywhere else. And Django's
user and group (role) admin, with every change also written to the audit log as a local
event: who changed which user or role, and Django's own account of what."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from crmadmin.audit import events
from crmadmin.audit.models import AuditEntry
from crmadmin.audit.recorder import OUTCOME_FIELDS


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = (
        "started_at",
        "operation",
        "code",
        "new_code",
        "outcome",
        "failure_kind",
        "http_status",
        "actor_username",
        "duration_ms",
        "request_id",
    )
    list_filter = ("outcome", "failure_kind", "record_kind", "operation", "started_at")
    search_fields = ("=request_id", "code", "new_code", "actor_username", "upstream_message")
    date_hierarchy = "started_at"
    ordering = ("-started_at", "-id")
    list_per_page = 50
    # Counting a large log for every page is costly; the paginator shows "more" instead.
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("operation", "record_kind", "code", "new_code", "request_id")}),
        (_("who"), {"fields": ("actor", "actor_username", "actor_ip")}),
        (_("timing"), {"fields": ("started_at", "finished_at", "duration_ms")}),
        (_("outcome"), {"fields": OUTCOME_FIELDS}),
        (_("request"), {"fields": ("request_body", "snapshot_before")}),
    )

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Users and roles: Django's admin, each change also a local event in the audit log ---


class AuditedChanges:
    event: str

    def _audit(self, request, action: str, obj, message) -> None:
        events.record(
            self.event,
            actor=request.user,
            code=str(obj),
            details={"action": action, "object_id": str(obj.pk), "change": message or []},
        )

    def log_addition(self, request, obj, message):
        self._audit(request, "add", obj, message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._audit(request, "change", obj, message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._audit(request, "delete", obj, [])
        return super().log_deletions(request, queryset)


class AuditedUserAdmin(AuditedChanges, UserAdmin):
    event = events.USER_CHANGED


class AuditedGroupAdmin(AuditedChanges, GroupAdmin):
    event = events.ROLE_CHANGED


for model, model_admin in ((get_user_model(), AuditedUserAdmin), (Group, AuditedGroupAdmin)):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
