from django.apps import apps
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from crmadmin.core.navigation import entries_for


def _lands_on_customers(user) -> bool:
    """Support's work is the customers: they land there, not on a page of tiles. Anyone
    who also maintains codes or reads the audit log gets the tiles."""
    return user.has_perm("customers.change_customer") and not (
        user.has_perm("codes.add_status") or user.has_perm("audit.view_auditentry")
    )


def _tile_count(entry) -> int | None:
    """How many records the tile's list holds (the audit log: today's calls)."""
    app_label, _, codename = entry.permission.partition(".")
    model = apps.get_model(app_label, codename.removeprefix("view_"))
    if entry.key == "activity":
        return None
    if entry.key == "audit":
        midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        return model.objects.filter(started_at__gte=midnight).count()
    return model.objects.count()


class LoginView(auth_views.LoginView):
    """Django's sign-in; without a ``next``, Support lands on Customers, others at home."""

    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        if _lands_on_customers(self.request.user):
            return reverse("customers:list")
        return super().get_default_redirect_url()


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    tiles = [{"entry": entry, "count": _tile_count(entry)} for entry in entries_for(request.user)]
    return render(request, "core/home.html", {"entries": tiles})


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: 200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
