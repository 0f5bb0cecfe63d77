"""A local stand-in for OpenAI's image-edit endpoint, speaking its wire format over real HTTP.

``POST /v1/images/edits`` takes multipart fields as the real API does (``image`` or ``image[]``,
``mask``, ``prompt``, ``model``, ``size``, ``n``, ``quality``…) and answers
``{"created", "data": [{"b64_json"}], "usage", "size", "quality", "output_format"}``, or errors in
OpenAI's shape ``{"error": {"message", "type", "param", "code"}}`` with 400/401/429/500.

Tests script its behaviour: ``server.plan(429, 429)`` makes the next two calls rate-limited,
``server.plan("moderation")`` refuses the next one, ``server.delay = 5`` makes it slow,
``server.down = True`` answers every call with a 500 until set back (an outage). The "edit"
inverts every pixel at the requested size, so a test can tell edited pixels apart.

From outside the process (benchmarks, a worker's test), the same over loopback HTTP:
``GET /_fake/calls`` (counts by status, paid calls and their cost), ``POST /_fake/plan``
``{"outcomes": [500, 429, "moderation"], "delay": 0.5, "down": true}`` and ``POST /_fake/reset``.
The organisation's usage and costs APIs (``/v1/organization/usage/images``,
``/v1/organization/costs``) answer from the calls served, for an admin key. Keys are
configurable (``start(keys=..., admin_keys=...)``, ``--key``/``--admin-key``).
Run alone: ``python -m tests.fakes.openai_server --port 8765``.
"""

from __future__ import annotations

import argparse
import base64
import email.parser
import email.policy
import io
import json
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from PIL import Image, ImageOps

API_KEY = "sk-test-photolisting"
ADMIN_KEY = "sk-admin-test-photolisting"
SIZES = {"1024x1024", "1536x1024", "1024x1536", "auto"}
USAGE = {
    "input_tokens": 1200,
    "input_tokens_details": {"image_tokens": 1100, "text_tokens": 100},
    "output_tokens": 4160,
    "total_tokens": 5360,
}
# What the fake bills per million tokens (gpt-image-1's published prices).
PRICES = {"image_input": Decimal(10), "text_input": Decimal(5), "output": Decimal(40)}
CALL_COST = (
    USAGE["input_tokens_details"]["image_tokens"] * PRICES["image_input"]
    + USAGE["input_tokens_details"]["text_tokens"] * PRICES["text_input"]
    + USAGE["output_tokens"] * PRICES["output"]
) / 1_000_000


@dataclass
class Call:
    fields: dict
    image_size: tuple[int, int] | None
    mask_size: tuple[int, int] | None
    status: int
    at: float = field(default_factory=time.time)


@dataclass
class FakeOpenAI:
    delay: float = 0.0
    down: bool = False
    keys: frozenset = frozenset({API_KEY})
    admin_keys: frozenset = frozenset({ADMIN_KEY})
    calls: list[Call] = field(default_factory=list)
    _plan: deque = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def plan(self, *outcomes) -> None:
        """Outcomes for the next calls: 429, 500 or "moderation"; then success again."""
        with self._lock:
            self._plan.extend(outcomes)

    def reset(self) -> None:
        with self._lock:
            self._plan.clear()
            self.calls.clear()
            self.delay = 0.0
            self.down = False

    def next_outcome(self):
        with self._lock:
            if self.down:
                return 500
            return self._plan.popleft() if self._plan else None

    @property
    def successes(self) -> int:
        return sum(call.status == 200 for call in self.calls)

    def paid_between(self, start: float, end: float) -> list[Call]:
        return [c for c in self.calls if c.status == 200 and start <= c.at < end]

    def counts(self) -> dict:
        """What ``GET /_fake/calls`` answers."""
        statuses = Counter(str(call.status) for call in self.calls)
        return {
            "total": len(self.calls),
            "by_status": dict(statuses),
            "paid": self.successes,
            "cost_usd": str(self.successes * CALL_COST),
            "down": self.down,
            "planned": list(self._plan),
        }


def _parse_multipart(content_type: str, body: bytes) -> dict:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields: dict = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if part.get_filename() is None:
            payload = payload.decode()
        fields.setdefault(name, payload)
    return fields


