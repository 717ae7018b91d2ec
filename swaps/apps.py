from django.apps import AppConfig


class SwapsConfig(AppConfig):
    name = "swaps"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from swaps import schedules
        from swaps.api import schema  # noqa: F401  (registers the OpenAPI auth scheme)

        schedules.connect(self)
