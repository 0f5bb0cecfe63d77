"""A local stand-in for OpenAI's image-edit endpoint, speaking its wire format over real HTTP.

``POST /v1/images/edits`` takes multipart fields as the real API does (``image`` or ``image[]``,
``mask``, ``prompt``, ``model``, ``size``, ``n``, ``quality``…) and answers
``{"created", "data": [{"b64_json"}], "usage", "size", "quality", "output_format"}``, or errors in
OpenAI's shape ``{"error": {"message", "type", "param", "code"}}`` with 400/401/429/500.

Tests script its behaviour: ``server.plan(429, 429)`` makes the next two calls rate-limited,
``server.plan("moderation")`` refuses the next one, ``server.delay = 5`` makes it slow. The
"edit" inverts every pixel at the requested size, so a test can tell edited pixels apart.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import io
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image, ImageOps

API_KEY = "sk-test-photolisting"
SIZES = {"1024x1024", "1536x1024", "1024x1536", "auto"}
USAGE = {
    "input_tokens": 1200,
    "input_tokens_details": {"image_tokens": 1100, "text_tokens": 100},
    "output_tokens": 4160,
    "total_tokens": 5360,
}


@dataclass
class Call:
    fields: dict
    image_size: tuple[int, int] | None
    mask_size: tuple[int, int] | None
    status: int


@dataclass
class FakeOpenAI:
    delay: float = 0.0
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

    def next_outcome(self):
        with self._lock:
            return self._plan.popleft() if self._plan else None

    @property
    def successes(self) -> int:
        return sum(call.status == 200 for call in self.calls)


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

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path != "/v1/images/edits":
                return self._error(
                    404, f"Invalid URL (POST {self.path})", "invalid_request_error", None
                )
            if self.headers.get("Authorization") != f"Bearer {API_KEY}":
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


def start() -> tuple[ThreadingHTTPServer, FakeOpenAI]:
    state = FakeOpenAI()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, state
