"""A small threaded HTTP receiver for the merchant-webhook tests.

Not a test module: test_webhooks.py and test_reconciler.py import it,
with the helpers and fixtures below it that check what a merchant gets.

A Receiver listens on a free loopback port (IPv4 or IPv6) and records
every request it gets: arrival time, method, path, headers (lower-cased
names) and the raw body.  Each receiver hands out URLs under a random
path prefix, so a retry still queued in the shared database for an
earlier test's receiver (whose port a later test may get again) is never
mistaken for a request of this test: only requests under the prefix
count.

How it answers is scriptable:
  rc.script(500, 500)              the next two requests get 500, then 200
  rc.script((503, {"Retry-After": "3"}))
  rc.respond = lambda req: ...     a (status[, headers]) per request, or
                                   None for the default
  rc.stop() / rc.start()           close / reopen the same port
"""

import base64
import datetime
import hashlib
import hmac
import json
import secrets
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from payout_helpers import wait_for


class Request:
    def __init__(self, method, path, headers, body):
        self.at = time.time()
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def webhook_id(self):
        return self.headers.get("webhook-id")

    @property
    def event_type(self):
        return self.json.get("event_type")

    @property
    def uuid(self):
        return self.json.get("uuid")

    def __repr__(self):
        try:
            what = "%s %s" % (self.event_type, self.uuid)
        except ValueError:
            what = repr(self.body[:60])
        return "<%s %s %s>" % (self.method, self.path, what)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # nginx hung up first (its timeout, a killed worker): not a fault
        # of the stand-in, and no traceback in the test output
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Server6(_Server):
    address_family = socket.AF_INET6


