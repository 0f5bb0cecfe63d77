"""Production settings refuse to start without secrets and pass Django's deploy checks."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

from photolisting.settings.keys import new_private_key_pem


def run_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "photolisting.settings.production",
            **env,
        },
        capture_output=True,
        text=True,
    )


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    result = run_check(
        {
            "SECRET_KEY": "x" * 30 + "-production-grade-secret-key-value-0123456789",
            "ALLOWED_HOSTS": "photolisting.example.com",
            "JWT_PRIVATE_KEY": new_private_key_pem(),
            "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
            "PHOTOLISTING_VAR_DIR": str(tmp_path),
        }
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_check({"ALLOWED_HOSTS": "x.example.com", "PHOTOLISTING_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
