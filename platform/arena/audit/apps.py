from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "arena.audit"
    label = "audit"
    verbose_name = "Audit log"
