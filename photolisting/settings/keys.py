"""The RSA key signing app JWTs: checked when configured, made on first use in development."""

from __future__ import annotations

from pathlib import Path

# Importing ``serialization`` here is load-bearing: allauth 65.21's jwkkit.load_pem calls
# ``cryptography.hazmat.primitives.serialization`` without importing it, so every JWT login
# answered 500 under production settings until the settings imported it (through this module).
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured


def new_private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode()


def jwt_signing_key(pem: str) -> str:
    """``pem`` once it loads as an unencrypted RSA private key (allauth signs RS256), so a
    malformed ``JWT_PRIVATE_KEY`` stops the start instead of failing every login; "" stays ""."""
    if not pem:
        return pem
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            f"JWT_PRIVATE_KEY is not an unencrypted PEM private key: {error}"
        ) from error
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ImproperlyConfigured("JWT_PRIVATE_KEY must be an RSA key: app JWTs are RS256")
    return pem


def dev_private_key(path: Path) -> str:
    """The RSA key signing app JWTs in development, kept in ``var/`` to survive restarts."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(new_private_key_pem())
        path.chmod(0o600)
    return path.read_text()
