from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "arena.demo"
    label = "demo"
    verbose_name = "Demo content"
