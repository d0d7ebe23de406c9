from django.urls import path

from arena.datasets.api import views

urlpatterns = [
    path("challenges/<slug:slug>/datasets", views.ChallengeDatasetsView.as_view(), name="challenge-datasets"),
    path("dataset-files/<int:file_id>/download-url", views.DatasetFileDownloadUrlView.as_view(),
         name="dataset-file-download-url"),
]
