"""Sign in with Google and Apple, checked against a local OpenID Connect issuer of our own
(tests/fakes/oidc_issuer.py: real RSA keys, published the way each provider publishes them, over
loopback HTTP). allauth is pointed at it where it would fetch Google's and Apple's keys and
Google's token endpoint; everything else — signatures, issuer, audience, expiry, accounts — runs
as in production."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers.apple.views import AppleOAuth2Adapter
from allauth.socialaccount.providers.google import views as google_views
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from tests.fakes.oidc_issuer import Issuer

pytestmark = pytest.mark.django_db

GOOGLE_WEB, GOOGLE_IOS = "web.apps.googleusercontent.com", "ios.apps.googleusercontent.com"
APPLE_APP = "com.photolisting.ios"


@pytest.fixture(scope="module")
def issuer():
    issuer = Issuer()
    yield issuer
    issuer.stop()


@pytest.fixture(autouse=True)
def providers(settings, issuer, monkeypatch):
    apple_key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    settings.SOCIALACCOUNT_PROVIDERS = {
        "google": {
            "SCOPE": ["openid", "email", "profile"],
            "APPS": [
                {"client_id": GOOGLE_WEB, "secret": "google-web-secret"},
                {"client_id": GOOGLE_IOS, "secret": "", "settings": {"hidden": True}},
            ],
        },
        "apple": {
            "APPS": [
                {
                    "client_id": APPLE_APP,
                    "secret": "KEYID12345",
                    "key": "TEAMID1234",
                    "settings": {"certificate_key": apple_key.decode()},
                }
            ]
        },
    }
    # Where allauth fetches each provider's keys and trades Google's codes: the local issuer.
    monkeypatch.setattr(google_views, "CERTS_URL", issuer.url("/google/certs"))
    monkeypatch.setattr(
        google_views.GoogleOAuth2Adapter, "access_token_url", issuer.url("/google/token")
    )
    monkeypatch.setattr(AppleOAuth2Adapter, "public_key_url", issuer.url("/apple/keys"))


def app_sign_in(provider: str, client_id: str, id_token: str):
    return APIClient().post(
        "/_allauth/app/v1/auth/provider/token",
        {
            "provider": provider,
            "process": "login",
            "token": {"client_id": client_id, "id_token": id_token},
        },
        format="json",
    )


def google_claims(email: str, **extra) -> dict:
    return {"sub": "google-" + email, "aud": GOOGLE_IOS, "email": email, "email_verified": True,
            "given_name": "Léa", "family_name": "Martin", **extra}  # fmt: skip


def test_an_app_signs_in_with_google_and_gets_our_tokens(issuer):
    signed_in = app_sign_in("google", GOOGLE_IOS, issuer.id_token(google_claims("lea@example.com")))
    assert signed_in.status_code == 200, signed_in.content
    access = signed_in.json()["meta"]["access_token"]
    assert signed_in.json()["meta"]["refresh_token"]
    me = APIClient().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {access}").json()
    assert me["email"] == "lea@example.com" and me["first_name"] == "Léa"
    user = User.objects.get(email="lea@example.com")
    assert user.emailaddress_set.get().verified
    assert SocialAccount.objects.get(user=user).provider == "google"


def test_an_app_signs_in_with_apple(issuer):
    claims = {"sub": "001234.apple", "aud": APPLE_APP, "email": "tom@example.com"}
    token = issuer.id_token({**claims, "email_verified": "true"}, provider="apple")
    signed_in = app_sign_in("apple", APPLE_APP, token)
    assert signed_in.status_code == 200, signed_in.content
    access = signed_in.json()["meta"]["access_token"]
    me = APIClient().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {access}").json()
    assert me["email"] == "tom@example.com"
    assert SocialAccount.objects.get(uid="001234.apple").user.email == "tom@example.com"


def test_a_verified_address_signs_in_to_the_existing_account(issuer):
    existing = UserFactory(email="agent@example.com")
    signed_in = app_sign_in(
        "google", GOOGLE_IOS, issuer.id_token(google_claims("Agent@Example.com"))
    )
    assert signed_in.status_code == 200, signed_in.content
    assert User.objects.filter(email__iexact="agent@example.com").count() == 1
    assert SocialAccount.objects.get(provider="google").user == existing


def test_an_unverified_address_does_not_take_over_an_account(issuer):
    existing = UserFactory(email="victim@example.com")
    token = issuer.id_token(google_claims("victim@example.com", email_verified=False))
    attempt = app_sign_in("google", GOOGLE_IOS, token)
    assert "access_token" not in attempt.json().get("meta", {})
    assert not SocialAccount.objects.filter(user=existing).exists()


@pytest.mark.parametrize(
    "problem", ["forged", "other audience", "expired", "other issuer", "unknown client"]
)
def test_tokens_that_are_not_the_providers_for_us_are_refused(issuer, problem):
    claims = google_claims("eve@example.com")
    client_id = GOOGLE_IOS
    if problem == "other audience":
        claims["aud"] = "someone-elses-app.apps.googleusercontent.com"
    if problem == "expired":
        claims["exp"] = claims["iat"] = 1_700_000_000
    if problem == "unknown client":
        client_id = "someone-elses-app.apps.googleusercontent.com"
    token = issuer.id_token(claims, forged=problem == "forged")
    if problem == "other issuer":
        token = issuer.id_token(claims, provider="apple")
    refused = app_sign_in("google", client_id, token)
    assert refused.status_code == 400, refused.content
    assert not User.objects.filter(email="eve@example.com").exists()


def test_the_browser_signs_in_with_google(client, issuer):
    start = client.post("/accounts/google/login/")
    assert start.status_code == 302
    authorize = urlsplit(start.url)
    query = parse_qs(authorize.query)
    assert authorize.netloc == "accounts.google.com"
    assert query["client_id"] == [GOOGLE_WEB] and "email" in query["scope"][0]
    code = issuer.code_for(google_claims("web@example.com", aud=GOOGLE_WEB))
    back = client.get(
        "/accounts/google/login/callback/", {"state": query["state"][0], "code": code}
    )
    assert back.status_code == 302 and back.url == "/", back.content
    assert client.get("/").wsgi_request.user.email == "web@example.com"
    trade = issuer.token_requests[-1]
    assert trade["code"] == code and trade["client_secret"] == "google-web-secret"
