"""A local OpenID Connect issuer playing Google and Apple over loopback HTTP: its own RSA keys,
published as Google publishes them (``/google/certs``: PEM X.509 certificates by key id) and as
Apple does (``/apple/keys``: a JWKS), a discovery document and JWKS of its own, and a token
endpoint for the browser's authorisation-code flow (``/google/token``).

``issuer.id_token(claims, provider="google")`` signs an ID token with the issuer's key and the
provider's ``iss``; ``issuer.code_for(claims)`` gives the code the token endpoint later trades for
such a token. ``forged=True`` signs with a key nobody published.
"""

from __future__ import annotations

import base64
import datetime
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

ISSUERS = {"google": "https://accounts.google.com", "apple": "https://appleid.apple.com"}


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _certificate(key: rsa.RSAPrivateKey) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "local-oidc-issuer")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


class Issuer:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.stranger_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex[:16]
        self.codes: dict[str, dict] = {}
        self.token_requests: list[dict] = []
        numbers = self.key.public_key().public_numbers()
        self.jwk = {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid,
                    "n": _b64(numbers.n), "e": _b64(numbers.e)}  # fmt: skip
        self.certificate = _certificate(self.key)
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _json(self, body: dict, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                documents = {
                    "/google/certs": {issuer.kid: issuer.certificate},
                    "/apple/keys": {"keys": [issuer.jwk]},
                    "/jwks": {"keys": [issuer.jwk]},
                    "/.well-known/openid-configuration": {
                        "issuer": issuer.url(""),
                        "jwks_uri": issuer.url("/jwks"),
                        "token_endpoint": issuer.url("/google/token"),
                        "id_token_signing_alg_values_supported": ["RS256"],
                    },
                }
                if self.path in documents:
                    self._json(documents[self.path])
                else:
                    self._json({"error": "not_found"}, 404)

            def do_POST(self) -> None:
                form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                issuer.token_requests.append({name: values[0] for name, values in form.items()})
                claims = issuer.codes.pop(form.get("code", [""])[0], None)
                if self.path != "/google/token" or claims is None:
                    self._json({"error": "invalid_grant"}, 400)
                    return
                self._json({"access_token": uuid.uuid4().hex, "token_type": "Bearer",
                            "expires_in": 3600, "id_token": issuer.id_token(claims)})  # fmt: skip

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def id_token(self, claims: dict, *, provider: str = "google", forged: bool = False) -> str:
        now = int(time.time())
        payload = {"iss": ISSUERS[provider], "iat": now, "exp": now + 600, **claims}
        key = self.stranger_key if forged else self.key
        return jwt.encode(payload, key, algorithm="RS256", headers={"kid": self.kid})

    def code_for(self, claims: dict) -> str:
        code = uuid.uuid4().hex
        self.codes[code] = claims
        return code

    def stop(self) -> None:
        self.server.shutdown()
