"""Loopback stand-ins for Paystack, Stripe, Mollie, Adyen and PaynetEasy,
for the flow and fault tests (test_paystack.py, test_stripe.py,
test_mollie.py, test_adyen.py, test_payneteasy.py) where prism's static
examples
cannot drive a payout: they keep state like the real providers.

Not a test module (pytest puts this directory on sys.path).

Both stand-ins are python http.server threads on 127.0.0.1 that
  - record every request (stand_in.calls: Call objects, in order), also
    the ones they answer late or never;
  - keep transfers by our reference (Paystack) or by Idempotency-Key
    (Stripe) and answer a request sent again with the first result,
    counting what they executed: executed(ref) is how many times money
    moved for that reference (it must stay 1);
  - take outcomes per destination (Paystack: the account number; Stripe:
    the bank account number or the connected account id; Mollie: the
    balance id; Adyen: the IBAN or account number) or for the
    next calls of a test:
        stand_in.outcome["0000000051"] = "reject"
        stand_in.next.append("drop")       # the next money move, whoever's
    "ok" (default: accepted, pending), "otp" (Paystack), "reject" (a 400
    with the provider's error), "auth" (401), "error" (500), "drop" (the
    transfer is executed, the connection closed without an answer),
    "hold" (executed, the answer withheld until release() or hold_max),
    the last three for the first move to the destination only;
    tests use their own destinations: a module's reconciler also sends
    the payouts other modules left pending in the shared database, of
    gateways with the same name, and those would take a "next" outcome;
  - send signed webhooks to nginx: paystack.hook(ngx, "transfer.success",
    reference) / stripe.hook(ngx, "payout.paid", payout_id) /
    mollie.hook(ngx, "payout.completed", payout_id) /
    adyen.hook(ngx, "balancePlatform.transfer.updated", transfer_id).

A connector not built into the module (an unmerged stream of issue 9)
makes Site.start() an xfail, not an error: see xfail_unknown_connector.
"""

import base64
import concurrent.futures
import hashlib
import hmac
import itertools
import json
import os
import re
import shutil
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

import pytest
import requests

from conftest import Nginx
from fault_helpers import stop_forgiving_kills
from receiver import Recorder

PAYSTACK_KEY = "sk_test_" + "e2e0" * 10
STRIPE_KEY = "sk_test_" + "e2eStripeKey0123456789AB"
STRIPE_WHSEC = "whsec_" + "e2eWebhookSecret0123456789abcdef"
MOLLIE_KEY = "test_" + "e2eMollieKey0123456789abcdefgh"
MOLLIE_WHSEC = "e2eMollieWebhookSecret0123456789"
ADYEN_KEY = "AQE" + "e2eAdyenKey0123456789abcdefghijklmnop"
# the HMAC key as Adyen's Customer Area shows it: hex
ADYEN_HMAC = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
OTP = "123456"

_ids = itertools.count(1)

# a dropped answer stays dropped for resends this soon (libcurl's own,
# not the reconciler's, which waits for payout_reconcile_grace)
REDROP = 0.5

# the reconciler, quick: a lost answer is settled within seconds
RECONCILE = """
    payout_reconcile_interval 200ms;
    payout_reconcile_grace 1500ms;
"""
HOOKS = "location /hooks/ { payout_provider_webhook; }"


class Site:
    """A test module's nginx with real gateways: key files in a private
    directory (site.key(name, content) -> path), /hooks/ for provider
    webhooks, and the workers a test killed (site.killed) forgiven in
    the error log at close()."""

    def __init__(self, pg):
        self.pg = pg
        self.dir = tempfile.mkdtemp(prefix="payout-providers-")
        os.chmod(self.dir, 0o755)
        self.killed = set()
        self.ngx = None
        self.servers = []

    def add(self, server):
        """A stand-in or proxy, started now, stopped at close()."""
        self.servers.append(server)
        return server.start()

    def fresh(self, stand_in):
        """For a test's fixture: the stand-in reset before and after
        (yield from site.fresh(site.ps))."""
        stand_in.reset()
        yield stand_in
        stand_in.reset()

    def key(self, name, content):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(content + "\n")
        os.chmod(path, 0o600)
        return path

    def start(self, gateways, reconcile=RECONCILE):
        ngx = Nginx(self.pg, workers=1, http=gateways + reconcile,
                    server=HOOKS)
        out = ngx.check_config()
        if out.returncode != 0:
            shutil.rmtree(ngx.dir, ignore_errors=True)
            self.close()
            xfail_unknown_connector(out.stderr)
            raise AssertionError("nginx -t:\n" + out.stderr)
        self.ngx = ngx.start()
        return self.ngx

    def close(self):
        """Stops everything; fails on what nginx's error log shows."""
        problems = []
        if self.ngx is not None:
            stop_forgiving_kills(self.ngx, self.killed)
            problems = self.ngx.destroy()
        for server in self.servers:
            server.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        assert not problems, "nginx error log:\n" + "\n".join(problems)


def two_mode_site(pg, cls, connector, keys, webhook_secret, setting):
    """A Site with a stand-in of cls per mode (site.test, site.live, of
    keys (test key, live key)) and gateways named connector (mode=test)
    and connector_live (mode=live), setting (e.g. "balance=bal_...")
    on both; site.keys: the key files ("test", "live", "whsec")."""
    e = Site(pg)
    e.test, e.live = e.add(cls(key=keys[0])), e.add(cls(key=keys[1]))
    e.keys = {"test": e.key(connector + ".key", keys[0]),
              "live": e.key(connector + "-live.key", keys[1]),
              "whsec": e.key(connector + ".whsec", webhook_secret)}
    gw = """
    payout_gateway %s connector=%s mode=%s url=%s
                   secret_file=%s webhook_secret_file=%s %s timeout=1s;"""
    e.start("".join(gw % (name, connector, mode, server.url, e.keys[mode],
                          e.keys["whsec"], setting)
                    for name, mode, server in (
                        (connector, "test", e.test),
                        (connector + "_live", "live", e.live))) + "\n")
    return e


