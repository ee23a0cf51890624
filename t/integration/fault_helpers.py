"""Helpers for the fault tests (test_faults.py): a merchant webhook
receiver that verifies Standard Webhooks signatures on its own, checks of
what it received, worker kills, a log of the sandbox provider's calls and
a database lock that holds the provider's ledger still.

Not a test module (pytest puts this directory on sys.path)."""

import base64
import collections
import contextlib
import hashlib
import hmac
import http.server
import json
import os
import re
import signal
import threading
import time
import uuid as uuidlib

import requests

from conftest import own_database

SECRET = "s3cret"                   # every payout's webhook_secret
ACCOUNT = "5550001234"              # sandbox: pending_promise, then success
NO_ANSWER = "5550000006"            # sandbox: executes, never answers

SUCCESS_PATH = ["pending_created", "pending_promise", "success"]
RECONCILED_PATH = ["pending_created", "success"]

# The sandbox provider's calls, one line each, in <prefix>/sandbox.log:
# pass SANDBOX_LOG_HTTP as http= and SANDBOX_LOG_SERVER as server=.
SANDBOX_LOG_HTTP = ("log_format sandbox_calls "
                    "'$pid $request_method $uri $status "
                    "$http_idempotency_key';")
SANDBOX_LOG_SERVER = "access_log sandbox.log sandbox_calls;"


# -- polling ---------------------------------------------------------------

