"""System checks: ``manage.py check``, ``serve`` and ``qcluster`` refuse to start
when a vendored face model is missing or not the reviewed file, or when the Content
Credentials (C2PA) cannot sign."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register


@register()
def face_models_intact(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Each model file in swaps/engine/weights has the sha256 it was reviewed with."""
    from swaps.engine import EngineError, models

    errors = []
    for name in models.SHA256:
        try:
            models.verified_weights(name)
        except EngineError as exc:
            errors.append(
                Error(exc.message, hint="git checkout swaps/engine/weights", id="swaps.E001")
            )
    return errors


@register()
def content_credentials_sign(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """With C2PA_ENABLED, the configured (or the service's own) certificate signs an image.

    A fresh signer, not the cached one: this may run in a parent process that forks
    the workers, which make their own.
    """
    from django.conf import settings

    from swaps import content_credentials
    from swaps.imaging import credentials

    if not settings.C2PA_ENABLED:
        return []
    try:
        signer = credentials.ContentCredentials(
            content_credentials.identity(), generator="check", version="0", note="check"
        )
        signer.sign(credentials.TINY_PNG, "png")
    except Exception as exc:  # any failure: the message says which
        return [
            Error(
                f"Content Credentials cannot sign: {exc}",
                hint="Fix C2PA_CERT / C2PA_KEY, or set C2PA_ENABLED=false.",
                id="swaps.E002",
            )
        ]
    return []
