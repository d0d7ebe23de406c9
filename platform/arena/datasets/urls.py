from django.urls import path

from arena.datasets import views

urlpatterns = [
    path("c/<slug:slug>/data/", views.dataset_list, name="dataset-list"),
    path("c/<slug:slug>/data/files/<int:file_id>/download/", views.dataset_file_download,
         name="dataset-file-download"),
]
