"""A local stand-in for the Stripe API calls PhotoListing makes, over real HTTP, for the real
``stripe`` SDK (``base_addresses={"api": ...}``).

Form-encoded requests as the SDK sends them; objects shaped from Stripe's published fixtures
(``shared/data/stripe/fixtures3.json``) with the fields a scenario needs filled in:
``POST /v1/customers``, ``POST /v1/checkout/sessions``, ``POST /v1/billing_portal/sessions``,
``GET /v1/subscriptions/{id}``, ``POST /v1/subscriptions/{id}``. Errors in Stripe's shape.

Tests drive what Stripe would do on its side: ``complete_checkout(session_id)`` creates the
subscription, ``renew(sub_id)`` moves its period, ``set_status(sub_id, "past_due")`` and so on;
``event(type, obj)`` builds an event and ``signed(event, secret)`` its body and signature header.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlparse

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "data" / "stripe" / "fixtures3.json"
API_KEY = "sk_test_photolisting"
WEBHOOK_SECRET = "whsec_test_photolisting"
MONTH = 30 * 24 * 3600


def _fixtures() -> dict:
    if FIXTURES.exists():
        return json.loads(FIXTURES.read_text())["resources"]
    if os.environ.get("CI"):
        raise RuntimeError(f"{FIXTURES} is missing: CI tests billing on Stripe's real shapes")
    # Minimal shapes when shared/ is absent on a developer's machine: the fields the code reads.
    return {
        "customer": {"object": "customer", "metadata": {}},
        "checkout.session": {"object": "checkout.session", "metadata": {}},
        "billing_portal.session": {"object": "billing_portal.session"},
        "subscription": {"object": "subscription", "items": {"object": "list", "data": [{}]}},
        "subscription_item": {"object": "subscription_item"},
        "invoice": {"object": "invoice", "lines": {"data": []}},
    }


def _nest(pairs: list[tuple[str, str]]) -> dict:
    """``a[b][0][c]=v`` form fields → nested dicts/lists, as Stripe parses them."""
    root: dict = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = root
        for part, following in itertools.pairwise(parts):
            node = node.setdefault(part, [] if following.isdigit() else {})
            if isinstance(node, list):
                break
        if isinstance(node, list):
            index = int(parts[-2]) if len(parts) > 2 and parts[-2].isdigit() else len(node)
            while len(node) <= index:
                node.append({})
            node[index][parts[-1]] = value
        else:
            node[parts[-1]] = value
    return root


class FakeStripe:
    def __init__(self, base_url: str = "") -> None:
        self.base_url = base_url
        self.resources = _fixtures()
        self.customers: dict[str, dict] = {}
        self.sessions: dict[str, dict] = {}
        self.subscriptions: dict[str, dict] = {}
        self.requests: list[tuple[str, str, dict]] = []
        self._ids = itertools.count(1)
        self.lock = threading.Lock()

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_test{next(self._ids):06d}"

    def shaped(self, kind: str, **fields) -> dict:
        obj = copy.deepcopy(self.resources[kind])
        obj.update(fields)
        return obj

    # --- What Stripe does on its side -----------------------------------------------------

    def complete_checkout(self, session_id: str, *, status: str = "active") -> tuple[dict, dict]:
        """The customer paid: the session completes and a subscription exists."""
        session = self.sessions[session_id]
        line = session["line_items"][0]
        subscription = self.subscription(
            customer=session["customer"],
            price=line["price"],
            quantity=int(line.get("quantity", 1)),
            metadata=session.get("subscription_data", {}).get("metadata", {}),
            status=status,
        )
        session.update(status="complete", payment_status="paid", subscription=subscription["id"])
        return session, subscription

    def subscription(self, *, customer, price, quantity=1, metadata=None, status="active") -> dict:
        now = int(time.time())
        sub_id = self.new_id("sub")
        item = self.shaped(
            "subscription_item",
            id=self.new_id("si"),
            subscription=sub_id,
            quantity=quantity,
            current_period_start=now,
            current_period_end=now + MONTH,
        )
        item["price"] = {**item.get("price", {}), "id": price, "object": "price"}
        subscription = self.shaped(
            "subscription",
            id=sub_id,
            customer=customer,
            status=status,
            metadata=metadata or {},
            cancel_at_period_end=False,
            canceled_at=None,
            ended_at=None,
            cancel_at=None,
            trial_end=None,
            created=now,
            start_date=now,
        )
        subscription["items"] = {"object": "list", "data": [item], "has_more": False}
        self.subscriptions[sub_id] = subscription
        return subscription

    def renew(self, sub_id: str, *, days: int = 30) -> dict:
        item = self.subscriptions[sub_id]["items"]["data"][0]
        item["current_period_start"] += days * 24 * 3600
        item["current_period_end"] += days * 24 * 3600
        return self.subscriptions[sub_id]

    def set_status(self, sub_id: str, status: str, **fields) -> dict:
        self.subscriptions[sub_id].update(status=status, **fields)
        return self.subscriptions[sub_id]

    def invoice(self, sub_id: str, *, paid: bool, reason: str = "subscription_cycle") -> dict:
        subscription = self.subscriptions[sub_id]
        item = subscription["items"]["data"][0]
        return self.shaped(
            "invoice",
            id=self.new_id("in"),
            number=f"PL-{next(self._ids):04d}",
            customer=subscription["customer"],
            status="paid" if paid else "open",
            amount_due=2900,
            amount_paid=2900 if paid else 0,
            currency="eur",
            billing_reason=reason,
            created=int(time.time()),
            hosted_invoice_url=f"{self.base_url}/invoices/{sub_id}",
            invoice_pdf=f"{self.base_url}/invoices/{sub_id}.pdf",
            period_start=item["current_period_start"],
            period_end=item["current_period_end"],
            parent={
                "type": "subscription_details",
                "subscription_details": {"subscription": sub_id, "metadata": {}},
                "quote_details": None,
            },
        )

    def event(self, event_type: str, obj: dict, *, created: int | None = None) -> dict:
        return self.shaped(
            "event",
            id=self.new_id("evt"),
            type=event_type,
            created=created or int(time.time()),
            data={"object": copy.deepcopy(obj)},
            api_version="2026-10-28.endive",
            livemode=False,
            pending_webhooks=1,
            request={"id": None, "idempotency_key": None},
        )


def signed(
    event: dict, secret: str = WEBHOOK_SECRET, *, timestamp: int | None = None
) -> tuple[bytes, str]:
    """The raw body and a ``Stripe-Signature`` header, made as Stripe makes them."""
    body = json.dumps(event).encode()
    moment = timestamp or int(time.time())
    digest = hmac.new(secret.encode(), f"{moment}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={moment},v1={digest}"


def make_handler(state: FakeStripe):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _send(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Request-Id", f"req_{time.time_ns()}")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(
            self,
            status: int,
            message: str,
            kind: str = "invalid_request_error",
            code=None,
            param=None,
        ):
            self._send(
                status, {"error": {"type": kind, "message": message, "code": code, "param": param}}
            )

        def _authorised(self) -> bool:
            if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                self._error(401, "Invalid API Key provided.", code="api_key_invalid")
                return False
            return True

        def do_GET(self) -> None:
            path = urlparse(self.path).path
            if path.startswith("/checkout/") or path.startswith("/portal/"):
                page = f"<html><body><h1>Test {path.split('/')[1]}</h1><p>{path}</p></body></html>".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)
                return
            if not self._authorised():
                return
            state.requests.append(("GET", path, {}))
            if path.startswith("/v1/subscriptions/"):
                sub_id = path.rsplit("/", 1)[-1]
                if sub_id not in state.subscriptions:
                    return self._error(
                        404,
                        f"No such subscription: '{sub_id}'",
                        code="resource_missing",
                        param="id",
                    )
                return self._send(200, state.subscriptions[sub_id])
            self._error(404, f"Unrecognized request URL (GET: {path}).")

        def do_POST(self) -> None:
            if not self._authorised():
                return
            path = urlparse(self.path).path
            length = int(self.headers.get("Content-Length", 0))
            params = _nest(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
            state.requests.append(("POST", path, params))
            with state.lock:
                if path == "/v1/customers":
                    customer = state.shaped(
                        "customer",
                        id=state.new_id("cus"),
                        email=params.get("email"),
                        name=params.get("name"),
                        metadata=params.get("metadata", {}),
                    )
                    state.customers[customer["id"]] = customer
                    return self._send(200, customer)
                if path == "/v1/checkout/sessions":
                    if params.get("customer") not in state.customers:
                        return self._error(
                            400, "No such customer.", code="resource_missing", param="customer"
                        )
                    if not params.get("line_items"):
                        return self._error(
                            400, "Missing required param: line_items.", param="line_items"
                        )
                    session_id = "cs_test_" + state.new_id("x")
                    session = state.shaped(
                        "checkout.session",
                        id=session_id,
                        mode=params.get("mode"),
                        customer=params["customer"],
                        client_reference_id=params.get("client_reference_id"),
                        metadata=params.get("metadata", {}),
                        success_url=params.get("success_url"),
                        cancel_url=params.get("cancel_url"),
                        status="open",
                        payment_status="unpaid",
                        subscription=None,
                        url=f"{state.base_url}/checkout/{session_id}",
                    )
                    session["line_items"] = params["line_items"]
                    session["subscription_data"] = params.get("subscription_data", {})
                    state.sessions[session_id] = session
                    return self._send(
                        200,
                        {
                            k: v
                            for k, v in session.items()
                            if k not in ("line_items", "subscription_data")
                        },
                    )
                if path == "/v1/billing_portal/sessions":
                    if params.get("customer") not in state.customers:
                        return self._error(
                            400, "No such customer.", code="resource_missing", param="customer"
                        )
                    portal = state.shaped(
                        "billing_portal.session",
                        id=state.new_id("bps"),
                        customer=params["customer"],
                        return_url=params.get("return_url"),
                        url=f"{state.base_url}/portal/{params['customer']}",
                    )
                    return self._send(200, portal)
                if path.startswith("/v1/subscriptions/"):
                    sub_id = path.rsplit("/", 1)[-1]
                    subscription = state.subscriptions.get(sub_id)
                    if subscription is None:
                        return self._error(
                            404,
                            f"No such subscription: '{sub_id}'",
                            code="resource_missing",
                            param="id",
                        )
                    item = subscription["items"]["data"][0]
                    for change in params.get("items", []):
                        if change.get("id") != item["id"]:
                            return self._error(400, "No such subscription item.", param="items")
                        if "price" in change:
                            item["price"] = {**item["price"], "id": change["price"]}
                        if "quantity" in change:
                            item["quantity"] = int(change["quantity"])
                    if "cancel_at_period_end" in params:
                        subscription["cancel_at_period_end"] = (
                            params["cancel_at_period_end"] == "true"
                        )
                    return self._send(200, subscription)
            self._error(404, f"Unrecognized request URL (POST: {path}).")

    return Handler


def start() -> tuple[ThreadingHTTPServer, FakeStripe]:
    state = FakeStripe()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, state
