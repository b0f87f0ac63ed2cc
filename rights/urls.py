from django.urls import path

from . import views

app_name = "rights"

urlpatterns = [
    path("account/requests/", views.request_list, name="requests"),
    path(
        "account/requests/<int:pk>/withdraw/",
        views.request_withdraw_view,
        name="request_withdraw",
    ),
]
