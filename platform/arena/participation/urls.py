from django.urls import path

from arena.participation import views

urlpatterns = [
    path("me/", views.dashboard_page, name="dashboard"),
    path("c/<slug:slug>/licence/", views.licence_page, name="licence-page"),
    path("c/<slug:slug>/licence/agreement/", views.licence_agreement, name="licence-agreement"),
    path("c/<slug:slug>/licence/print/", views.licence_print, name="licence-print"),
    path("c/<slug:slug>/data/<slug:dataset_slug>/licence/", views.licence_page, name="dataset-licence-page"),
    path("c/<slug:slug>/data/<slug:dataset_slug>/licence/agreement/", views.licence_agreement,
         name="dataset-licence-agreement"),
    path("c/<slug:slug>/data/<slug:dataset_slug>/licence/print/", views.licence_print, name="dataset-licence-print"),
]
