"""Checks of the site's own settings: run at every start (``serve``, ``qcluster``,
``runserver``) and by ``manage.py check --deploy``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

NO_KEY = (
    "SECRET_KEY is not set: this process signs result URLs and sessions with a key it made "
    "itself in VAR_DIR/secret_key. Another machine (or a fresh VAR_DIR) will not accept them."
)
NO_KEY_HINT = "Set SECRET_KEY (50+ random characters), the same for every process."


@register()
def secret_key_configured(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """With DEBUG off, say loudly at start that the key was generated, not configured."""
    if settings.DEBUG or getattr(settings, "SECRET_KEY_CONFIGURED", True):
        return []
    return [Warning(NO_KEY, hint=NO_KEY_HINT, id="faceswap.W001")]


@register(Tags.security, deploy=True)
def secret_key_for_deploy(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """``check --deploy``: production needs a configured key."""
    if getattr(settings, "SECRET_KEY_CONFIGURED", True):
        return []
    return [Error(NO_KEY, hint=NO_KEY_HINT, id="faceswap.E001")]
