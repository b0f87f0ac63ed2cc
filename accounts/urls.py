from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("account/", views.home, name="home"),
    path("account/login/", views.CustomerLoginView.as_view(), name="login"),
    path("account/logout/", views.CustomerLogoutView.as_view(), name="logout"),
    path(
        "account/password-reset/",
        views.CustomerPasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "account/password-reset/sent/",
        views.CustomerPasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "account/reset/<uidb64>/<token>/",
        views.CustomerPasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "account/reset/done/",
        views.CustomerPasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("account/access-log/", views.access_log, name="access_log"),
    path("account/correct/", views.correct, name="correct"),
    path("account/email/confirm/<str:token>/", views.email_confirm, name="email_confirm"),
    path("account/consents/", views.consents, name="consents"),
    path("account/download/", views.download, name="download"),
    path("account/download/my-data.json", views.download_json, name="download_json"),
    path("account/download/print/", views.download_print, name="download_print"),
    path("account/policy/", views.policy_accept, name="policy_accept"),
]
