from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("account/", views.home, name="home"),
    path("account/login/", views.CustomerLoginView.as_view(), name="login"),
    path("account/logout/", views.CustomerLogoutView.as_view(), name="logout"),
]
