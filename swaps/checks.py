"""System checks: ``manage.py check``, ``serve`` and ``qcluster`` refuse to start
when a vendored face model is missing or not the reviewed file."""

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
