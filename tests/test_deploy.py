"""Production settings pass Django's deploy checks; importing settings writes nothing, and what the
embedded setup needs on disk appears when it is first used."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

from tests.test_production import production_env


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR, env=production_env(tmp_path), capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


FIRST_USES = """
import json
import os
from pathlib import Path

import django

var = Path(os.environ["PHOTOLISTING_VAR_DIR"])
seen = {}
django.setup()
seen["setup"] = sorted(str(p.relative_to(var)) for p in var.rglob("*"))

from django.conf import settings
from photolisting.celery import app

app.send_task("nothing.here", queue="default")  # a producer's first message
seen["broker"] = sorted(os.listdir(var / "broker"))
seen["control"] = sorted(os.listdir(var / "broker" / "control"))
seen["before_key"] = (var / "jwt-private.pem").exists()
seen["key"] = str(settings.HEADLESS_JWT_PRIVATE_KEY) == (var / "jwt-private.pem").read_text()
seen["cwd"] = sorted(os.listdir("."))
print(json.dumps(seen))
"""


def test_local_settings_write_nothing_until_first_use(tmp_path):
    """The broker folders appear when the Celery app is first used, kombu's control folder
    among them (not in the working directory), and the dev JWT key at its first use."""
    var, cwd = tmp_path / "var", tmp_path / "cwd"
    var.mkdir()
    cwd.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", FIRST_USES],
        cwd=cwd,
        env={
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(settings.BASE_DIR),
            "DJANGO_SETTINGS_MODULE": "photolisting.settings.local",
            "PHOTOLISTING_VAR_DIR": str(var),
        },
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.splitlines()[-1])
    assert seen["setup"] == []
    assert seen["broker"] == ["control", "processed", "queue"]
    assert "default.exchange" in seen["control"]
    assert seen["before_key"] is False and seen["key"] is True
    assert seen["cwd"] == []
