from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from crmadmin.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("customers/", include("crmadmin.customers.urls")),
    path("codes/", include("crmadmin.codes.urls")),
    path("audit/", include("crmadmin.audit.urls")),
    path("admin/", admin.site.urls),
]

if settings.CRM_SANDBOX:
    urlpatterns.append(path("sandbox/", include("crmadmin.sandbox.urls")))
