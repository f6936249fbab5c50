from django.urls import path

from crmadmin.customers import views

app_name = "customers"
# "new" is a path word, so the code "new" is refused wherever a code is
# validated (crmadmin.core.codes.RESERVED_CODES).
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("export.csv", views.customer_export, {"file_format": "csv"}, name="export_csv"),
    path("export.xlsx", views.customer_export, {"file_format": "xlsx"}, name="export_xlsx"),
    path("new/", views.customer_create, name="create"),
    path("new/phone-row/", views.customer_phone_row, name="phone_row"),
    path("<str:code>/", views.customer_detail, name="detail"),
    path("<str:code>/edit/", views.customer_edit, name="edit"),
    path("<str:code>/rename/", views.customer_rename, name="rename"),
    path("<str:code>/delete/", views.customer_delete, name="delete"),
]
