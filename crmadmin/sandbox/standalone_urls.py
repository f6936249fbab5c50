"""The URLs of the sandbox served on its own (``crmadmin.sandbox.standalone``): the
same ``/sandbox/`` prefix as when the dashboard mounts it, so ``CRM_API_URL`` is the same.
Any other path answers the CRM's own JSON 404 (the dashboard's 404 page is not here)."""

from django.http import JsonResponse
from django.urls import include, path

urlpatterns = [path("sandbox/", include("crmadmin.sandbox.urls"))]


def not_found(request, exception=None) -> JsonResponse:
    return JsonResponse(
        {"message": f"No HTTP resource was found that matches the request URI '{request.path}'."},
        status=404,
    )


handler404 = not_found
