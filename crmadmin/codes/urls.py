from django.urls import path

from crmadmin.codes import views

app_name = "codes"
# <kind> is a slug of the kinds table (anything else is a 404); <code> is looked up as is,
# so every code the register holds has an address.
urlpatterns = [
    path("<slug:kind>/", views.code_list, name="list"),
    path("<slug:kind>/new/", views.code_create, name="create"),
    path("<slug:kind>/<str:code>/edit/", views.code_edit, name="edit"),
    path("<slug:kind>/<str:code>/rename/", views.code_rename, name="rename"),
    path("<slug:kind>/<str:code>/delete/", views.code_delete, name="delete"),
]
