from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "arena.datasets"
    label = "datasets"
    verbose_name = "Datasets"
