from typing import Any

from django.apps import AppConfig


def _warm_engine(sender: Any, **kwargs: Any) -> None:
    """Load the face models once per worker process, before its first job, not during it."""
    from swaps import engine

    engine.warm_up()


class SwapsConfig(AppConfig):
    name = "swaps"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from faceswap_site import checks as site_checks  # noqa: F401  (registers itself)
        from swaps import checks, schedules  # noqa: F401  (checks registers itself)
        from swaps.api import schema  # noqa: F401  (registers the OpenAPI auth scheme)

        schedules.connect(self)
        post_spawn.connect(_warm_engine, dispatch_uid="swaps.warm_engine")
