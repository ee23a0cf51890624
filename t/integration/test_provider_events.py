"""Provider events, live status, cancel and reconciliation through the
Stripe and Paystack connectors (issue 8), against small loopback
stand-ins written here: Stripe events found by the provider's id alone,
paid then failed is a reversal, duplicate and out-of-order events move
nothing back, bad signatures change nothing, Stripe's calls carry the
Stripe-Account of a bank payout's connected account and none for a
transfer, cancel where the provider has it (422 not_supported where it
has not), and the reconciler's lookup by the provider's id.

Payouts are inserted in SQL: creating them through Stripe needs the send
path's transfer fields (the send stream)."""

import hashlib
import hmac
import http.server
import json
import os
import re
import tempfile
import threading
import time
import uuid as uuidlib

import pytest

from conftest import free_port
from payout_helpers import (assert_error, assert_history, events,
                            get_payout, payout_row, post_json, wait_for)

STRIPE_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
WHSEC = "whsec_" + "5" * 32
PAYSTACK_KEY = "sk_test_" + "a1" * 20
BANK_ACCOUNT = "acct_1BankHolder000001"
DESTINATION = "acct_1Connected0000001"


class StandIn:
    """A provider on loopback: objects by path, every request recorded.
    answer(method, path, body) may return (status, dict) to override."""

    def __init__(self):
        self.port = free_port()
        self.objects = {}
        self.requests = []
        self.answer = None
        self.lock = threading.Lock()
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _do(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                with stand_in.lock:
                    stand_in.requests.append({
                        "method": self.command, "path": self.path,
                        "headers": {k.lower(): v
                                    for k, v in self.headers.items()},
                        "body": body})
                status, out = stand_in.respond(self.command, self.path,
                                               body)
                data = json.dumps(out).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _do
            do_POST = _do

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1",
                                                       self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def respond(self, method, path, body):
        if self.answer:
            out = self.answer(method, path, body)
            if out is not None:
                return out
        m = re.match(r"^/v1/payouts/([^/]+)/cancel$", path)
        if method == "POST" and m:
            obj = self.objects.get("/v1/payouts/" + m.group(1))
            if obj is None:
                return 404, {"error": {"type": "invalid_request_error",
                                       "message": "No such payout"}}
            obj["status"] = "canceled"
            return 200, obj
        if method == "GET" and path in self.objects:
            return 200, self.objects[path]
        return 404, {"error": {"type": "invalid_request_error",
                               "message": "No such object"},
                     "status": False, "message": "Transfer not found"}

    def got(self, method=None, path=None):
        with self.lock:
            return [r for r in self.requests
                    if (method is None or r["method"] == method)
                    and (path is None or r["path"] == path)]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def secret_file(d, name, content):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(content + "\n")
    os.chmod(path, 0o600)
    return path


@pytest.fixture
def stripe():
    s = StandIn()
    yield s
    s.stop()


@pytest.fixture
def paystack():
    s = StandIn()
    yield s
    s.stop()


def provider_nginx(nginx_factory, stripe, paystack, grace="1h"):
    """Both gateways on the stand-ins; the reconciler leaves payouts
    alone for `grace` after their last change."""
    d = tempfile.mkdtemp(prefix="payout-keys-")
    sk = secret_file(d, "stripe.key", STRIPE_KEY)
    wh = secret_file(d, "stripe.whsec", WHSEC)
    pk = secret_file(d, "paystack.key", PAYSTACK_KEY)
    http = """
    payout_gateway stripe connector=stripe mode=test url=%s
                   secret_file=%s webhook_secret_file=%s timeout=2s;
    payout_gateway paystack connector=paystack mode=test url=%s
                   secret_file=%s timeout=2s;
    payout_reconcile_interval 300ms;
    payout_reconcile_grace %s;
""" % (stripe.url, sk, wh, paystack.url, pk, grace)
    server = """
        location /hooks/ { payout_provider_webhook; }
"""
    return nginx_factory(http=http, server=server)


@pytest.fixture
def ngx(nginx_factory, stripe, paystack):
    return provider_nginx(nginx_factory, stripe, paystack)


def insert_payout(pg, tenant, gateway, sub_status, gateway_payout_id=None,
                  rtype="bank_account", account_id=None, code=None,
                  age="0 seconds", due=False):
    """A payout of `gateway` in `sub_status`, with its recipient."""
    rid = pg.sql(
        "INSERT INTO recipients (tenant_id, livemode, gateway, "
        "recipient_type, name, fingerprint, account_id, "
        "gateway_recipient_code, bank_code, account_number_last4) "
        "VALUES (%s, false, %s, %s, 'ACME GMBH', %s, %s, %s, '110000000', "
        "'6789') RETURNING id",
        (tenant.id, gateway, rtype, os.urandom(32), account_id, code))[0][0]
    status = sub_status.split("_")[0]
    u = pg.sql(
        "INSERT INTO payouts (tenant_id, recipient_id, livemode, amount, "
        "currency, gateway, status, sub_status, gateway_payout_id, "
        "created_at, updated_at) "
        "VALUES (%s, %s, false, 1000, 'USD', %s, %s, %s, %s, "
        "now() - %s::interval, now() - %s::interval) RETURNING uuid",
        (tenant.id, rid, gateway, status, sub_status, gateway_payout_id,
         age, "2 hours" if due else "0 seconds"))[0][0]
    # the history that led there
    chain = [None, "pending_created", "pending_promise", "success"]
    chain = chain[:chain.index(sub_status) + 1]
    for frm, to in zip(chain, chain[1:]):
        pg.sql("INSERT INTO payout_events (payout_id, from_sub_status, "
               "to_sub_status, source) SELECT id, %s, %s, %s "
               "FROM payouts WHERE uuid = %s",
               (frm, to, "api" if frm is None else "provider", u))
    return str(u)


def stripe_payout(po, status, uuid=None, **kw):
    obj = {"id": po, "object": "payout", "amount": 1000, "currency": "usd",
           "status": status, "metadata": {"payout_uuid": uuid} if uuid
           else {}}
    obj.update(kw)
    return obj


def stripe_event(obj, event_type, event_id=None):
    return json.dumps({
        "id": event_id or "evt_" + uuidlib.uuid4().hex[:16],
        "object": "event", "type": event_type, "created": int(time.time()),
        "livemode": False, "data": {"object": obj},
    }, separators=(",", ":")).encode()


def stripe_signature(body, t=None, secret=WHSEC):
    t = int(time.time()) if t is None else int(t)
    mac = hmac.new(secret.encode(), ("%d." % t).encode() + body,
                   hashlib.sha256).hexdigest()
    return "t=%d,v1=%s" % (t, mac)


def stripe_hook(http, ngx, body, signature=None):
    return http.post(ngx.url("/hooks/stripe"), data=body, headers={
        "Content-Type": "application/json",
        "Stripe-Signature": signature or stripe_signature(body)})


def stripe_outcome(http, ngx, obj, event_type):
    r = stripe_hook(http, ngx, stripe_event(obj, event_type))
    assert r.status_code == 200, r.text
    return r.json()["outcome"]


def paystack_event(reference, event, code="TRF_v5tip3zx8nna9o78",
                   status=None):
    return json.dumps({"event": event, "data": {
        "amount": 100000, "currency": "NGN", "reference": reference,
        "status": status or event.split(".")[1], "transfer_code": code,
        "reason": "Bonus", "source": "balance"}},
        separators=(",", ":")).encode()


def paystack_hook(http, ngx, body, key=PAYSTACK_KEY):
    sig = hmac.new(key.encode(), body, hashlib.sha512).hexdigest()
    return http.post(ngx.url("/hooks/paystack"), data=body, headers={
        "Content-Type": "application/json", "x-paystack-signature": sig})


def api(http, ngx, tenant, method, path):
    return http.request(method, ngx.url("/v1" + path),
                        headers=tenant.headers)


# Stripe webhooks --

def test_stripe_event_by_provider_id_only(ngx, pg, tenant, http):
    """A Stripe event without our metadata finds the payout by its po_
    id, among the payouts of this gateway and mode."""
    u = insert_payout(pg, tenant, "stripe", "pending_promise",
                      "po_1ByIdOnly", account_id=BANK_ACCOUNT)
    assert stripe_outcome(http, ngx, stripe_payout("po_1ByIdOnly", "paid"),
                          "payout.paid") == "applied"
    assert payout_row(pg, u)["sub_status"] == "success"

    # an id no payout of ours has: acknowledged and ignored
    assert stripe_outcome(http, ngx, stripe_payout("po_1Unknown", "paid"),
                          "payout.paid") == "unknown"


def test_stripe_paid_then_failed_is_reversed(ngx, pg, tenant, http):
    """paid -> failed: the bank sent the money back (SPEC §6); late and
    duplicate events after it move nothing."""
    u = insert_payout(pg, tenant, "stripe", "pending_promise",
                      "po_1PaidFailed", account_id=BANK_ACCOUNT)
    assert stripe_outcome(http, ngx, stripe_payout("po_1PaidFailed", "paid",
                                                   u),
                          "payout.paid") == "applied"
    assert payout_row(pg, u)["sub_status"] == "success"

    failed = stripe_payout("po_1PaidFailed", "failed",
                           failure_code="account_closed")
    assert stripe_outcome(http, ngx, failed, "payout.failed") == "applied"
    p = get_payout(http, ngx, tenant, u)
    assert p["sub_status"] == "canceled_reversed", p
    assert p["failure_reason"] == "account_closed", p
    chain = assert_history(pg, u, ends="canceled_reversed")
    assert chain[-2:] == ["success", "canceled_reversed"], chain

    n = len(events(pg, u))
    row = payout_row(pg, u)
    for obj, kind in ((stripe_payout("po_1PaidFailed", "paid", u),
                       "payout.paid"),
                      (failed, "payout.failed"),
                      (stripe_payout("po_1PaidFailed", "in_transit", u),
                       "payout.updated")):
        assert stripe_outcome(http, ngx, obj, kind) == "ignored", kind
    assert len(events(pg, u)) == n
    assert payout_row(pg, u) == row


def test_stripe_out_of_order_and_plain_failure(ngx, pg, tenant, http):
    """A pending event after success is ignored; a failure of a payout
    never paid is a plain failure."""
    u = insert_payout(pg, tenant, "stripe", "pending_promise", "po_1Order",
                      account_id=BANK_ACCOUNT)
    assert stripe_outcome(http, ngx, stripe_payout("po_1Order", "paid", u),
                          "payout.paid") == "applied"
    assert stripe_outcome(http, ngx, stripe_payout("po_1Order", "pending",
                                                   u),
                          "payout.updated") == "ignored"
    assert payout_row(pg, u)["sub_status"] == "success"

    v = insert_payout(pg, tenant, "stripe", "pending_promise", "po_1Fails",
                      account_id=BANK_ACCOUNT)
    assert stripe_outcome(http, ngx,
                          stripe_payout("po_1Fails", "failed",
                                        failure_code="no_account"),
                          "payout.failed") == "applied"
    row = payout_row(pg, v)
    assert row["sub_status"] == "canceled_failure", row
    assert row["failure_reason"] == "no_account", row
    assert stripe_outcome(http, ngx, stripe_payout("po_1Fails", "paid"),
                          "payout.paid") == "ignored"
    assert payout_row(pg, v) == row


def test_stripe_transfer_reversed(ngx, pg, tenant, http):
    u = insert_payout(pg, tenant, "stripe", "success", "tr_1Reversed",
                      rtype="connected_account", account_id=DESTINATION)
    obj = {"id": "tr_1Reversed", "object": "transfer", "amount": 1000,
           "currency": "usd", "destination": DESTINATION, "reversed": True,
           "metadata": {"payout_uuid": u}}
    assert stripe_outcome(http, ngx, obj, "transfer.reversed") == "applied"
    assert payout_row(pg, u)["sub_status"] == "canceled_reversed"


@pytest.mark.parametrize("how", ["bad", "stale", "missing", "other_key"])
def test_stripe_bad_or_stale_signature(ngx, pg, tenant, http, how):
    u = insert_payout(pg, tenant, "stripe", "pending_promise", "po_1BadSig",
                      account_id=BANK_ACCOUNT)
    row = payout_row(pg, u)
    n = len(events(pg, u))
    body = stripe_event(stripe_payout("po_1BadSig", "paid", u),
                        "payout.paid")
    sig = {"bad": "t=%d,v1=%s" % (time.time(), "0" * 64),
           "stale": stripe_signature(body, t=time.time() - 3600),
           "missing": "",
           "other_key": stripe_signature(body, secret="whsec_other")}[how]
    headers = {"Content-Type": "application/json"}
    if sig:
        headers["Stripe-Signature"] = sig
    r = http.post(ngx.url("/hooks/stripe"), data=body, headers=headers)
    assert_error(r, 401, "invalid_signature")
    assert payout_row(pg, u) == row
    assert len(events(pg, u)) == n


# Paystack webhooks --

def test_paystack_success_then_reversed(ngx, pg, tenant, http):
    u = insert_payout(pg, tenant, "paystack", "pending_promise")
    r = paystack_hook(http, ngx, paystack_event(u, "transfer.success"))
    assert r.status_code == 200 and r.json()["outcome"] == "applied", r.text
    row = payout_row(pg, u)
    assert row["sub_status"] == "success"
    assert row["gateway_payout_id"] == "TRF_v5tip3zx8nna9o78"

    r = paystack_hook(http, ngx, paystack_event(u, "transfer.reversed"))
    assert r.json()["outcome"] == "applied", r.text
    assert payout_row(pg, u)["sub_status"] == "canceled_reversed"

    # late: nothing moves back
    for ev in ("transfer.success", "transfer.failed"):
        r = paystack_hook(http, ngx, paystack_event(u, ev))
        assert r.json()["outcome"] == "ignored", (ev, r.text)
    assert payout_row(pg, u)["sub_status"] == "canceled_reversed"


def test_paystack_failed_and_bad_signature(ngx, pg, tenant, http):
    u = insert_payout(pg, tenant, "paystack", "pending_promise")
    body = paystack_event(u, "transfer.failed")
    row = payout_row(pg, u)
    r = paystack_hook(http, ngx, body, key="sk_test_wrong")
    assert_error(r, 401, "invalid_signature")
    assert payout_row(pg, u) == row

    r = paystack_hook(http, ngx, body)
    assert r.json()["outcome"] == "applied", r.text
    assert payout_row(pg, u)["sub_status"] == "canceled_failure"

    # a Paystack failure after success is a late event, not a reversal
    v = insert_payout(pg, tenant, "paystack", "success", "TRF_x")
    r = paystack_hook(http, ngx, paystack_event(v, "transfer.failed"))
    assert r.json()["outcome"] == "ignored", r.text
    assert payout_row(pg, v)["sub_status"] == "success"


# live status --

def test_live_status_stripe_account_header(ngx, pg, tenant, http, stripe):
    """A bank payout is asked on its connected account (Stripe-Account);
    a transfer from the platform carries none."""
    u = insert_payout(pg, tenant, "stripe", "pending_promise", "po_1Live",
                      account_id=BANK_ACCOUNT, code="ba_1Dest")
    stripe.objects["/v1/payouts/po_1Live"] = stripe_payout("po_1Live",
                                                           "in_transit", u)
    r = api(http, ngx, tenant, "GET", "/payouts/%s/status" % u)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["code"]["type"] == "ok", out
    assert out["response"]["id"] == "po_1Live"
    (req,) = stripe.got("GET", "/v1/payouts/po_1Live")
    assert req["headers"]["stripe-account"] == BANK_ACCOUNT
    assert req["headers"]["authorization"] == "Bearer " + STRIPE_KEY

    v = insert_payout(pg, tenant, "stripe", "success", "tr_1Live",
                      rtype="connected_account", account_id=DESTINATION)
    stripe.objects["/v1/transfers/tr_1Live"] = {
        "id": "tr_1Live", "object": "transfer", "reversed": False,
        "destination": DESTINATION, "metadata": {"payout_uuid": v}}
    r = api(http, ngx, tenant, "GET", "/payouts/%s/status" % v)
    assert r.json()["code"]["type"] == "ok", r.text
    (req,) = stripe.got("GET", "/v1/transfers/tr_1Live")
    assert "stripe-account" not in req["headers"], req

    # the stored payouts are not changed by a live status
    assert payout_row(pg, u)["sub_status"] == "pending_promise"


def test_live_status_without_provider_id_is_stored(ngx, pg, tenant, http,
                                                   stripe):
    u = insert_payout(pg, tenant, "stripe", "pending_created",
                      account_id=BANK_ACCOUNT)
    r = api(http, ngx, tenant, "GET", "/payouts/%s/status" % u)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["code"] == {"type": "stored", "success": True,
                           "code": 200}, out
    assert out["response"] == {"sub_status": "pending_created"}, out
    assert stripe.requests == []


def test_live_status_paystack(ngx, pg, tenant, http, paystack):
    u = insert_payout(pg, tenant, "paystack", "pending_promise")
    paystack.objects["/transfer/verify/" + u] = {
        "status": True, "message": "Transfer retrieved",
        "data": {"reference": u, "status": "success",
                 "transfer_code": "TRF_live"}}
    r = api(http, ngx, tenant, "GET", "/payouts/%s/status" % u)
    out = r.json()
    assert out["code"]["type"] == "ok", out
    assert out["response"]["data"]["status"] == "success"
    assert len(paystack.got("GET", "/transfer/verify/" + u)) == 1


# cancel --

def test_cancel_stripe_bank_payout(ngx, pg, tenant, http, stripe):
    u = insert_payout(pg, tenant, "stripe", "pending_promise", "po_1Cancel",
                      account_id=BANK_ACCOUNT)
    stripe.objects["/v1/payouts/po_1Cancel"] = stripe_payout("po_1Cancel",
                                                             "pending", u)
    r = api(http, ngx, tenant, "POST", "/payouts/%s/cancel" % u)
    assert r.status_code == 200, r.text
    assert r.json()["sub_status"] == "canceled_voided", r.text
    (req,) = stripe.got("POST", "/v1/payouts/po_1Cancel/cancel")
    h = req["headers"]
    assert h["idempotency-key"] == "cancel-" + u
    assert h["content-type"] == "application/x-www-form-urlencoded"
    assert h["stripe-account"] == BANK_ACCOUNT
    assert payout_row(pg, u)["sub_status"] == "canceled_voided"


def test_cancel_without_provider_id_is_retried(ngx, pg, tenant, http,
                                               stripe):
    u = insert_payout(pg, tenant, "stripe", "pending_created",
                      account_id=BANK_ACCOUNT)
    r = api(http, ngx, tenant, "POST", "/payouts/%s/cancel" % u)
    assert_error(r, 503, "payout_in_flight")
    assert "Retry-After" in r.headers
    assert stripe.requests == []
    assert payout_row(pg, u)["sub_status"] == "pending_created"


@pytest.mark.parametrize("gateway", ["paystack", "stripe_transfer"])
def test_cancel_not_supported(ngx, pg, tenant, http, stripe, paystack,
                              gateway):
    if gateway == "paystack":
        u = insert_payout(pg, tenant, "paystack", "pending_promise",
                          "TRF_cancel")
    else:
        u = insert_payout(pg, tenant, "stripe", "pending_promise",
                          "tr_1NoCancel", rtype="connected_account",
                          account_id=DESTINATION)
    row = payout_row(pg, u)
    r = api(http, ngx, tenant, "POST", "/payouts/%s/cancel" % u)
    assert_error(r, 422, "not_supported")
    assert "cancel" in r.json()["error"]["message"]
    assert stripe.requests == [] and paystack.requests == []
    assert payout_row(pg, u) == row


# the reconciler --

def test_reconciler_looks_up_a_stripe_payout_by_its_id(nginx_factory, pg,
                                                       tenant, http,
                                                       stripe, paystack):
    ngx = provider_nginx(nginx_factory, stripe, paystack, grace="1s")
    u = insert_payout(pg, tenant, "stripe", "pending_promise", "po_1Recon",
                      account_id=BANK_ACCOUNT, due=True)
    stripe.objects["/v1/payouts/po_1Recon"] = stripe_payout("po_1Recon",
                                                            "paid", u)
    wait_for(lambda: payout_row(pg, u)["sub_status"] == "success",
             what="the reconciler's lookup")
    req = stripe.got("GET", "/v1/payouts/po_1Recon")[0]
    assert req["headers"]["stripe-account"] == BANK_ACCOUNT
    assert assert_history(pg, u, ends="success")
    assert ngx


def test_reconciler_never_resends_past_the_key_lifetime(nginx_factory, pg,
                                                        tenant, http,
                                                        stripe, paystack):
    """A Stripe payout without an answer for longer than Stripe keeps its
    idempotency key: a send now could pay twice, and only Stripe could
    confirm a timeout; it stays pending_created, with an [error]."""
    ngx = provider_nginx(nginx_factory, stripe, paystack, grace="1s")
    u = insert_payout(pg, tenant, "stripe", "pending_created",
                      account_id=BANK_ACCOUNT, code="ba_1Dest",
                      age="2 days", due=True)

    def logged():
        with open(ngx.error_log) as f:
            return ("payout %s" % u) in f.read()

    wait_for(logged, what="the reconciler's error")
    time.sleep(0.7)
    assert payout_row(pg, u)["sub_status"] == "pending_created"
    assert stripe.requests == []


def test_reconciler_resends_a_stripe_payout_with_the_same_key(
        nginx_factory, pg, tenant, http, stripe, paystack):
    """No answer to the creation (pending_created, no provider id): the
    reconciler sends the same POST with the same Idempotency-Key, past
    the reconcile window too; never canceled_timeout."""
    ngx = provider_nginx(nginx_factory, stripe, paystack, grace="1s")
    u = insert_payout(pg, tenant, "stripe", "pending_created",
                      account_id=BANK_ACCOUNT, code="ba_1Dest",
                      age="3 hours", due=True)
    # a recipient made through the API holds its sealed number, as the
    # send path wants; the payout is moved onto it
    r = post_json(http, ngx, tenant, "/v1/payout-recipients",
                  {"gateway": "stripe", "bank_account_number": "000123456789",
                   "bank_account_name": "ACME GMBH", "bank_code": "110000000",
                   "country": "US", "account_id": BANK_ACCOUNT})
    assert r.status_code == 201, r.text
    pg.sql("UPDATE recipients SET gateway_recipient_code = 'ba_1Dest' "
           "WHERE uuid = %s", (r.json()["uuid"],))
    pg.sql("UPDATE payouts SET recipient_id = "
           "(SELECT id FROM recipients WHERE uuid = %s) WHERE uuid = %s",
           (r.json()["uuid"], u))
    answers = []

    def answer(method, path, body):
        if method == "POST" and path == "/v1/payouts":
            answers.append(body)
            if len(answers) == 1:
                return 500, {"error": {"type": "api_error",
                                       "message": "try again"}}
            return 200, stripe_payout("po_1Resent", "pending", u)
        return None

    stripe.answer = answer
    wait_for(lambda: payout_row(pg, u)["sub_status"] == "pending_promise",
             timeout=15, what="the reconciler's second send")
    posts = stripe.got("POST", "/v1/payouts")
    assert len(posts) >= 2
    assert {p["headers"]["idempotency-key"] for p in posts} == {u}
    assert payout_row(pg, u)["gateway_payout_id"] == "po_1Resent"
    assert ngx
