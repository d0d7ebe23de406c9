from django.contrib.auth import views as auth_views
from django.urls import path

from arena.accounts import views

urlpatterns = [
    path("signup/", views.sign_up, name="sign-up"),
    path("hosting/", views.hosting_request, name="hosting-request"),
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(template_name="accounts/password_reset.html"),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/message.html",
                                                 extra_context={"title": "Check your e-mail",
                                                                "text": "If an account uses that address, "
                                                                        "we sent it a link to choose a new password."}),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(template_name="accounts/password_reset_confirm.html"),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/message.html",
                                                     extra_context={
                                                         "title": "Password changed",
                                                         "text": "You can now sign in with your new password."}),
        name="password_reset_complete",
    ),
]
