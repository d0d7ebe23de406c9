from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "arena.tokens"
    label = "tokens"
    verbose_name = "API tokens"

    def ready(self) -> None:
        # Registers the OpenAPI description of the token scheme with drf-spectacular.
        from arena.tokens import schema  # noqa: F401
