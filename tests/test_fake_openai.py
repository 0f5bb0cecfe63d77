"""The fake OpenAI server as other processes use it: its own keys, faults planned and calls
counted over loopback HTTP, the organisation's usage and costs for an admin key."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal

import openai
import pytest
from django.conf import settings
from PIL import Image

from tests.fakes.openai_server import CALL_COST


@pytest.fixture
def fake_process():
    """The fake run alone, as ``bench/ai_cost.py`` runs it, with keys of its own."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.openai_server", "--key", "sk-one", "--key", "sk-two",
         "--admin-key", "sk-admin-x"],
        cwd=settings.BASE_DIR, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    yield process.stdout.readline().strip()
    process.terminate()
    process.wait(timeout=10)


def control(base_url: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        base_url.removesuffix("/v1") + f"/_fake/{path}",
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def edit(client: openai.OpenAI):
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "white").save(buffer, format="PNG")
    return client.images.edit(
        image=("p.png", buffer.getvalue(), "image/png"), prompt="stage it", model="gpt-image-1"
    )


def test_keys_faults_and_counts_from_outside(fake_process):
    base = fake_process
    one = openai.OpenAI(api_key="sk-one", base_url=base, max_retries=0)
    two = openai.OpenAI(api_key="sk-two", base_url=base, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        edit(openai.OpenAI(api_key="sk-test-photolisting", base_url=base, max_retries=0))
    assert edit(one).data[0].b64_json

    control(base, "plan", {"outcomes": [429, "moderation"], "down": False})
    with pytest.raises(openai.RateLimitError):
        edit(two)
    with pytest.raises(openai.BadRequestError):
        edit(two)
    control(base, "plan", {"down": True})
    with pytest.raises(openai.InternalServerError):
        edit(one)
    control(base, "plan", {"down": False})
    edit(two)

    calls = control(base, "calls")
    assert calls["by_status"] == {"200": 2, "429": 1, "400": 1, "500": 1}  # a bad key: no call
    assert calls["paid"] == 2 and Decimal(calls["cost_usd"]) == 2 * CALL_COST

    admin = openai.OpenAI(api_key="sk-one", admin_api_key="sk-admin-x", base_url=base)
    start = int(time.time()) - 60
    usage = admin.admin.organization.usage
    images = usage.images(start_time=start, end_time=start + 86400)
    assert images.data[0].results[0].num_model_requests == 2
    costs = usage.costs(start_time=start, end_time=start + 86400)
    assert Decimal(str(costs.data[0].results[0].amount.value)) == 2 * CALL_COST
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(
            api_key="x", admin_api_key="sk-one", base_url=base
        ).admin.organization.usage.costs(start_time=start)
    assert control(base, "reset", {})["total"] == 0
