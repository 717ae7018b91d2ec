from typing import Any

from django.apps import AppConfig


def _warm_engine(sender: Any, **kwargs: Any) -> None:
    """Load the face models once per worker process, before its first job, not during it;
    size OpenCV's threads to this process's share of the cores."""
    from django.conf import settings

    from swaps import engine, worker_process

    worker_process.size_engine_threads(settings.WORKER_CV_THREADS)
    engine.warm_up()


def _recover_jobs(sender: Any, **kwargs: Any) -> None:
    """A new worker process takes back the jobs dead ones left (swaps.recovery)."""
    from swaps import recovery

    recovery.on_worker_start()


class SwapsConfig(AppConfig):
    name = "swaps"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from accounts.signals import account_closing, account_export
        from faceswap_site import checks as site_checks  # noqa: F401  (registers itself)
        from swaps import account_data, checks, schedules  # noqa: F401  (checks registers itself)
        from swaps.api import schema  # noqa: F401  (registers the OpenAPI auth scheme)

        schedules.connect(self)
        post_spawn.connect(_warm_engine, dispatch_uid="swaps.warm_engine")
        post_spawn.connect(_recover_jobs, dispatch_uid="swaps.recover_jobs")
        # The swaps half of "delete my account" and "download my data".
        account_closing.connect(account_data.on_account_closing, dispatch_uid="swaps.closing")
        account_export.connect(account_data.on_account_export, dispatch_uid="swaps.export")
