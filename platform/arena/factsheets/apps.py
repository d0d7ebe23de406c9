from django.apps import AppConfig


class FactSheetsConfig(AppConfig):
    name = "arena.factsheets"
    label = "factsheets"
    verbose_name = "Fact sheets"
    default_auto_field = "django.db.models.BigAutoField"