def wait_for(fn, timeout, what="condition", interval=0.05):
    """fn() until it returns something truthy; that value, or fail."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s"
                                 % (timeout, what))
        time.sleep(interval)


# -- Standard Webhooks, verified independently of the module ---------------

def signature(secret, msg_id, timestamp, body):
    key = secret.encode() if isinstance(secret, str) else secret
    mac = hmac.new(key, ("%s.%s." % (msg_id, timestamp)).encode() + body,
                   hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signature_ok(secret, headers, body):
    msg_id = headers.get("webhook-id")
    ts = headers.get("webhook-timestamp")
    sigs = (headers.get("webhook-signature") or "").split()
    if not msg_id or not ts or not sigs:
        return False
    want = signature(secret, msg_id, ts, body)
    return any(hmac.compare_digest(want, s) for s in sigs)


# -- the merchant's receiver -----------------------------------------------

class Receiver:
    """A threaded HTTP server on a loopback port recording every webhook
    request: headers, raw body, the answer given and whether its
    signature verifies with SECRET.

    answer(rec, tries) -> status, or (status, seconds to sleep first);
    tries is how many earlier requests carried the same webhook-id.
    The port can be chosen before the server runs (start() later), so
    deliveries first meet a closed port."""

    def __init__(self, port=None, answer=None, secret=SECRET):
        self.port = port
        self.answer = answer or (lambda rec, tries: 200)
        self.secret = secret
        self.records = []
        self.tries = collections.Counter()      # webhook-id -> requests
        self.inflight = 0
        self.cond = threading.Condition()
        self.server = None
        self.thread = None

    @property
    def url(self):
        assert self.port, "no port yet"
        return "http://127.0.0.1:%d/merchant/hook" % self.port

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                receiver._handle(self)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", self.port or 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def _handle(self, h):
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in h.headers.items()}
        try:
            event = json.loads(body)
        except ValueError:
            event = None
        rec = dict(id=headers.get("webhook-id"),
                   ts=headers.get("webhook-timestamp"),
                   headers=headers, body=body, event=event,
                   uuid=(event or {}).get("uuid"),
                   sub_status=(event or {}).get("sub_status"),
                   sig_ok=signature_ok(self.secret, headers, body),
                   path=h.path, arrived=time.time(), status=None,
                   answered=False)
        with self.cond:
            # counted, not searched: the soak keeps tens of thousands
            tries = self.tries[rec["id"]]
            self.tries[rec["id"]] += 1
            self.records.append(rec)
            self.inflight += 1
            self.cond.notify_all()
        try:
            out = self.answer(rec, tries)
            status, delay = out if isinstance(out, tuple) else (out, 0)
            if delay:
                time.sleep(delay)
            rec["status"] = status
            h.send_response(status)
            h.send_header("Content-Type", "text/plain")
            h.send_header("Content-Length", "2")
            h.end_headers()
            h.wfile.write(b"ok")
            h.wfile.flush()
            rec["answered"] = True
        except OSError:
            pass                    # the sender gave up first
        finally:
            with self.cond:
                self.inflight -= 1
                self.cond.notify_all()

    # what arrived --

    def all(self, uuid=None):
        with self.cond:
            return [r for r in self.records
                    if uuid is None or r["uuid"] == uuid]

    def accepted(self, uuid=None):
        """Requests answered 2xx, in arrival order."""
        return [r for r in self.all(uuid)
                if r["answered"] and 200 <= r["status"] < 300]

    def uuids(self):
        seen = []
        for r in self.all():
            if r["uuid"] and r["uuid"] not in seen:
                seen.append(r["uuid"])
        return seen

    def accepted_statuses(self, uuid):
        """Distinct events accepted for uuid, by sub_status, in order."""
        out = []
        for r in self.accepted(uuid):
            if not out or out[-1] != r["sub_status"]:
                out.append(r["sub_status"])
        return out

    def wait_complete(self, expect, timeout):
        """expect: {uuid: [sub_status, ...]}; wait until each payout's
        last expected event has been accepted."""
        def done():
            return all(set(path) <= set(self.accepted_statuses(u))
                       for u, path in expect.items())
        try:
            wait_for(done, timeout, "every webhook to be accepted")
        except AssertionError:
            raise AssertionError("webhooks missing after %.0fs: %r" % (
                timeout, {u: self.accepted_statuses(u) for u in expect}))


def assert_deliveries(rx, expect, exactly_once=False):
    """Every event arrived, in order per payout, signed; repeats only of
    one event (same webhook-id, same body). Returns {uuid: [ids]}."""
    ids = {}
    for u, path in expect.items():
        recs = rx.all(u)
        assert recs, "nothing at all arrived for %s" % u
        for r in recs:
            assert r["sig_ok"], "bad signature: %r" % (r["headers"],)
            assert r["path"] == "/merchant/hook"
            assert r["headers"].get("content-type") == "application/json"
            assert r["headers"].get("orchestrapay-webhook-secret") == SECRET
            assert abs(int(r["ts"]) - r["arrived"]) < 30, r["ts"]
            ev = r["event"]
            assert ev["webhook_type"] == "payout"
            assert ev["event_id"] == r["id"], (ev, r["id"])
            assert ev["event_type"] == "payout." + ev["sub_status"]

        # one webhook-id per event; a repeat carries the same body
        by_id = {}
        for r in recs:
            first = by_id.setdefault(r["id"], r)
            assert first["body"] == r["body"], \
                "webhook-id %s with two bodies" % r["id"]
        per_status = {}
        for i, r in by_id.items():
            assert r["sub_status"] not in per_status, \
                "two events for %s of %s: %s and %s" % (
                    r["sub_status"], u, per_status[r["sub_status"]], i)
            per_status[r["sub_status"]] = i

        # accepted in order; a delivery only ever repeats before the next
        # event of its payout is sent
        order = {s: n for n, s in enumerate(path)}
        acc = rx.accepted(u)
        seq = [order.get(r["sub_status"], -1) for r in acc]
        assert -1 not in seq, "unexpected events for %s: %r" % (
            u, [r["sub_status"] for r in acc])
        assert seq == sorted(seq), "out of order for %s: %r" % (
            u, [r["sub_status"] for r in acc])
        assert rx.accepted_statuses(u) == path, (u, rx.accepted_statuses(u))
        tried = [order.get(r["sub_status"]) for r in recs]
        assert tried == sorted(tried), \
            "a later event was sent before an earlier one was accepted: %r" \
            % ([(r["sub_status"], r["status"]) for r in recs],)
        if exactly_once:
            assert len(recs) == len(path), \
                "delivered more than once for %s: %r" % (
                    u, [(r["sub_status"], r["id"], r["status"])
                        for r in recs])
        ids[u] = [per_status[s] for s in path]
    return ids


# -- the API ---------------------------------------------------------------

def payout_body(rx_url, account=ACCOUNT, **kw):
    body = {"amount": 1500, "currency": "NGN", "gateway": "sandbox",
            "bank_account_number": account,
            "bank_account_name": "ADA OBI", "bank_code": "058",
            "idempotency_key": "fault-" + uuidlib.uuid4().hex,
            "webhook_urls": [rx_url], "webhook_secret": SECRET}
    body.update(kw)
    return body


def create(ngx, headers, body, timeout=15):
    r = requests.post(ngx.url("/v1/payouts"), json=body, headers=headers,
                      timeout=timeout)
    assert r.status_code == 201, r.text
    return r.json()


def get_payout(ngx, headers, uuid):
    r = requests.get(ngx.url("/v1/payouts/" + uuid), headers=headers,
                     timeout=5)
    assert r.status_code == 200, r.text
    return r.json()


def wait_sub_status(ngx, headers, uuid, sub_status, timeout):
    seen = []

    def check():
        p = get_payout(ngx, headers, uuid)
        if not seen or seen[-1] != p["sub_status"]:
            seen.append(p["sub_status"])
        return p["sub_status"] == sub_status and p
    try:
        return wait_for(check, timeout, "%s to be %s" % (uuid, sub_status),
                        0.1)
    except AssertionError:
        raise AssertionError("payout %s never reached %s in %.0fs; seen %r"
                             % (uuid, sub_status, timeout, seen))


def deliveries(ngx, headers, uuid):
    r = requests.get(ngx.url("/v1/payouts/%s/webhooks" % uuid),
                     headers=headers, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def assert_all_delivered(ngx, headers, uuid, count, timeout=10.0):
    # a worker records an attempt after the receiver has answered it, so
    # the receiver's count can be complete a moment before the records
    deadline = time.time() + timeout
    while True:
        ds = deliveries(ngx, headers, uuid)
        if (len(ds) == count
                and all(d["state"] == "delivered" for d in ds)) \
                or time.time() > deadline:
            break
        time.sleep(0.1)
    assert len(ds) == count, ds
    for d in ds:
        assert d["state"] == "delivered", d
    return ds


def ledger(ngx, reference):
    r = requests.get(ngx.url("/sandbox/ledger"),
                     params={"reference": reference}, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()["transfers"]


def history(pg, uuid):
    """[(to_sub_status, source), ...] oldest first."""
    return pg.sql("SELECT e.to_sub_status, e.source FROM payout_events e "
                  "JOIN payouts p ON p.id = e.payout_id WHERE p.uuid = %s "
                  "ORDER BY e.id", (uuid,))


# -- the sandbox provider's call log ---------------------------------------

def sandbox_calls(ngx):
    """[(pid, method, uri, status, idempotency key), ...]"""
    path = os.path.join(ngx.dir, "sandbox.log")
    if not os.path.exists(path):
        return []
    out = []
    with open(path) as f:
        for line in f:
            pid, method, uri, status, key = line.split()
            if uri.startswith("/sandbox/"):
                out.append((int(pid), method, uri, int(status), key))
    return out


def initiations(calls, reference, ok_only=True):
    """POST /sandbox/transfers for reference (answered 200/201)."""
    return [c for c in calls
            if c[1] == "POST" and c[2] == "/sandbox/transfers"
            and c[4] == reference and (not ok_only or c[3] in (200, 201))]


# -- workers ----------------------------------------------------------------

def kill_workers(ngx, workers):
    """kill -9 every worker; wait for the master to start new ones."""
    old = set(ngx.pids())
    assert len(old) == workers, old
    # freeze them all first: a worker killed a moment after another must
    # not react to its death (e.g. answer a client) in between
    for pid in old:
        os.kill(pid, signal.SIGSTOP)
    for pid in old:
        os.kill(pid, signal.SIGKILL)

    def respawned():
        pids = set(ngx.pids())
        return len(pids) == workers and not (pids & old) and pids
    wait_for(respawned, 10, "new workers after kill -9")
    return old


def wait_reloaded(ngx, old, workers, timeout=15):
    def done():
        pids = set(ngx.pids())
        return len(pids) == workers and not (pids & old)
    wait_for(done, timeout, "old workers to exit after a reload")


KILLED = re.compile(r"\[alert\] \d+#\d+: (?:worker process (\d+) exited "
                    r"on signal 9|shared memory zone \"[^\"]*\" was locked "
                    r"by (\d+))")


def stop_forgiving_kills(ngx, killed):
    """Stop nginx, then drop the alerts a kill -9 of those workers makes
    (and only those) from its error log, so the harness's check on
    teardown sees everything else."""
    ngx.stop()
    if not os.path.exists(ngx.error_log):
        return []
    with open(ngx.error_log, errors="replace") as f:
        lines = f.readlines()
    keep, dropped = [], []
    for line in lines:
        m = KILLED.search(line)
        if m and int(m.group(1) or m.group(2)) in killed:
            dropped.append(line)
        else:
            keep.append(line)
    with open(ngx.error_log, "w") as f:
        f.writelines(keep)
    return dropped


def error_log(ngx):
    with open(ngx.error_log, errors="replace") as f:
        return f.read()


# -- the database -----------------------------------------------------------

class LedgerLock:
    """ACCESS EXCLUSIVE on the sandbox's ledger: the provider cannot
    record (or look up) a transfer while it is held.  terminate_inserts()
    ends the backends stuck inserting, so those transfers never happen:
    the provider never saw them."""

    def __init__(self, pg):
        self.pg = pg
        self.conn = pg.connect(autocommit=False)
        self.cur = self.conn.cursor()
        self.cur.execute("LOCK TABLE sandbox_transfers "
                         "IN ACCESS EXCLUSIVE MODE")
        self.holder = self.conn.get_backend_pid()

    def stuck_inserts(self):
        return [pid for (pid,) in self.pg.sql(
            "SELECT pid FROM pg_stat_activity "
            "WHERE %s = ANY(pg_blocking_pids(pid)) "
            "AND query LIKE '%%sandbox_transfer_create%%'", (self.holder,))]

    def terminate_inserts(self):
        pids = self.stuck_inserts()
        for pid in pids:
            self.pg.sql("SELECT pg_terminate_backend(%s)", (pid,))
        wait_for(lambda: not (set(self.stuck_inserts()) & set(pids)), 5,
                 "stuck inserts to end")
        return pids

    def transfers(self, reference):
        """The ledger as the lock holder sees it (nothing waits)."""
        self.cur.execute("SELECT status FROM sandbox_transfers "
                         "WHERE reference = %s", (reference,))
        return [s for (s,) in self.cur.fetchall()]

    def release(self):
        if self.conn is not None:
            self.conn.rollback()
            self.conn.close()
            self.conn = None


@contextlib.contextmanager
def ledger_locked(pg):
    lock = LedgerLock(pg)
    try:
        yield lock
    finally:
        lock.release()