def xfail_unknown_connector(stderr):
    """nginx -t refused a connector= the module does not have yet (the
    codec streams of issue 9 land on their own branches): xfail, with
    the reason, rather than fail."""
    m = re.search(r'unknown connector "(\w+)"', stderr)
    if m:
        pytest.xfail("connector=%s is not in this build yet (its codec "
                     "branch is not merged)" % m.group(1))


def iban_of(n):
    """A Dutch IBAN with valid check digits for account number n."""
    bban = "ABNA%010d" % (n % 10 ** 10)
    digits = "".join(str(int(ch, 36)) for ch in bban + "NL00")
    return "NL%02d%s" % (98 - int(digits) % 97, bban)


def in_thread(fn, *args, **kw):
    """fn(*args, **kw) in a thread of its own: a future."""
    ex = concurrent.futures.ThreadPoolExecutor(1)
    fut = ex.submit(fn, *args, **kw)
    ex.shutdown(wait=False)
    return fut


def gateway_error(r, status, code):
    """An API error answer carrying more than code and message (e.g.
    gateway_rejected's payout_uuid and sub_status): the body and the
    error's fields in one dict."""
    assert r.status_code == status, r.text
    out = r.json()
    err = out["error"]
    assert err["code"] == code, out
    return dict(out, **err)


def new_id(prefix):
    return "%s%s%06d" % (prefix, "e2e", next(_ids))


class Call:
    """One request a stand-in got, and how it answered (status None:
    no answer)."""

    def __init__(self, method, path, headers, body):
        self.at = time.time()
        self.method = method
        self.path = path
        self.headers = headers          # lower-cased names
        self.body = body
        self.status = None
        self.answer = None

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def form(self):
        return dict(urllib.parse.parse_qsl(self.body.decode(),
                                           keep_blank_values=True))

    def __repr__(self):
        return "<%s %s -> %s>" % (self.method, self.path, self.status)


class _Drop(Exception):
    """Answer nothing: close the connection."""