def make_handler(state: FakeOpenAI):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output clean
            pass

        def _json(self, status: int, body: dict, headers: dict | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _error(
            self, status: int, message: str, kind: str, code: str | None, param=None, headers=None
        ):
            self._json(
                status,
                {"error": {"message": message, "type": kind, "param": param, "code": code}},
                headers,
            )

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/_fake/calls":
                return self._control(lambda: state.counts())
            query = {name: values[0] for name, values in parse_qs(url.query).items()}
            if url.path in ("/v1/organization/usage/images", "/v1/organization/costs"):
                if self.headers.get("Authorization") not in {
                    f"Bearer {key}" for key in state.admin_keys
                }:
                    return self._error(
                        401, "An admin key is required.", "invalid_request_error", "invalid_api_key"
                    )
                start = int(query.get("start_time", 0))
                end = int(query.get("end_time", start + 86400))
                paid = len(state.paid_between(start, end))
                if url.path.endswith("costs"):
                    result = {
                        "object": "organization.costs.result",
                        "amount": {"value": float(paid * CALL_COST), "currency": "usd"},
                        "line_item": None,
                        "project_id": None,
                    }
                else:
                    result = {
                        "object": "organization.usage.images.result",
                        "images": paid,
                        "num_model_requests": paid,
                    }
                bucket = {"object": "bucket", "start_time": start, "end_time": end}
                return self._json(
                    200,
                    {
                        "object": "page",
                        "data": [{**bucket, "results": [result]}],
                        "has_more": False,
                        "next_page": None,
                    },
                )
            return self._error(404, f"Invalid URL (GET {self.path})", "invalid_request_error", None)

        def _control(self, action) -> None:
            """Control endpoints answer loopback callers only."""
            if self.client_address[0] not in ("127.0.0.1", "::1"):
                return self._error(403, "Loopback only.", "invalid_request_error", None)
            return self._json(200, action())

        def _plan(self, body: bytes) -> dict:
            order = json.loads(body or b"{}")
            state.plan(*order.get("outcomes", []))
            if "delay" in order:
                state.delay = float(order["delay"])
            if "down" in order:
                state.down = bool(order["down"])
            return state.counts()

        def _reset(self) -> dict:
            state.reset()
            return state.counts()

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path == "/_fake/plan":
                return self._control(lambda: self._plan(body))
            if self.path == "/_fake/reset":
                return self._control(self._reset)
            if self.path != "/v1/images/edits":
                return self._error(
                    404, f"Invalid URL (POST {self.path})", "invalid_request_error", None
                )
            if self.headers.get("Authorization") not in {f"Bearer {key}" for key in state.keys}:
                return self._error(
                    401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
                )
            content_type = self.headers.get("Content-Type", "")
            if not content_type.startswith("multipart/form-data"):
                return self._error(
                    400, "Expected multipart/form-data.", "invalid_request_error", None
                )
            fields = _parse_multipart(content_type, body)
            image_bytes = fields.get("image") or fields.get("image[]")
            call = Call({k: v for k, v in fields.items() if isinstance(v, str)}, None, None, 0)
            state.calls.append(call)
            if state.delay:
                time.sleep(state.delay)
            outcome = state.next_outcome()
            if outcome == 429:
                call.status = 429
                return self._error(
                    429,
                    "Rate limit reached for images per minute.",
                    "requests",
                    "rate_limit_exceeded",
                    headers={"retry-after-ms": "20"},
                )
            if outcome == 500:
                call.status = 500
                return self._error(500, "The server had an error.", "server_error", None)
            if outcome == "moderation":
                call.status = 400
                return self._error(
                    400,
                    "Your request was rejected as a result of our safety system.",
                    "image_generation_user_error",
                    "moderation_blocked",
                )
            if not image_bytes or not fields.get("prompt"):
                call.status = 400
                return self._error(
                    400,
                    "image and prompt are required.",
                    "invalid_request_error",
                    "missing_required_parameter",
                )
            size = fields.get("size", "auto")
            if size not in SIZES:
                call.status = 400
                return self._error(
                    400,
                    f"Invalid value: '{size}'.",
                    "invalid_request_error",
                    "invalid_value",
                    "size",
                )
            image = Image.open(io.BytesIO(image_bytes))
            call.image_size = image.size
            if "mask" in fields:
                mask = Image.open(io.BytesIO(fields["mask"]))
                call.mask_size = mask.size
                if mask.size != image.size or mask.mode != "RGBA":
                    call.status = 400
                    return self._error(
                        400,
                        "Mask must be an RGBA PNG of the image's size.",
                        "invalid_request_error",
                        "invalid_mask",
                        "mask",
                    )
            width, height = image.size if size == "auto" else map(int, size.split("x"))
            edited = ImageOps.invert(image.convert("RGB")).resize((width, height))
            output = io.BytesIO()
            edited.save(output, format="PNG")
            call.status = 200
            self._json(
                200,
                {
                    "created": int(time.time()),
                    "data": [{"b64_json": base64.b64encode(output.getvalue()).decode()}],
                    "usage": USAGE,
                    "size": f"{width}x{height}",
                    "quality": fields.get("quality", "auto"),
                    "output_format": "png",
                },
            )

    return Handler


def start(
    port: int = 0, *, keys=(API_KEY,), admin_keys=(ADMIN_KEY,)
) -> tuple[ThreadingHTTPServer, FakeOpenAI]:
    state = FakeOpenAI(keys=frozenset(keys), admin_keys=frozenset(admin_keys))
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(state))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--key", action="append", help=f"accepted API key (default {API_KEY})")
    parser.add_argument("--admin-key", action="append", help=f"admin key (default {ADMIN_KEY})")
    arguments = parser.parse_args()
    server, _ = start(
        arguments.port,
        keys=arguments.key or (API_KEY,),
        admin_keys=arguments.admin_key or (ADMIN_KEY,),
    )
    print(f"http://127.0.0.1:{server.server_port}/v1", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
