from django.urls import path

from arena.participation.api import views

urlpatterns = [
    path("challenges/<slug:slug>/licence", views.LicenceStatusView.as_view(), name="licence-status"),
    path("challenges/<slug:slug>/licence/accept", views.LicenceAcceptView.as_view(), name="licence-accept"),
    path("challenges/<slug:slug>/licence/agreement", views.LicenceAgreementView.as_view(),
         name="licence-agreement"),
    path("challenges/<slug:slug>/datasets/<slug:dataset_slug>/licence", views.DatasetLicenceStatusView.as_view(),
         name="dataset-licence-status"),
    path("challenges/<slug:slug>/datasets/<slug:dataset_slug>/licence/accept",
         views.DatasetLicenceAcceptView.as_view(), name="dataset-licence-accept"),
    path("challenges/<slug:slug>/datasets/<slug:dataset_slug>/licence/agreement",
         views.DatasetLicenceAgreementView.as_view(), name="dataset-licence-agreement"),
]