class StandIn(Recorder):
    """The common part: the server, the record, outcomes and holds."""

    name = "provider"
    content_type = "application/json"

    def __init__(self):
        super().__init__()
        self.lock = threading.RLock()
        self.outcome = {}               # destination -> outcome
        self.next = []                  # outcomes for the next money moves
        self.hold_max = 30.0
        self._release = threading.Event()
        self.held = threading.Event()   # set once a call is being held
        # reference or key -> answers still to drop when it is sent
        # again: libcurl sends a request once more, by itself, when a
        # reused connection closes without an answer
        self.drops = {}
        self.port = None

    @property
    def calls(self):
        with self._cond:
            return list(self.requests)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def got(self, method=None, path=None):
        return [c for c in self.calls
                if (method is None or c.method == method)
                and (path is None or c.path.startswith(path))]

    def reset(self):
        """Between tests: outcomes back to "ok", holds released."""
        with self.lock:
            self.outcome.clear()
            del self.next[:]
            self.drops.clear()
            self.hold_max = 30.0
        self.release()

    def release(self):
        self._release.set()

    def redrop(self, key):
        """A request sent again soon after its answer was dropped (by
        libcurl itself): drop this one too."""
        with self.lock:
            if time.time() < self.drops.get(key, 0):
                raise _Drop()

    def pick(self, destination):
        """The outcome of a money move to destination; a passing fault
        ("error", "drop", "hold") befalls its first move only."""
        with self.lock:
            if self.next:
                return self.next.pop(0)
            outcome = self.outcome.get(destination, "ok")
            if outcome in ("error", "drop", "hold", "drop_unseen"):
                del self.outcome[destination]
            return outcome

    def after_execute(self, outcome, key=None):
        """For "drop" and "hold": what happens to the answer of a
        request that did execute."""
        if outcome == "drop":
            with self.lock:
                self.drops[key] = time.time() + REDROP
            raise _Drop()
        if outcome == "hold":
            self._release.clear()
            self.held.set()
            self._release.wait(self.hold_max)
            self.held.clear()

    def start(self):
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                call = Call(self.command, self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            self.rfile.read(n) if n else b"")
                with stand_in._cond:
                    stand_in.requests.append(call)
                    stand_in._cond.notify_all()
                try:
                    status, body = stand_in.handle(call)
                except _Drop:
                    self.close_connection = True
                    return
                data = stand_in.encode(body)
                call.status, call.answer = status, body
                self.send_response(status)
                self.send_header("Content-Type", stand_in.content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                with stand_in._cond:
                    stand_in._cond.notify_all()

            do_GET = do_POST = do_DELETE = _handle

        self.port = self.serve(Handler, "127.0.0.1", 0)
        return self

    def encode(self, body):
        """An answer's bytes; PaynetEasy answers form-encoded lines."""
        return json.dumps(body).encode()

    def stop(self):
        self.release()
        super().stop()


# -- Paystack ----------------------------------------------------------------

class Paystack(StandIn):
    """Paystack's transfer API: /transferrecipient, /transfer,
    /transfer/verify/{reference}, /transfer/finalize_transfer."""

    name = "paystack"

    def __init__(self, key=PAYSTACK_KEY):
        super().__init__()
        self.key = key
        self.recipients = {}            # recipient_code -> request body
        self.codes = {}                 # account number -> recipient_code
        self.transfers = {}             # reference -> transfer (data)
        self.executions = {}            # reference -> count

    def executed(self, reference):
        with self.lock:
            return self.executions.get(reference, 0)

    @staticmethod
    def error(status, message):
        return status, {"status": False, "message": message}

    def handle(self, call):
        if call.headers.get("authorization") != "Bearer " + self.key:
            return self.error(401, "Invalid key")
        path = call.path
        if call.method == "POST" and path == "/transferrecipient":
            return self.enroll(call.json)
        if call.method == "POST" and path == "/transfer":
            return self.transfer(call.json)
        if call.method == "POST" and path == "/transfer/finalize_transfer":
            return self.finalize(call.json)
        if call.method == "GET" and path.startswith("/transfer/verify/"):
            with self.lock:
                t = self.transfers.get(path[len("/transfer/verify/"):])
            if t is None:
                return self.error(404, "Transfer not found")
            return 200, {"status": True, "message": "Transfer retrieved",
                         "data": dict(t)}
        return self.error(404, "no route %s %s" % (call.method, path))

    def enroll(self, body):
        number = body.get("account_number")
        with self.lock:
            if self.outcome.get(number) == "reject_enroll":
                return self.error(400, "Account number is invalid")
            code = self.codes.get(number)
            if code is None:
                code = new_id("RCP_")
                self.codes[number] = code
                self.recipients[code] = body
        return 201, {"status": True,
                     "message": "Transfer recipient created successfully",
                     "data": {"recipient_code": code, "type": body["type"],
                              "name": body["name"], "active": True,
                              "currency": body["currency"],
                              "details": {
                                  "account_number": number,
                                  "bank_code": body["bank_code"]}}}

    def transfer(self, body):
        ref = body["reference"]
        with self.lock:
            t = self.transfers.get(ref)
            if t is not None:
                self.redrop(ref)
                # the reference is Paystack's idempotency: the first one
                return 200, {"status": True, "message": "Transfer exists",
                             "data": dict(t)}
            recipient = self.recipients.get(body.get("recipient"))
            if recipient is None:
                return self.error(400, "Recipient specified is invalid")
            outcome = self.pick(recipient["account_number"])
            if outcome == "auth":
                return self.error(401, "Invalid key")
            if outcome == "error":
                return self.error(500, "Internal error")
            if outcome == "reject":
                return self.error(400, "Your balance is not enough to "
                                       "fulfil this request")
            t = {"reference": ref, "amount": body["amount"],
                 "currency": body["currency"], "integration": 1,
                 "domain": "test", "source": body["source"],
                 "reason": body.get("reason"),
                 "recipient": body["recipient"],
                 "transfer_code": new_id("TRF_"), "id": next(_ids),
                 "status": "otp" if outcome == "otp" else "pending",
                 "gateway_response": None}
            self.transfers[ref] = t
            self.executions[ref] = self.executions.get(ref, 0) + 1
            answer = dict(t)
        self.after_execute(outcome, ref)
        return 200, {"status": True, "message": "Transfer has been queued"
                     if answer["status"] == "pending"
                     else "Transfer requires OTP to continue",
                     "data": answer}

    def finalize(self, body):
        with self.lock:
            t = next((t for t in self.transfers.values()
                      if t["transfer_code"] == body.get("transfer_code")),
                     None)
            if t is None:
                return self.error(400, "Transfer not found")
            if t["status"] != "otp":
                return self.error(400, "Transfer is not currently "
                                       "awaiting OTP")
            if body.get("otp") != OTP:
                return self.error(400, "Invalid OTP")
            t["status"] = "pending"
            return 200, {"status": True, "message": "Transfer has been "
                         "queued", "data": dict(t)}

    def set_status(self, reference, status, gateway_response=None,
                   apply=True):
        """The transfer with status; stored too when apply."""
        with self.lock:
            t = self.transfers[reference]
            if not apply:
                t = dict(t)
            t["status"] = status
            t["gateway_response"] = gateway_response
            return dict(t)

    def sign(self, body):
        return hmac.new(self.key.encode(), body, hashlib.sha512).hexdigest()

    def event(self, event, reference, status=None, apply=True):
        """A webhook body (bytes) for the transfer of reference; moves
        the stand-in's transfer to status too, unless not apply (a
        forged event: what the reconciler finds must not change)."""
        status = status or event.split(".", 1)[1]
        t = self.set_status(reference, status,
                            "Could not credit account" if status == "failed"
                            else None, apply)
        return json.dumps({"event": event, "data": t},
                          separators=(",", ":")).encode()

    def hook(self, ngx, event, reference, gateway="paystack", body=None,
             signature=None):
        body = body if body is not None else self.event(event, reference)
        sig = self.sign(body) if signature is None else signature
        return requests.post(ngx.url("/hooks/" + gateway), data=body,
                             headers={"Content-Type": "application/json",
                                      "x-paystack-signature": sig},
                             timeout=10)


# -- Stripe ------------------------------------------------------------------

class Stripe(StandIn):
    """Stripe's API as this gateway uses it: external accounts, payouts
    (on a connected account, Stripe-Account), transfers, cancel."""

    name = "stripe"

    def __init__(self, key=STRIPE_KEY, whsec=STRIPE_WHSEC):
        super().__init__()
        self.key = key
        self.whsec = whsec
        self.keys = {}                  # (Idempotency-Key) -> (path, answer)
        self.objects = {}               # po_/tr_/ba_ id -> object
        self.executions = {}            # payout uuid -> count

    def executed(self, payout_uuid):
        with self.lock:
            return self.executions.get(payout_uuid, 0)

    @staticmethod
    def error(status, message, code=None, type_="invalid_request_error"):
        err = {"type": type_, "message": message}
        if code:
            err["code"] = code
        return status, {"error": err}

    def handle(self, call):
        if call.headers.get("authorization") != "Bearer " + self.key:
            return self.error(401, "Invalid API Key provided")
        key = call.headers.get("idempotency-key")
        if call.method == "POST" and key:
            with self.lock:
                if key in self.keys:
                    self.redrop(key)
                    path, answer = self.keys[key]
                    if answer is None:
                        return self.error(409, "A request with this key "
                                          "is in progress",
                                          type_="idempotency_error")
                    if path != call.path:
                        return self.error(400, "Keys for idempotent "
                                          "requests can only be used with "
                                          "the same parameters",
                                          type_="idempotency_error")
                    return answer
                self.keys[key] = (call.path, None)
        answer = self.route(call)
        outcome = answer[2] if len(answer) > 2 else None
        answer = answer[:2]
        if call.method == "POST" and key:
            with self.lock:
                if answer[0] < 500:
                    self.keys[key] = (call.path, answer)
                else:
                    del self.keys[key]
        self.after_execute(outcome, key)
        return answer

    def route(self, call):
        p, m = call.path, call.method
        acct = call.headers.get("stripe-account")
        if m == "POST" and p.startswith("/v1/accounts/") \
                and p.endswith("/external_accounts"):
            return self.enroll(p.split("/")[3], call.form)
        if m == "POST" and p == "/v1/payouts":
            return self.move("payout", acct, call.form)
        if m == "POST" and p == "/v1/transfers":
            return self.move("transfer", acct, call.form)
        if m == "POST" and p.startswith("/v1/payouts/") \
                and p.endswith("/cancel"):
            return self.cancel(p.split("/")[3], acct)
        if m == "GET" and (p.startswith("/v1/payouts/")
                           or p.startswith("/v1/transfers/")):
            with self.lock:
                o = self.objects.get(p.split("/")[3])
                if o is None or o.get("_account") != acct:
                    return self.error(404, "No such object",
                                      "resource_missing")
                return 200, self.public(o)
        return self.error(404, "Unrecognized request URL")

    @staticmethod
    def public(o):
        return {k: v for k, v in o.items() if not k.startswith("_")}

    def enroll(self, acct, form):
        number = form.get("external_account[account_number]")
        with self.lock:
            if self.outcome.get(number) == "reject_enroll":
                return self.error(400, "Invalid account number",
                                  "account_number_invalid")
            ba = {"id": new_id("ba_"), "object": "bank_account",
                  "account": acct, "_account": acct,
                  "country": form.get("external_account[country]"),
                  "currency": form.get("external_account[currency]"),
                  "last4": number[-4:], "_number": number,
                  "account_holder_name":
                      form.get("external_account[account_holder_name]"),
                  "routing_number":
                      form.get("external_account[routing_number]"),
                  "status": "new", "metadata": {}}
            self.objects[ba["id"]] = ba
            return 200, self.public(ba)

    def move(self, kind, acct, form):
        u = form.get("metadata[payout_uuid]")
        with self.lock:
            if kind == "payout":
                ba = self.objects.get(form.get("destination"))
                if ba is None or ba["_account"] != acct:
                    return self.error(400, "No such external account",
                                      "resource_missing")
                destination = ba["_number"]
            else:
                if acct is not None:
                    return self.error(400, "transfer on a connected account")
                destination = form.get("destination")
            outcome = self.pick(destination)
            if outcome == "auth":
                return self.error(401, "Invalid API Key provided")
            if outcome == "error":
                return self.error(500, "An unknown error occurred",
                                  type_="api_error")
            if outcome == "reject":
                return self.error(400, "You have insufficient funds in "
                                  "your Stripe account.",
                                  "balance_insufficient")
            o = {"id": new_id("po_" if kind == "payout" else "tr_"),
                 "object": kind, "amount": int(form["amount"]),
                 "currency": form["currency"],
                 "destination": form.get("destination"),
                 "description": form.get("description"),
                 "metadata": {"payout_uuid": u}, "_account": acct,
                 "livemode": False}
            if kind == "payout":
                o.update(status="pending", failure_code=None,
                         failure_message=None, reversed_by=None,
                         method="standard", type="bank_account")
            else:
                o.update(reversed=False, amount_reversed=0,
                         transfer_group=form.get("transfer_group"))
            self.objects[o["id"]] = o
            self.executions[u] = self.executions.get(u, 0) + 1
            return 200, self.public(o), outcome

    def cancel(self, po, acct):
        with self.lock:
            o = self.objects.get(po)
            if o is None or o["_account"] != acct:
                return self.error(404, "No such payout", "resource_missing")
            if o["status"] != "pending":
                return self.error(400, "Payouts can only be canceled while "
                                  "pending", "payout_not_cancelable")
            o["status"] = "canceled"
            return 200, self.public(o)

    def find(self, payout_uuid):
        """The payout or transfer made for our payout uuid."""
        with self.lock:
            for o in self.objects.values():
                if o.get("metadata", {}).get("payout_uuid") == payout_uuid:
                    return dict(o)
        return None

    def set(self, object_id, apply=True, **fields):
        """The object with fields; stored too when apply."""
        with self.lock:
            o = self.objects[object_id]
            if not apply:
                o = dict(o)
            o.update(fields)
            return self.public(o)

    def sign(self, body, t=None, secret=None):
        t = int(time.time()) if t is None else int(t)
        mac = hmac.new((secret or self.whsec).encode(),
                       ("%d." % t).encode() + body,
                       hashlib.sha256).hexdigest()
        return "t=%d,v1=%s" % (t, mac)

    def event(self, event_type, object_id, apply=True, **fields):
        """A webhook body (bytes): the object as it is after fields
        (stored unless not apply, as for set())."""
        o = self.set(object_id, apply, **fields)
        account = self.objects[object_id]["_account"]
        ev = {"id": new_id("evt_"), "object": "event", "type": event_type,
              "api_version": "2023-09-12", "created": int(time.time()),
              "livemode": False, "data": {"object": o}}
        if account:
            ev["account"] = account
        return json.dumps(ev, separators=(",", ":")).encode()

    def hook(self, ngx, event_type, object_id, gateway="stripe", body=None,
             signature=None, **fields):
        if body is None:
            body = self.event(event_type, object_id, **fields)
        sig = self.sign(body) if signature is None else signature
        return requests.post(ngx.url("/hooks/" + gateway), data=body,
                             headers={"Content-Type": "application/json",
                                      "Stripe-Signature": sig},
                             timeout=10)


# -- Mollie ------------------------------------------------------------------

class Mollie(StandIn):
    """Mollie's Payouts API (/v2/payouts, seed 002): a payout of a balance
    to the bank account configured on it; hal+json answers, decimal-string
    amounts, Idempotency-Key, DELETE while requested; next-gen webhooks
    (X-Mollie-Signature: sha256=<hex HMAC-SHA256 of the raw body>)."""

    name = "mollie"
    content_type = "application/hal+json"
    REFUSALS = {
        "reject": "The balance has insufficient funds.",
        "scheduled": "A payout is already scheduled for the next business "
                     "day for this balance.",
        "inactive": "The balance is not active.",
    }

    def __init__(self, key=MOLLIE_KEY, whsec=MOLLIE_WHSEC):
        super().__init__()
        self.key = key
        self.whsec = whsec
        self.keys = {}                  # Idempotency-Key -> answer
        self.payouts = {}               # payout_ id -> payout
        self.executions = {}            # Idempotency-Key -> count

    def executed(self, payout_uuid):
        with self.lock:
            return self.executions.get(payout_uuid, 0)

    @staticmethod
    def error(status, detail, field=None):
        titles = {400: "Bad Request", 401: "Unauthorized",
                  404: "Not Found", 409: "Conflict",
                  422: "Unprocessable Entity", 500: "Internal Server Error"}
        out = {"status": status, "title": titles.get(status, "Error"),
               "detail": detail,
               "_links": {"documentation": {
                   "href": "https://docs.mollie.com/errors",
                   "type": "text/html"}}}
        if field:
            out["field"] = field
        return status, out

    def handle(self, call):
        if call.headers.get("authorization") != "Bearer " + self.key:
            return self.error(401, "Missing authentication, or failed to "
                              "authenticate")
        p, m = call.path.split("?")[0], call.method
        if m == "POST" and p == "/v2/payouts":
            key = call.headers.get("idempotency-key")
            with self.lock:
                if key in self.keys:
                    self.redrop(key)
                    return self.keys[key]
            answer, outcome = self.create(call.json, key)
            with self.lock:
                if key and answer[0] < 500:
                    self.keys[key] = answer
            self.after_execute(outcome, key)
            return answer
        if p.startswith("/v2/payouts/"):
            pid = p.split("/")[3]
            with self.lock:
                po = self.payouts.get(pid)
                if po is None:
                    return self.error(404, "No payout exists with token "
                                      "%s." % pid)
                if m == "GET":
                    return 200, self.public(po)
                if m == "DELETE":
                    if po["status"] != "requested":
                        return self.error(409, "The payout cannot be "
                                          "canceled in its current state.")
                    self.status(po, "canceled")
                    return 200, self.public(po)
        return self.error(404, "no route %s %s" % (m, p))

    @staticmethod
    def public(po):
        return {k: v for k, v in po.items() if k != "_key"}

    @staticmethod
    def status(po, status, reason=None):
        po["status"] = status
        po["statusReason"] = {"code": reason or status,
                              "message": "The payout is %s." % status}

    def create(self, body, key):
        balance = body.get("balanceId")
        with self.lock:
            outcome = self.pick(balance)
            if outcome == "auth":
                return self.error(401, "Missing authentication, or failed "
                                  "to authenticate"), None
            if outcome == "error":
                return self.error(500, "An unknown error occurred"), None
            if outcome in self.REFUSALS:
                return self.error(422, self.REFUSALS[outcome],
                                  "balanceId"), None
            pid = new_id("payout_")
            po = {"resource": "payout", "id": pid, "balanceId": balance,
                  "amount": body.get("amount"),
                  "description": body.get("description"),
                  "createdAt": time.strftime("%Y-%m-%dT%H:%M:%S+00:00",
                                             time.gmtime()),
                  "_key": key,
                  "_links": {"self": {
                      "href": "https://api.mollie.com/v2/payouts/" + pid,
                      "type": "application/hal+json"}}}
            self.status(po, "requested")
            self.payouts[pid] = po
            self.executions[key] = self.executions.get(key, 0) + 1
            return (201, self.public(po)), outcome

    def find(self, payout_uuid):
        """The payout made with our payout uuid as its key."""
        with self.lock:
            for po in self.payouts.values():
                if po["_key"] == payout_uuid:
                    return self.public(po)
        return None

    def set(self, payout_id, status=None, apply=True, reason=None):
        """The payout moved to status; stored too when apply."""
        with self.lock:
            po = self.payouts[payout_id]
            if not apply:
                po = json.loads(json.dumps(po))
            if status:
                self.status(po, status, reason)
            return self.public(po)

    def sign(self, body, secret=None):
        return "sha256=" + hmac.new((secret or self.whsec).encode(), body,
                                    hashlib.sha256).hexdigest()

    def event(self, event_type, payout_id, snapshot=True, apply=True,
              status=None):
        """A next-gen webhook body (bytes): the payout moved to status
        (or the event's own, payout.completed -> completed) and, when
        snapshot, embedded as it is then; otherwise the entity's id
        alone, which the module must fetch."""
        status = status or event_type.split(".", 1)[1]
        po = self.set(payout_id, status, apply)
        ev = {"resource": "event", "id": new_id("event_"),
              "type": event_type, "entityId": payout_id,
              "createdAt": time.strftime("%Y-%m-%dT%H:%M:%S+00:00",
                                         time.gmtime()),
              "_links": {"entity": po["_links"]["self"]}}
        if snapshot:
            ev["_embedded"] = {"entity": po}
        return json.dumps(ev, separators=(",", ":")).encode()

    def hook(self, ngx, event_type, payout_id, gateway="mollie", body=None,
             signature=None, **kw):
        if body is None:
            body = self.event(event_type, payout_id, **kw)
        sig = self.sign(body) if signature is None else signature
        return requests.post(ngx.url("/hooks/" + gateway), data=body,
                             headers={"Content-Type": "application/json",
                                      "X-Mollie-Signature": sig},
                             timeout=10)


# -- Adyen -------------------------------------------------------------------

class Adyen(StandIn):
    """Adyen's Balance Platform Transfers API v4 (POST /transfers, GET
    /transfers/{id}): x-api-key, Idempotency-Key kept (Adyen keeps them
    for weeks), transfer webhooks signed with HmacSignature: base64 of
    HMAC-SHA256 over the raw body with the hex-decoded key."""

    name = "adyen"

    def __init__(self, key=ADYEN_KEY, hmac_key=ADYEN_HMAC):
        super().__init__()
        self.key = key
        self.hmac_key = hmac_key
        self.keys = {}                  # Idempotency-Key -> answer
        self.transfers = {}             # transfer id -> transfer
        self.executions = {}            # reference (payout uuid) -> count

    def executed(self, payout_uuid):
        with self.lock:
            return self.executions.get(payout_uuid, 0)

    @staticmethod
    def error(status, message, code="000"):
        return status, {"type": "https://docs.adyen.com/errors/general",
                        "title": message, "status": status,
                        "detail": message, "errorCode": code}

    def handle(self, call):
        if call.headers.get("x-api-key") != self.key:
            return self.error(401, "Not authorized to access this service.",
                              "00_401")
        p, m = call.path, call.method
        if m == "POST" and p == "/transfers":
            key = call.headers.get("idempotency-key")
            with self.lock:
                if key in self.keys:
                    self.redrop(key)
                    return self.keys[key]
            answer, outcome = self.create(call.json)
            with self.lock:
                if key and answer[0] < 500:
                    self.keys[key] = answer
            self.after_execute(outcome, key)
            return answer
        if m == "GET" and p.startswith("/transfers/"):
            with self.lock:
                t = self.transfers.get(p.split("/")[2])
                if t is None:
                    return self.error(404, "Transfer not found", "30_404")
                return 200, dict(t)
        return self.error(404, "no route %s %s" % (m, p))

    @staticmethod
    def destination(body):
        ident = body["counterparty"]["bankAccount"]["accountIdentification"]
        return ident.get("iban") or ident.get("accountNumber")

    def create(self, body):
        with self.lock:
            outcome = self.pick(self.destination(body))
            if outcome == "auth":
                return self.error(401, "Not authorized to access this "
                                  "service.", "00_401"), None
            if outcome == "error":
                return self.error(500, "Internal error", "00_500"), None
            if outcome == "reject":
                return self.error(422, "Not enough balance", "30_112"), None
            t = {"id": new_id("ADY"), "amount": body["amount"],
                 "balanceAccount": {"id": body["balanceAccountId"]},
                 "category": body["category"],
                 "counterparty": body["counterparty"],
                 "description": body.get("description"),
                 "direction": "outgoing", "reason": "approved",
                 "reference": body["reference"],
                 "referenceForBeneficiary":
                     body.get("referenceForBeneficiary"),
                 "status": "authorised"}
            self.transfers[t["id"]] = t
            u = body["reference"]
            self.executions[u] = self.executions.get(u, 0) + 1
            return (202, dict(t)), outcome

    def find(self, payout_uuid):
        with self.lock:
            for t in self.transfers.values():
                if t["reference"] == payout_uuid:
                    return dict(t)
        return None

    def set(self, transfer_id, apply=True, **fields):
        with self.lock:
            t = self.transfers[transfer_id]
            if not apply:
                t = dict(t)
            t.update(fields)
            return dict(t)

    def sign(self, body, hex_key=None):
        key = bytes.fromhex(hex_key or self.hmac_key)
        return base64.b64encode(hmac.new(key, body, hashlib.sha256)
                                .digest()).decode()

    def event(self, event_type, transfer_id, apply=True, **fields):
        t = self.set(transfer_id, apply, **fields)
        t["balancePlatform"] = "YOUR_BALANCE_PLATFORM"
        ev = {"data": t, "environment": "test",
              "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+00:00",
                                         time.gmtime()),
              "type": event_type}
        return json.dumps(ev, separators=(",", ":")).encode()

    def hook(self, ngx, event_type, transfer_id, gateway="adyen", body=None,
             signature=None, **fields):
        if body is None:
            body = self.event(event_type, transfer_id, **fields)
        sig = self.sign(body) if signature is None else signature
        return requests.post(ngx.url("/hooks/" + gateway), data=body,
                             headers={"Content-Type": "application/json",
                                      "HmacSignature": sig},
                             timeout=10)


