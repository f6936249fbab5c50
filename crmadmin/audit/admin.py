"""The audit log in Django's admin: for reading only, like everywhere else."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

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
