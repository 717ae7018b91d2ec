"""No secret in the code: without SECRET_KEY each installation makes its own."""

from __future__ import annotations

import stat

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from faceswap_site import checks
from faceswap_site.settings import local_secret_key


def test_a_missing_key_is_made_once_private_and_reused(tmp_path):
    key = local_secret_key(tmp_path)
    assert len(key) >= 50
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert local_secret_key(tmp_path) == key  # the next start signs with the same key


def test_two_installations_get_different_keys(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert local_secret_key(tmp_path / "a") != local_secret_key(tmp_path / "b")


def test_a_damaged_key_file_stops_the_start(tmp_path):
    (tmp_path / "secret_key").write_text("short")
    with pytest.raises(ImproperlyConfigured):
        local_secret_key(tmp_path)


def test_the_key_in_the_repository_is_gone():
    from pathlib import Path

    settings_text = Path(__file__).resolve().parents[1] / "faceswap_site" / "settings.py"
    assert "insecure-local-only" not in settings_text.read_text()


@override_settings(SECRET_KEY_CONFIGURED=False, DEBUG=False)
def test_an_unconfigured_key_is_reported_at_start_and_by_the_deploy_check():
    assert [w.id for w in checks.secret_key_configured()] == ["faceswap.W001"]
    assert [e.id for e in checks.secret_key_for_deploy()] == ["faceswap.E001"]


@override_settings(SECRET_KEY_CONFIGURED=True)
def test_a_configured_key_passes_both_checks():
    assert checks.secret_key_configured() == []
    assert checks.secret_key_for_deploy() == []