# -- PaynetEasy --------------------------------------------------------------

PNE_LOGIN = "e2e-merchant"
PNE_CONTROL = "B17F59B4-A7DC-41B4-8FF9-37D9C3A7B1B8"
PNE_ENDPOINT = "39915"

# doc.payneteasy.com /api/v4/payout: the documented lengths
PNE_LENGTHS = {"client_orderid": 128, "amount": 10, "currency": 3,
               "order_desc": 64, "purpose": 128, "server_callback_url": 128,
               "account_number": 64, "account_name": 128,
               "routing_number": 64, "phone": 32, "country": 2,
               "ipaddress": 45, "redirect_url": 1024}


def pne_encode(s):
    """RFC 3986 percent-encoding, as OAuth 1.0 (RFC 5849 3.6) wants it."""
    return urllib.parse.quote(s, safe="-._~")


def pne_form(pairs):
    """A PaynetEasy answer: name=value pairs, each value ending with a
    line feed, joined by "&" (the documented answers' shape)."""
    return "".join("%s%s=%s\n" % ("&" if i else "", k,
                                  urllib.parse.quote_plus(str(v)))
                   for i, (k, v) in enumerate(pairs)).encode()


def pne_keys():
    """A fresh RSA key pair for a test module: (private PEM, public PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


class PaynetEasy(StandIn):
    """PaynetEasy's (Payment Soft's) server-to-server payouts under
    /paynet: POST /api/v4/payout/{endpoint} signed with OAuth 1.0
    RSA-SHA256 (checked with the public key: base string, nonce, time),
    POST /api/v2/status/{endpoint} with control = SHA-1(login
    client_orderid orderid control key), answers as form-encoded lines,
    and callbacks sent as GET with control = SHA-1(status orderid
    client_orderid control key).

    Outcomes of a create (by account number or phone, or stand_in.next):
    "ok" (async-response, status processing), "validation-error" (the
    documented refusal), "drop" (executed, no answer), "drop_unseen"
    (no answer and never executed: the status then says no such order),
    "auth" (401).  set_status(ref, "approved" | "declined" | ...,
    redirect=URL) moves an order; a "silent" status request gets no
    answer (stand_in.status_outcome).  Every refusal of what the
    gateway sent is recorded in stand_in.problems (a test asserts it
    stays empty)."""

    name = "payneteasy"
    content_type = "text/html; charset=utf-8"

    def __init__(self, public_pem, login=PNE_LOGIN, control=PNE_CONTROL,
                 endpoint=PNE_ENDPOINT):
        from cryptography.hazmat.primitives import serialization
        super().__init__()
        self.public = serialization.load_pem_public_key(public_pem.encode())
        self.login = login
        self.control = control
        self.endpoint = endpoint
        self.orders = {}                # client_orderid -> order
        self.executions = {}            # client_orderid -> count
        self.nonces = set()
        self.problems = []
        self.status_outcome = []        # for the next status requests

    def reset(self):
        super().reset()
        with self.lock:
            del self.problems[:]
            del self.status_outcome[:]

    def executed(self, reference):
        with self.lock:
            return self.executions.get(reference, 0)

    def encode(self, body):
        return pne_form(body)

    def refuse(self, why, code="1"):
        with self.lock:
            self.problems.append(why)
        return 200, [("type", "validation-error"),
                     ("serial-number", new_id("sn-")),
                     ("error-message", why), ("error-code", code)]

    def handle(self, call):
        path = call.path
        base = "/paynet/api/"
        if call.method != "POST":
            return self.refuse("only POST")
        if not call.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"):
            return self.refuse("content-type must be "
                               "application/x-www-form-urlencoded")
        try:
            form = urllib.parse.parse_qsl(call.body.decode("utf-8"),
                                          keep_blank_values=True,
                                          strict_parsing=True)
        except (ValueError, UnicodeDecodeError) as e:
            return self.refuse("bad form encoding: %s" % e)
        names = [k for k, _ in form]
        if len(set(names)) != len(names):
            return self.refuse("a field twice")
        if path == base + "v4/payout/" + self.endpoint:
            return self.payout(call, form)
        if path == base + "v2/status/" + self.endpoint:
            return self.status(dict(form))
        return 404, [("type", "error"), ("error-message", "no route")]

    # -- OAuth 1.0 RSA-SHA256 (RFC 5849 3.4.1, 3.4.3) --

    def base_string(self, url, form, oauth):
        params = sorted((pne_encode(k), pne_encode(v))
                        for k, v in list(form) + list(oauth.items())
                        if k != "oauth_signature")
        norm = "&".join("%s=%s" % kv for kv in params)
        return "POST&%s&%s" % (pne_encode(url), pne_encode(norm))

    def check_oauth(self, call, form):
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        auth = call.headers.get("authorization", "")
        if not auth.startswith("OAuth "):
            return "no OAuth Authorization"
        oauth = {}
        for part in auth[6:].split(","):
            m = re.fullmatch(r'\s*([a-z_]+)="([^"]*)"\s*', part)
            if not m:
                return "a bad OAuth parameter %r" % part
            oauth[m.group(1)] = urllib.parse.unquote(m.group(2))
        want = {"oauth_consumer_key", "oauth_nonce", "oauth_signature",
                "oauth_signature_method", "oauth_timestamp",
                "oauth_version"}
        if set(oauth) != want:
            return "OAuth parameters %s" % sorted(oauth)
        if oauth["oauth_consumer_key"] != self.login:
            return "consumer key is not the login"
        if oauth["oauth_signature_method"] != "RSA-SHA256" \
                or oauth["oauth_version"] != "1.0":
            return "not RSA-SHA256 / 1.0"
        if not re.fullmatch(r"[A-Za-z0-9]{32}", oauth["oauth_nonce"]):
            return "nonce is not 32 of [A-Za-z0-9]"
        if abs(int(oauth["oauth_timestamp"]) - time.time()) > 300:
            return "timestamp is not now"
        with self.lock:
            if oauth["oauth_nonce"] in self.nonces:
                return "nonce used twice"
            self.nonces.add(oauth["oauth_nonce"])
        url = self.url + call.path
        try:
            self.public.verify(base64.b64decode(oauth["oauth_signature"]),
                               self.base_string(url, form,
                                                oauth).encode(),
                               padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return "the RSA-SHA256 signature does not verify"
        return None

    def check_fields(self, form):
        f = dict(form)
        for k, v in form:
            if k in PNE_LENGTHS and len(v) > PNE_LENGTHS[k]:
                return "%s longer than %d" % (k, PNE_LENGTHS[k])
            if k not in PNE_LENGTHS:
                return "unknown field %s" % k
        for k in ("client_orderid", "amount", "currency"):
            if not f.get(k):
                return "%s is required" % k
        if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", f["amount"]):
            return "amount is not a number in major units"
        if not re.fullmatch(r"[A-Z]{3}", f["currency"]):
            return "currency is not ISO 4217"
        if not (f.get("account_number") or f.get("phone")):
            return "no destination"
        return None

    def payout(self, call, form):
        # libcurl's own resend of a dropped request: dropped too (before
        # the nonce check, since it is the same request again)
        self.redrop(dict(form).get("client_orderid"))
        why = self.check_oauth(call, form) or self.check_fields(form)
        if why:
            if "signature" in why or "OAuth" in why or "nonce" in why:
                with self.lock:
                    self.problems.append(why)
                return 401, [("type", "error"), ("error-message", why)]
            return self.refuse(why)
        f = dict(form)
        ref = f["client_orderid"]
        with self.lock:
            order = self.orders.get(ref)
            if order is not None:
                # a client_orderid sent twice: PaynetEasy refuses it
                self.problems.append("client_orderid %s sent twice" % ref)
                return 200, [("type", "validation-error"),
                             ("error-message", "Duplicate client_orderid"),
                             ("error-code", "2")]
            outcome = self.pick(f.get("account_number") or f.get("phone"))
            if outcome == "auth":
                return 401, [("type", "error"),
                             ("error-message", "Unauthorized")]
            if outcome == "drop_unseen":
                self.drops[ref] = time.time() + REDROP
                raise _Drop()
            if outcome == "validation-error":
                return 200, [("type", "validation-error"),
                             ("serial-number", new_id("sn-")),
                             ("merchant-order-id", ref),
                             ("error-message", "Invalid account_number"),
                             ("error-code", "3")]
            order = {"orderid": str(1960000 + next(_ids)), "form": f,
                     "status": "processing", "redirect": None,
                     "error": None}
            self.orders[ref] = order
            self.executions[ref] = self.executions.get(ref, 0) + 1
            answer = [("type", "async-response"),
                      ("serial-number", new_id("sn-")),
                      ("merchant-order-id", ref),
                      ("paynet-order-id", order["orderid"])]
        self.after_execute(outcome, ref)
        return 200, answer

    def status(self, f):
        ref = f.get("client_orderid", "")
        orderid = f.get("orderid", "")
        want = hashlib.sha1((self.login + ref + orderid + self.control)
                            .encode()).hexdigest()
        if f.get("login") != self.login:
            return self.refuse("status: login")
        if not hmac.compare_digest(f.get("control", "").lower(), want):
            return self.refuse("status: control checksum")
        extra = set(f) - {"login", "client_orderid", "orderid", "control",
                          "by-request-sn"}
        if extra or len(ref) > 128:
            return self.refuse("status: fields %s" % sorted(extra))
        with self.lock:
            if self.status_outcome:
                if self.status_outcome.pop(0) == "silent":
                    raise _Drop()
            order = self.orders.get(ref)
            if order is None:
                return 200, [("type", "validation-error"),
                             ("serial-number", new_id("sn-")),
                             ("error-message",
                              "Order with client_orderid %s not found"
                              % ref),
                             ("error-code", "11")]
            if orderid and orderid != order["orderid"]:
                return self.refuse("status: orderid of another order")
            answer = [("type", "status-response"),
                      ("status", order["status"]),
                      ("amount", order["form"]["amount"]),
                      ("currency", order["form"]["currency"]),
                      ("paynet-order-id", order["orderid"]),
                      ("merchant-order-id", ref),
                      ("serial-number", new_id("sn-"))]
            if order["error"]:
                answer += [("error-message", order["error"]),
                           ("error-code", "100")]
            if order["redirect"]:
                answer.append(("redirect-to", order["redirect"]))
        return 200, answer

    def set_status(self, ref, status, redirect=None, error=None):
        with self.lock:
            o = self.orders[ref]
            o["status"], o["redirect"], o["error"] = status, redirect, error
            return dict(o)

    def callback_query(self, ref, status=None, control=None):
        """A callback's query string, as PaynetEasy sends it to
        server_callback_url (Connecting Party callback parameters)."""
        with self.lock:
            o = self.orders[ref]
            status = status or o["status"]
            orderid = o["orderid"]
            amount = o["form"]["amount"]
        if control is None:
            control = hashlib.sha1((status + orderid + ref + self.control)
                                   .encode()).hexdigest()
        return urllib.parse.urlencode([
            ("status", status), ("merchant_order", ref),
            ("client_orderid", ref), ("orderid", orderid),
            ("type", "payout"), ("amount", amount),
            ("descriptor", "e2e"), ("control", control)])

    def callback(self, ngx, ref, status=None, control=None,
                 gateway="paysoft"):
        """Calls the gateway back (GET), as to server_callback_url."""
        return requests.get(ngx.url("/hooks/%s?%s" % (
            gateway, self.callback_query(ref, status, control))),
            timeout=10)

    def status_calls(self, ref):
        return [c for c in self.got("POST", "/paynet/api/v2/status/")
                if c.form.get("client_orderid") == ref]

    def payout_calls(self, ref):
        return [c for c in self.got("POST", "/paynet/api/v4/payout/")
                if c.form.get("client_orderid") == ref]
