from django.urls import path

from crmadmin.codes import views

app_name = "codes"
# <kind> is a slug of the kinds table (anything else is a 404); <code> is looked up as is,
# so every code the register holds has an address.
urlpatterns = [
    path("<slug:kind>/", views.code_list, name="list"),
    path("<slug:kind>/export.csv", views.code_export, {"file_format": "csv"}, name="export_csv"),
    path("<slug:kind>/export.xlsx", views.code_export, {"file_format": "xlsx"}, name="export_xlsx"),
    path("<slug:kind>/new/", views.code_create, name="create"),
    path("<slug:kind>/<str:code>/", views.code_detail, name="detail"),
    path("<slug:kind>/<str:code>/edit/", views.code_edit, name="edit"),
    path("<slug:kind>/<str:code>/rename/", views.code_rename, name="rename"),
    path("<slug:kind>/<str:code>/delete/", views.code_delete, name="delete"),
]
