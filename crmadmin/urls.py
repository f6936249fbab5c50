from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from crmadmin.accounts.forms import SignInForm
from crmadmin.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path(
        "login/",
        core_views.LoginView.as_view(authentication_form=SignInForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The language switcher is on the login page too, so it must not need a signed-in user.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("customers/", include("crmadmin.customers.urls")),
    path("codes/", include("crmadmin.codes.urls")),
    path("audit/", include("crmadmin.audit.urls")),
    path("import/", include("crmadmin.imports.urls")),
    path("attention/", include("crmadmin.reconcile.urls")),
    path("jobs/", include("crmadmin.jobs.urls")),
    path("admin/", admin.site.urls),
]

if settings.CRM_SANDBOX:
    urlpatterns.append(path("sandbox/", include("crmadmin.sandbox.urls")))