class Recorder:
    """A threaded loopback HTTP server that records what it gets in
    self.requests (also prism.py's RecordingProxy)."""

    def __init__(self):
        self.requests = []
        self._cond = threading.Condition()
        self._server = None
        self._thread = None

    def serve(self, handler, host, port):
        cls = _Server6 if ":" in host else _Server
        self._server = cls((host, port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self._server.server_address[1]

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None

    def wait(self, pred, timeout=10.0, what="requests"):
        """Waits until pred(list of requests) is truthy; returns it."""
        deadline = time.time() + timeout
        with self._cond:
            while True:
                got = pred(list(self.requests))
                if got:
                    return got
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError("timed out waiting for %s; got %r"
                                         % (what, self.requests))
                self._cond.wait(min(left, 0.1))


class Receiver(Recorder):
    def __init__(self, host="127.0.0.1", port=None):
        super().__init__()
        self.host = host
        self.prefix = "/wh-" + secrets.token_hex(6)
        self.strays = []            # requests outside our prefix
        self.respond = None
        self._script = []
        self.port = port or self._free_port()

    def _free_port(self):
        fam = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.socket(fam) as s:
            s.bind((self.host, 0))
            return s.getsockname()[1]

    # -- lifecycle --

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                req = Request(self.command, self.path,
                              {k.lower(): v for k, v in self.headers.items()},
                              body)
                req.peer = self.client_address      # (host, port)
                status, headers = receiver._record(req)
                out = b'{"ok":true}' if status < 300 else b"{}"
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_POST = do_GET = do_PUT = _handle

        self.serve(Handler, self.host, self.port)
        return self

    # -- answers --

    def script(self, *answers):
        """Answers for the next requests, in order: a status or a
        (status, headers) pair.  Afterwards: 200."""
        with self._cond:
            self._script.extend(answers)

    def _record(self, req):
        with self._cond:
            if not req.path.startswith(self.prefix):
                self.strays.append(req)
                self._cond.notify_all()
                return 404, None
            self.requests.append(req)
            answer = None
            if self.respond is not None:
                answer = self.respond(req)
            if answer is None and self._script:
                answer = self._script.pop(0)
            self._cond.notify_all()
        if answer is None:
            return 200, None
        if isinstance(answer, int):
            return answer, None
        return answer[0], (answer[1] if len(answer) > 1 else None)

    # -- what arrived --

    def url(self, name=""):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "http://%s:%d%s/%s" % (host, self.port, self.prefix, name)

    def got(self, uuid=None, path=None):
        with self._cond:
            reqs = list(self.requests)
        out = []
        for r in reqs:
            if path is not None and r.path != path:
                continue
            if uuid is not None:
                try:
                    if r.uuid != uuid:
                        continue
                except ValueError:
                    continue
            out.append(r)
        return out

    def wait_events(self, uuid, n, timeout=10.0, path=None):
        """Waits for n requests about payout uuid; returns them."""
        return self.wait(lambda _r: (lambda g: g if len(g) >= n else None)(
            self.got(uuid, path)), timeout,
            "%d webhooks of payout %s" % (n, uuid))


# -- Standard Webhooks, verified independently of the module --

def webhook_key(secret):
    """The HMAC key: base64 after "whsec_", else the secret's bytes."""
    if secret.startswith("whsec_"):
        return base64.b64decode(secret[len("whsec_"):], validate=True)
    return secret.encode()


def expected_signature(secret, msg_id, timestamp, body):
    mac = hmac.new(webhook_key(secret),
                   ("%s.%s." % (msg_id, timestamp)).encode() + body,
                   hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signatures(req):
    """The "v1,..." entries of webhook-signature, in order."""
    value = req.headers.get("webhook-signature")
    assert value, "no webhook-signature header: %r" % (req.headers,)
    sigs = value.split(" ")
    for s in sigs:
        assert s.startswith("v1,"), value
    return sigs


def verify(req, secret):
    """True when one of the request's signatures is secret's."""
    want = expected_signature(secret, req.headers["webhook-id"],
                              req.headers["webhook-timestamp"], req.body)
    return any(hmac.compare_digest(want, s) for s in signatures(req))


# -- what a merchant gets, checked the same way in every test --

SECRET = "your-webhook-secret"

PAYLOAD_KEYS = {"webhook_type", "event_type", "event_id", "uuid", "status",
                "sub_status", "amount", "currency", "gateway",
                "gateway_payout_id", "recipient_uuid", "idempotency_key",
                "metadata", "failure_reason", "livemode", "timestamp"}

# a webhook follows its status change at once (a NOTIFY wakes the
# deliverer), not at the next 1 s poll
PROMPT = 0.5


@pytest.fixture(autouse=True)
def quiet_outbox(pg):
    """Tests share one database: deliveries an earlier test left queued
    (to receivers long gone) must not compete with this test's, and this
    test's leftovers must not bother later ones."""
    park(pg)
    yield
    park(pg)


def park(pg):
    pg.sql("UPDATE webhook_deliveries SET state = 'dead', lease_until = NULL"
           " WHERE state = 'pending'")


@pytest.fixture
def receivers():
    started = []

    def make(host="127.0.0.1"):
        rc = Receiver(host).start()
        started.append(rc)
        return rc

    yield make
    for rc in started:
        rc.stop()


@pytest.fixture
def rc(receivers):
    return receivers()


def hooked(body, rc, name="", secret=SECRET, **kw):
    """body with the receiver as its webhook URL (and the seed secret)."""
    body = dict(body, webhook_urls=[rc.url(name)], **kw)
    if secret is not None:
        body["webhook_secret"] = secret
    return body


def deliveries(http, ngx, tenant, u):
    r = http.get(ngx.url("/v1/payouts/%s/webhooks" % u),
                 headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert set(body) == {"data"}, body
    return body["data"]


def wait_deliveries(http, ngx, tenant, u, pred, timeout=10.0, what=None):
    return wait_for(lambda: (lambda d: d if pred(d) else None)(
        deliveries(http, ngx, tenant, u)), timeout,
        what=what or "deliveries of %s" % u)


def settled(ds):
    return ds and all(d["state"] != "pending" for d in ds)


def history_times(pg, u):
    """[(to_sub_status, epoch seconds)] of the payout's history."""
    return [(to, float(t)) for to, t in pg.sql(
        "SELECT e.to_sub_status, extract(epoch FROM e.created_at) "
        "FROM payout_events e JOIN payouts p ON p.id = e.payout_id "
        "WHERE p.uuid = %s ORDER BY e.id", (u,))]


def check_webhook(req, u, secret=SECRET, plain=True):
    """One request as SPEC §7 describes it; returns its JSON body."""
    assert req.method == "POST"
    h = req.headers
    assert h.get("content-type") == "application/json", h
    body = req.json
    assert PAYLOAD_KEYS <= set(body), sorted(body)
    assert body["webhook_type"] == "payout"
    assert body["uuid"] == u
    assert body["event_type"] == "payout." + body["sub_status"]
    assert body["status"] == body["sub_status"].split("_")[0]
    assert body["event_id"] == h["webhook-id"], (body, h)
    assert h["webhook-id"].startswith("msg_"), h
    assert body["gateway"] == "sandbox"
    assert body["livemode"] is False
    datetime.datetime.strptime(body["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")

    ts = int(h["webhook-timestamp"])
    assert abs(ts - req.at) <= 5, (ts, req.at)

    if secret is None:
        assert "webhook-signature" not in h, h
        assert "orchestrapay-webhook-secret" not in h, h
        return body

    sigs = signatures(req)
    assert len(sigs) == 1, sigs
    assert verify(req, secret), (h, req.body)
    # and nothing else verifies: the signature covers id, time and body
    assert sigs[0] != expected_signature(secret, h["webhook-id"], ts + 1,
                                         req.body)
    if plain:
        assert h.get("orchestrapay-webhook-secret") == secret, h
    else:
        assert "orchestrapay-webhook-secret" not in h, h
    return body


def chain(reqs):
    return [r.json["sub_status"] for r in reqs]
