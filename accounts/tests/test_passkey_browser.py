"""A staff member adds a passkey in real Chromium (a virtual authenticator through the DevTools
WebAuthn domain), under the strict CSP, and the admin opens."""

from __future__ import annotations

from accounts.tests.factories import PASSWORD, UserFactory
from conftest import BROWSER_TEST, log_in

pytestmark = BROWSER_TEST


def test_staff_add_a_passkey_then_the_admin_opens(live_server, page, settings):
    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True  # the live server speaks http
    staff = UserFactory(is_staff=True, is_superuser=True)
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {"options": {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
                     "hasUserVerification": True, "isUserVerified": True}},
    )  # fmt: skip
    blocked_scripts: list[str] = []
    page.on("console", lambda message: blocked_scripts.append(message.text)
            if "Content Security Policy" in message.text else None)  # fmt: skip

    log_in(page, live_server.url, staff)
    page.goto(f"{live_server.url}/admin/")
    page.wait_for_url("**/accounts/reauthenticate/**")  # setting up a factor: password again
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/accounts/2fa/totp/activate/")

    page.goto(f"{live_server.url}/accounts/2fa/webauthn/add/")
    page.fill("input[name=name]", "Laptop")
    page.click("#mfa_webauthn_add")
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    page.goto(f"{live_server.url}/admin/")
    assert page.url == f"{live_server.url}/admin/"
    assert page.locator("#site-name").is_visible()
    assert blocked_scripts == []
