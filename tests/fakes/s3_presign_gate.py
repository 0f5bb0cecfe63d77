"""S3's check of presigned GET URLs (SigV4 query auth), in front of an S3-compatible server that
does not check them itself (moto). Recomputes the signature from the canonical request as AWS
documents it, refuses a tampered or expired URL with S3's 403 XML, and forwards the rest.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit


def _sign(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def expected_signature(method: str, host: str, path: str, query: str, secret: str) -> str | None:
    params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "X-Amz-Signature"]
    values = dict(params)
    credential = values.get("X-Amz-Credential", "")
    try:
        _, date, region, service, _ = credential.split("/")
    except ValueError:
        return None
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params)
    )
    signed_headers = values.get("X-Amz-SignedHeaders", "host")
    canonical_request = "\n".join(
        [method, path, canonical_query, f"host:{host}\n", signed_headers, "UNSIGNED-PAYLOAD"]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            values.get("X-Amz-Date", ""),
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = _sign(("AWS4" + secret).encode(), date)
    for part in (region, service, "aws4_request"):
        key = _sign(key, part)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def start(upstream: str, secret: str) -> tuple[ThreadingHTTPServer, str]:
    """A gate for presigned URLs made for ``upstream`` (e.g. http://127.0.0.1:5055)."""
    upstream_host = urlsplit(upstream).netloc

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _refuse(self, code: str, message: str) -> None:
            body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
            self.send_response(403)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            values = dict(parse_qsl(parts.query))
            signature = expected_signature("GET", upstream_host, parts.path, parts.query, secret)
            if signature is None or not hmac.compare_digest(
                signature, values.get("X-Amz-Signature", "")
            ):
                return self._refuse(
                    "SignatureDoesNotMatch", "The request signature we calculated does not match."
                )
            signed_at = datetime.strptime(values["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(
                tzinfo=UTC
            )
            if (datetime.now(UTC) - signed_at).total_seconds() > int(
                values.get("X-Amz-Expires", "0")
            ):
                return self._refuse("AccessDenied", "Request has expired")
            with urllib.request.urlopen(upstream + self.path, timeout=30) as response:
                body = response.read()
                self.send_response(response.status)
                for name in ("Content-Type", "Content-Disposition", "ETag"):
                    if response.headers.get(name):
                        self.send_header(name, response.headers[name])
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"
