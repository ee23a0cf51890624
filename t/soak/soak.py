#!/usr/bin/python3
"""make soak: creates payouts through the sandbox gateway at 32
connections for SOAK_SECONDS while nginx workers are killed with
kill -9, nginx is reloaded and PostgreSQL is restarted; then lets the
system settle and checks what must hold (docs/reliability.md):

  1. every acknowledged payout exists exactly once, under its key, as
     the client asked for it;
  2. the sandbox ledger holds at most one transfer per payout, and it
     agrees with the payout;
  3. every payout is final, in the state its account number chooses,
     or pending for a stated reason (staged, or an account that stays
     in flight);
  4. the merchant's receiver got every event exactly once after
     de-duplication by webhook-id, signed, in order per payout, and
     nothing that was never emitted;
  5. nginx logged no [alert], [crit] or sanitizer report but the
     "exited on signal 9" alerts of the workers the soak killed.

Prints the figures and exits 1 on any violation.  Reuses the
integration harness (t/integration: conftest.py, fault_helpers.py).

Environment: SOAK_SECONDS (load duration, default 180),
SOAK_CONNECTIONS (32), SOAK_FAULT_EVERY (seconds between faults, 6),
SOAK_SETTLE (longest settle, seconds, 150), SOAK_SEED (random),
PAYOUT_TEST_ASAN=1 (the AddressSanitizer build).
"""

import collections
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid as uuidlib

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

from conftest import Nginx, own_database                    # noqa: E402
from fault_helpers import (                                 # noqa: E402
    SANDBOX_LOG_HTTP, SANDBOX_LOG_SERVER, SECRET, Receiver, kill_workers,
    sandbox_calls, stop_forgiving_kills, wait_for, wait_reloaded)
from payout_helpers import ALLOWED, FINAL                   # noqa: E402

SECONDS = int(os.environ.get("SOAK_SECONDS", "180"))
CONNECTIONS = int(os.environ.get("SOAK_CONNECTIONS", "32"))
FAULT_EVERY = float(os.environ.get("SOAK_FAULT_EVERY", "6"))
SETTLE = int(os.environ.get("SOAK_SETTLE", "150"))
SEED = int(os.environ.get("SOAK_SEED", str(random.randrange(1 << 30))))

WORKERS = 2
MAX_TRIES = 40                  # per create: bounded retries
RETRY_WINDOW = 60               # seconds after the load a retry may start
CLIENT_TIMEOUT = (3.05, 20)     # connect, read

STAYS = "account 0007: the sandbox keeps it in flight"
STAGED = "staged: never sent, as asked"

# outcome: weight, account suffix (None: an ordinary one), stage, then
# what the client does once the create is acknowledged (POST
# /v1/payouts/{uuid}/<action>), the sub_status it must end in and why it
# may stay pending there
Outcome = collections.namedtuple("Outcome",
                                 "weight suffix stage action end why")
OUTCOMES = {
    "success":      Outcome(32, None, False, None, "success", None),
    "invalid":      Outcome(7, "0002", False, None, "canceled_rejected",
                            None),
    "insufficient": Outcome(7, "0003", False, None, "canceled_rejected",
                            None),
    "fail_later":   Outcome(10, "0004", False, None, "canceled_failure",
                            None),
    "reversed":     Outcome(10, "0005", False, None, "canceled_reversed",
                            None),
    "no_answer":    Outcome(10, "0006", False, None, "success", None),
    "stay_pending": Outcome(4, "0007", False, None, "pending_promise",
                            STAYS),
    "staged":       Outcome(5, None, True, None, "pending_staged", STAGED),
    "staged_sent":  Outcome(5, None, True, "transfer", "success", None),
    "canceled":     Outcome(5, "0007", False, "cancel", "canceled_voided",
                            None),
}
# where a payout stays when its action was never acknowledged
BEFORE = {"transfer": ("pending_staged",
                       "staged; its transfer was never acknowledged"),
          "cancel": ("pending_promise",
                     STAYS + "; its cancel was never acknowledged")}
SPECIAL = {"0002", "0003", "0004", "0005", "0006", "0007"}
LEDGER_STATUS = {"success": "succeeded", "canceled_failure": "failed",
                 "canceled_reversed": "reversed",
                 "canceled_rejected": "rejected",
                 "canceled_voided": "canceled",
                 "pending_promise": "pending"}


class Soak:
    def __init__(self):
        self.lock = threading.Lock()
        self.count = collections.Counter()      # request figures
        self.codes = collections.Counter()      # "create 201": answers
        self.faults = collections.Counter()
        self.violations = collections.defaultdict(list)
        self.sent = {}                          # key -> Create
        self.killed = set()
        self.rng = random.Random(SEED)

    def bump(self, name, n=1):
        with self.lock:
            self.count[name] += n

    def violation(self, kind, detail):
        with self.lock:
            self.violations[kind].append(detail)


class Create:
    """One payout a client wants: its body, key and what it was told."""

    def __init__(self, outcome, body):
        self.outcome = outcome
        self.body = body
        self.key = body["idempotency_key"]
        self.tries = 0
        self.uuid = None                # set when acknowledged
        o = OUTCOMES[outcome]
        self.expect = {o.end: o.why}    # sub_status -> why it may stay
        if o.action:
            # until the action is acknowledged
            self.expect.update([BEFORE[o.action]])

    def acted(self):
        """The action was acknowledged: only the end state will do."""
        o = OUTCOMES[self.outcome]
        self.expect = {o.end: o.why}


# -- the clients -----------------------------------------------------------

def make_body(rng, run, n, rx_url):
    names = list(OUTCOMES)
    outcome = rng.choices(names, [OUTCOMES[o][0] for o in names])[0]
    suffix, stage = OUTCOMES[outcome].suffix, OUTCOMES[outcome].stage
    if suffix is None:
        suffix = "%04d" % rng.randrange(10000)
        while suffix in SPECIAL:
            suffix = "%04d" % rng.randrange(10000)
    body = {"amount": rng.randrange(100, 10 ** 7),
            "gateway": "sandbox",
            "narration": "soak %d" % n,
            "idempotency_key": "soak-%s-%d" % (run, n),
            "metadata": {"soak": run, "n": n},
            "webhook_urls": [rx_url], "webhook_secret": SECRET}
    if rng.random() < 0.2:
        body.update(currency="GHS", mobile_money_provider="MTN",
                    mobile_money_number="23324%03d%s"
                    % (rng.randrange(1000), suffix))
    else:
        body.update(currency="NGN", bank_code="058",
                    bank_account_name="ADA OBI",
                    bank_account_number="%06d%s"
                    % (rng.randrange(10 ** 6), suffix))
    if stage:
        body["stage"] = True
    return Create(outcome, body)


def destination(body):
    return body.get("bank_account_number") or body["mobile_money_number"]


def retry_pause(soak, r):
    """How long to wait before retrying after answer r (None: no answer)."""
    if r is not None and r.status_code == 503:
        try:
            return min(float(r.headers.get("Retry-After", "1")), 2.0)
        except ValueError:
            soak.violation("bad Retry-After", r.headers.get("Retry-After"))
    return 0.2 + random.random() * 0.3


def create_payout(soak, http, ngx, headers, cr, last_start):
    """POST until acknowledged, retrying lost answers and 5xx with the
    same key; bounded by MAX_TRIES and last_start."""
    url = ngx.url("/v1/payouts")
    while cr.tries < MAX_TRIES and time.monotonic() < last_start:
        cr.tries += 1
        soak.bump("requests")
        if cr.tries > 1:
            soak.bump("retries")
        try:
            r = http.post(url, json=cr.body, headers=headers,
                          timeout=CLIENT_TIMEOUT)
        except requests.exceptions.Timeout:
            soak.bump("answers lost (timeout)")
            r = None
        except requests.exceptions.ConnectionError:
            soak.bump("answers lost (connection)")
            r = None
        if r is not None:
            with soak.lock:
                soak.codes["create %d" % r.status_code] += 1
        rejected = (r is not None and r.status_code == 400
                    and (r.json().get("error") or {}).get("code")
                    == "gateway_rejected")
        if r is not None and (r.status_code == 201 or rejected):
            # a gateway's rejection at initiation is a 400 naming the
            # payout it ended (seed 004)
            out = r.json().get("error") if rejected else r.json()
            if not out.get("payout_uuid"):
                soak.violation("201 without payout_uuid", r.text)
                return
            cr.uuid = out["payout_uuid"]
            soak.bump("acknowledged")
            if cr.tries > 1:
                soak.bump("acknowledged after a retry")
                verify_stored(soak, http, ngx, headers, cr)
            return
        if r is not None and r.status_code < 500:
            soak.violation("create answered %d" % r.status_code,
                           "%s (try %d): %s" % (cr.key, cr.tries,
                                                r.text[:200]))
            return
        time.sleep(retry_pause(soak, r))
    soak.bump("given up")


def verify_stored(soak, http, ngx, headers, cr):
    """After a retry: the stored payout is the one the client asked for."""
    p = get_payout(soak, http, ngx, headers, cr)
    if p is not None:
        soak.bump("verified after a retry")
        problems = payout_differs(cr, p)
        if problems:
            soak.violation("stored payout differs", (cr.key, problems))


def get_payout(soak, http, ngx, headers, cr):
    """GET /v1/payouts/{uuid}, retried like a create; None if never."""
    url = ngx.url("/v1/payouts/" + cr.uuid)
    for _ in range(MAX_TRIES):
        try:
            r = http.get(url, headers=headers, timeout=CLIENT_TIMEOUT)
        except requests.exceptions.RequestException:
            r = None
        if r is not None and r.status_code == 200:
            return r.json()
        if r is not None and r.status_code < 500:
            soak.violation("GET payout answered %d" % r.status_code,
                           (cr.key, r.text[:200]))
            return None
        time.sleep(retry_pause(soak, r))
    soak.bump("GET given up")
    return None


def act(soak, http, ngx, headers, cr, last_start):
    """POST the outcome's action (transfer, cancel) until answered.  A
    retry whose earlier try went through is 409 invalid_state: a GET
    then tells whether the payout moved."""
    action = OUTCOMES[cr.outcome].action
    url = ngx.url("/v1/payouts/%s/%s" % (cr.uuid, action))
    tries = 0
    while tries < MAX_TRIES and time.monotonic() < last_start:
        tries += 1
        soak.bump("%s requests" % action)
        try:
            r = http.post(url, headers=headers, timeout=CLIENT_TIMEOUT)
        except requests.exceptions.RequestException:
            soak.bump("%s answers lost" % action)
            r = None
        if r is not None:
            with soak.lock:
                soak.codes["%s %d" % (action, r.status_code)] += 1
        if r is not None and r.status_code in (200, 201):
            cr.acted()
            return
        code = error_code(r)
        if code == "invalid_state" and tries > 1:
            p = get_payout(soak, http, ngx, headers, cr)
            if p is not None and p["sub_status"] != BEFORE[action][0]:
                soak.bump("%s acknowledged by a GET" % action)
                cr.acted()
                return
        if r is not None and r.status_code < 500:
            soak.violation("%s answered %d" % (action, r.status_code),
                           (cr.key, tries, r.text[:200]))
            return
        time.sleep(retry_pause(soak, r))
    soak.bump("%s given up" % action)


def error_code(r):
    try:
        return r.json()["error"]["code"]
    except (AttributeError, ValueError, KeyError, TypeError):
        return None


def payout_differs(cr, p):
    b = cr.body
    out = []
    for field in ("amount", "currency", "narration", "idempotency_key",
                  "metadata", "webhook_urls"):
        if p.get(field) != b[field]:
            out.append((field, p.get(field), b[field]))
    rcp = p.get("recipient") or {}
    shown = (rcp.get("bank_account_number")
             or rcp.get("mobile_money_number") or "")
    if not shown.endswith(destination(b)[-4:]):
        out.append(("destination", shown, destination(b)[-4:]))
    if p.get("uuid") != cr.uuid:
        out.append(("uuid", p.get("uuid"), cr.uuid))
    return out


def client(soak, ngx, headers, run, index, stop_at, rx_url):
    rng = random.Random("%d/%d" % (SEED, index))
    last_start = stop_at + RETRY_WINDOW
    n = 0
    with requests.Session() as http:
        while time.monotonic() < stop_at:
            n += 1
            cr = make_body(rng, run, index * 1000000 + n, rx_url)
            with soak.lock:
                soak.sent[cr.key] = cr
            try:
                create_payout(soak, http, ngx, headers, cr, last_start)
                if cr.uuid and OUTCOMES[cr.outcome].action:
                    act(soak, http, ngx, headers, cr, last_start)
            except Exception as e:          # a client bug: report it
                soak.violation("client error", repr(e))


# -- faults ---------------------------------------------------------------

def kill_one(soak, ngx, db):
    pids = ngx.pids()
    pid = soak.rng.choice(pids)
    os.kill(pid, signal.SIGKILL)
    soak.killed.add(pid)
    wait_for(lambda: pid not in ngx.pids() and len(ngx.pids()) >= WORKERS,
             15, "a worker after kill -9")


def kill_all(soak, ngx, db):
    wait_for(lambda: len(ngx.pids()) == WORKERS, 30,
             "exactly %d workers before killing them" % WORKERS)
    soak.killed |= kill_workers(ngx, WORKERS)


def reload(soak, ngx, db):
    old = set(ngx.pids())
    ngx.reload()
    # an exiting worker that never exits would be a bug: bound it
    wait_reloaded(ngx, old, WORKERS, timeout=40)


def pg_restart(soak, ngx, db):
    db.stop()
    time.sleep(0.5 + soak.rng.random() * 2.0)
    db.start()


FAULTS = [("kill -9 one worker", kill_one), ("reload (HUP)", reload),
          ("kill -9 all workers", kill_all),
          ("PostgreSQL restart", pg_restart)]


def inject_faults(soak, ngx, db, stop_at, stop):
    i = 0
    while not stop.wait(FAULT_EVERY * (0.5 + soak.rng.random())):
        if time.monotonic() > stop_at - 5:
            return
        name, fn = FAULTS[i % len(FAULTS)]
        i += 1
        try:
            fn(soak, ngx, db)
            with soak.lock:
                soak.faults[name] += 1
        except Exception as e:
            soak.violation("fault did not recover", "%s: %s" % (name, e))
            return


# -- settling and checking ------------------------------------------------

def payouts(db, tenant_id):
    cols = ("id", "uuid", "key", "sub_status", "amount", "currency",
            "narration", "last4", "provider_attempts", "next_check_at")
    rows = db.sql(
        "SELECT p.id, p.uuid::text, p.idempotency_key, p.sub_status, "
        "p.amount, p.currency, p.narration, "
        "coalesce(r.account_number_last4, r.mobile_money_last4), "
        "p.provider_attempts, p.next_check_at "
        "FROM payouts p LEFT JOIN recipients r ON r.id = p.recipient_id "
        "WHERE p.tenant_id = %s", (tenant_id,))
    return [dict(zip(cols, row)) for row in rows]


def emitted(db, tenant_id):
    """{msg_id: (payout uuid, event_type, payload, event id)}"""
    return {m: (u, t, p, i) for m, u, t, p, i in db.sql(
        "SELECT e.msg_id, p.uuid::text, e.event_type, e.payload, e.id "
        "FROM webhook_events e JOIN payouts p ON p.id = e.payout_id "
        "WHERE e.tenant_id = %s", (tenant_id,))}


def settle(soak, db, tenant_id, rx):
    """Wait (bounded) until what can settle has: payouts final, no
    delivery pending, every event received."""
    t0 = time.monotonic()
    deadline = t0 + SETTLE
    last = None
    while True:
        try:
            state = settle_state(soak, db, tenant_id, rx)
        except Exception as e:      # the database may be restarting
            state = {"error": str(e)}
        if not any(state.values()):
            time.sleep(2.0)         # room for a late repeat to show
            return time.monotonic() - t0, state
        now = time.monotonic()
        if now > deadline:
            return now - t0, state
        if last is None or now - last >= 10:
            print("  settling %3.0fs: %s" % (now - t0, state), flush=True)
            last = now
        time.sleep(1.0)


def settle_state(soak, db, tenant_id, rx):
    with soak.lock:
        want = {cr.key: cr.expect for cr in soak.sent.values()}
    unsettled = sum(1 for p in payouts(db, tenant_id)
                    if p["sub_status"] not in FINAL
                    and want.get(p["key"], {}).get(p["sub_status"]) is None)
    pending = db.sql(
        "SELECT count(*) FROM webhook_deliveries d JOIN payouts p "
        "ON p.id = d.payout_id WHERE p.tenant_id = %s "
        "AND d.state = 'pending'", (tenant_id,))[0][0]
    got = {r["id"] for r in rx.all()}
    missing = len(set(emitted(db, tenant_id)) - got)
    return {"payouts in flight": unsettled, "deliveries pending": pending,
            "events not received": missing,
            "receiver busy": rx.inflight}


def check_payouts(soak, db, tenant_id, rows):
    by_key = collections.defaultdict(list)
    for p in rows:
        by_key[p["key"]].append(p)
    for key, ps in by_key.items():
        if key not in soak.sent:
            soak.violation("payout the clients never asked for", key)
        if len(ps) > 1:
            soak.violation("idempotency key stored twice", key)
    for cr in soak.sent.values():
        ps = by_key.get(cr.key, [])
        if cr.uuid is None:
            continue
        if len(ps) != 1:
            soak.violation("acknowledged payout not stored exactly once",
                           (cr.key, len(ps)))
            continue
        p, b = ps[0], cr.body
        got = (p["uuid"], p["amount"], p["currency"], p["narration"],
               p["last4"])
        want = (cr.uuid, b["amount"], b["currency"], b["narration"],
                destination(b)[-4:])
        if got != want:
            soak.violation("stored payout differs", (cr.key, got, want))

    for p in rows:
        cr = soak.sent.get(p["key"])
        if cr is None:
            continue
        st = p["sub_status"]
        if st in cr.expect and (st in FINAL or cr.expect[st]):
            continue
        soak.violation(
            "payout not in its expected state",
            "%s %s (%s): %s, expected %s; %d provider checks, next %s"
            % (p["uuid"], cr.outcome, destination(cr.body)[-4:], st,
               " or ".join(cr.expect), p["provider_attempts"],
               p["next_check_at"]))

    history = collections.defaultdict(list)
    for pid, frm, to in db.sql(
            "SELECT e.payout_id, e.from_sub_status, e.to_sub_status "
            "FROM payout_events e JOIN payouts p ON p.id = e.payout_id "
            "WHERE p.tenant_id = %s ORDER BY e.id", (tenant_id,)):
        history[pid].append((frm, to))
    for p in rows:
        prev = None
        for frm, to in history[p["id"]]:
            if frm != prev or to not in ALLOWED.get(prev, set()):
                soak.violation("history not one allowed chain",
                               (p["uuid"], history[p["id"]]))
                break
            prev = to
        if prev != p["sub_status"]:
            soak.violation("history does not end in the payout's state",
                           (p["uuid"], p["sub_status"], history[p["id"]]))
    return history


def check_ledger(soak, db, rows):
    by_uuid = {p["uuid"]: p for p in rows}
    ledger = db.sql("SELECT reference::text, status, amount, "
                    "destination_last4 FROM sandbox_transfers")
    per_ref = collections.Counter(ref for ref, _s, _a, _l in ledger)
    for ref, n in per_ref.items():
        if n > 1:
            soak.violation("more than one transfer for a payout", (ref, n))
    seen = set()
    for ref, status, amount, last4 in ledger:
        p = by_uuid.get(ref)
        if p is None:
            soak.violation("transfer for no payout", ref)
            continue
        seen.add(ref)
        want = LEDGER_STATUS.get(p["sub_status"])
        if (status, amount, last4) != (want, p["amount"], p["last4"]):
            soak.violation("transfer disagrees with its payout",
                           (ref, (status, amount, last4),
                            (want, p["amount"], p["last4"])))
    for p in rows:
        if p["uuid"] not in seen and p["sub_status"] in LEDGER_STATUS:
            soak.violation("no transfer for a payout the provider decided",
                           (p["uuid"], p["sub_status"]))
    return collections.Counter(s for _r, s, _a, _l in ledger)


def check_webhooks(soak, db, tenant_id, rows, history, rx):
    events = emitted(db, tenant_id)
    recs = rx.all()
    first = {}
    for r in recs:
        if not r["sig_ok"]:
            soak.violation("bad signature", r["headers"])
        if r["id"] not in events:
            soak.violation("received an event never emitted", r["id"])
            continue
        if r["id"] in first:
            if first[r["id"]]["body"] != r["body"]:
                soak.violation("one webhook-id, two bodies", r["id"])
            continue
        first[r["id"]] = r
        if r["event"] != events[r["id"]][2]:
            soak.violation("received body is not the emitted event",
                           (r["id"], r["event"], events[r["id"]][2]))
    missing = set(events) - set(first)
    for m in missing:
        soak.violation("event never received", (m, events[m][:2]))

    per_payout = collections.defaultdict(list)
    for m, (u, etype, _payload, eid) in events.items():
        per_payout[u].append((eid, m, etype))
    for p in rows:
        evs = sorted(per_payout[p["uuid"]])
        if len(evs) != len(history[p["id"]]):
            soak.violation("events emitted != transitions",
                           (p["uuid"], len(evs), len(history[p["id"]])))
        if "payout." + p["sub_status"] not in [t for _i, m, t in evs
                                               if m in first]:
            soak.violation("final state's event not received",
                           (p["uuid"], p["sub_status"]))
        arrived = [first[m]["arrived"] for _i, m, _t in evs if m in first]
        if arrived != sorted(arrived):
            soak.violation("events received out of order",
                           (p["uuid"], [t for _i, _m, t in evs]))

    states = collections.Counter(s for (s,) in db.sql(
        "SELECT d.state FROM webhook_deliveries d JOIN payouts p "
        "ON p.id = d.payout_id WHERE p.tenant_id = %s", (tenant_id,)))
    for state, n in states.items():
        if state != "delivered":
            soak.violation("deliveries not delivered", (state, n))
    attempts = db.sql(
        "SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d "
        "ON d.id = a.delivery_id JOIN payouts p ON p.id = d.payout_id "
        "WHERE p.tenant_id = %s", (tenant_id,))[0][0]
    return {"emitted": len(events), "requests received": len(recs),
            "distinct received": len(first),
            "duplicates (same webhook-id)": len(recs) - len(first),
            "attempts recorded": attempts,
            "deliveries by state": dict(states)}


def provider_calls(ngx):
    try:
        calls = sandbox_calls(ngx)
    except ValueError:
        return {"unreadable": True}
    posts = collections.Counter(c[4] for c in calls
                                if c[1] == "POST"
                                and c[2] == "/sandbox/transfers")
    return {"POST /transfers": sum(posts.values()),
            "payouts sent more than once (same key)":
                sum(1 for n in posts.values() if n > 1),
            "GET lookups (reconciler, status)":
                sum(1 for c in calls if c[1] == "GET")}


# -- the run ---------------------------------------------------------------

def main():
    started = time.monotonic()
    soak = Soak()
    run = uuidlib.uuid4().hex[:8]
    print("soak %s: %ds of load at %d connections, a fault every ~%.0fs, "
          "seed %d" % (run, SECONDS, CONNECTIONS, FAULT_EVERY, SEED),
          flush=True)
    db, headers = own_database()
    tenant_id = db.sql("SELECT id FROM tenants ORDER BY id DESC "
                       "LIMIT 1")[0][0]
    rx = Receiver().start()
    ngx = Nginx(db, sandbox=True, workers=WORKERS, pool=8,
                gateway_timeout="2s", webhook_delay="300ms",
                reconcile_grace="2s",
                webhook_schedule=" ".join(["0"] + ["1s", "2s"] * 10),
                http=SANDBOX_LOG_HTTP + "\n    payout_webhook_timeout 3s;",
                server=SANDBOX_LOG_SERVER).start()
    kept = None
    try:
        load_start = time.monotonic()
        stop_at = load_start + SECONDS
        stop = threading.Event()
        threads = [threading.Thread(target=client, args=(
            soak, ngx, headers, run, i, stop_at, rx.url), daemon=True)
            for i in range(CONNECTIONS)]
        faults = threading.Thread(target=inject_faults,
                                  args=(soak, ngx, db, stop_at, stop),
                                  daemon=True)
        for t in threads:
            t.start()
        faults.start()
        while time.monotonic() < stop_at:
            time.sleep(min(15, max(0.1, stop_at - time.monotonic())))
            print("  %3.0fs: %d requests, %d acknowledged, faults %s"
                  % (time.monotonic() - started, soak.count["requests"],
                     soak.count["acknowledged"], dict(soak.faults)),
                  flush=True)
        stop.set()
        faults.join(60)
        for t in threads:
            t.join(RETRY_WINDOW + 30)
        load_s = time.monotonic() - load_start

        settle_s, left = settle(soak, db, tenant_id, rx)
        rows = payouts(db, tenant_id)
        history = check_payouts(soak, db, tenant_id, rows)
        ledger = check_ledger(soak, db, rows)
        hooks = check_webhooks(soak, db, tenant_id, rows, history, rx)
        calls = provider_calls(ngx)
    finally:
        rx.stop()
        dropped = stop_forgiving_kills(ngx, soak.killed)
        for line in ngx.log_problems():
            soak.violation("nginx error log", line)
        if soak.violations:
            kept = tempfile.mkdtemp(prefix="payout-soak-")
            shutil.copy(ngx.error_log, kept)
            shutil.copy(os.path.join(db.data, "postgresql.log"), kept)
        ngx.destroy()
        db.destroy()

    report(soak, rows, ledger, hooks, calls, dropped, load_s, settle_s,
           left, time.monotonic() - started)
    if soak.violations:
        print("\nFAIL: %d invariant(s) violated; logs kept in %s"
              % (len(soak.violations), kept))
        for kind, items in sorted(soak.violations.items()):
            print("  %s: %d" % (kind, len(items)))
            for item in items[:5]:
                print("      %s" % (item,))
        return 1
    print("\nPASS: every invariant held")
    return 0


def report(soak, rows, ledger, hooks, calls, dropped, load_s, settle_s,
           left, total_s):
    c = soak.count
    by_outcome = collections.Counter(cr.outcome for cr in soak.sent.values())
    print("\nfigures (seed %d)" % SEED)
    print("  duration: load %.0fs (%d s asked), settle %.0fs, total %.0fs"
          % (load_s, SECONDS, settle_s, total_s))
    print("  creates: %d payouts asked, %d requests, %d acknowledged, "
          "%d retries, %d acknowledged after a retry (%d verified by GET), "
          "%d given up" % (len(soak.sent), c["requests"], c["acknowledged"],
                           c["retries"], c["acknowledged after a retry"],
                           c["verified after a retry"], c["given up"]))
    print("  answers: %s" % dict(sorted(soak.codes.items())))
    print("  create answers lost: %d timeouts, %d connection errors; "
          "transfer: %d, cancel: %d"
          % (c["answers lost (timeout)"], c["answers lost (connection)"],
             c["transfer answers lost"], c["cancel answers lost"]))
    print("  actions: %s" % ", ".join(
        "%s %d" % (k, n) for k, n in sorted(c.items())
        if k.split()[0] in ("transfer", "cancel")))
    status = collections.Counter()
    for k, n in soak.codes.items():
        status[int(k.split()[1])] += n
    print("  5xx seen: %d (503: %d)"
          % (sum(n for st, n in status.items() if st >= 500), status[503]))
    print("  asked by outcome: %s" % dict(sorted(by_outcome.items())))
    print("  payouts by final sub_status: %s" % dict(sorted(
        collections.Counter(p["sub_status"] for p in rows).items())))
    pending = collections.Counter()
    for p in rows:
        cr = soak.sent.get(p["key"])
        if p["sub_status"] not in FINAL and cr is not None:
            pending[cr.expect.get(p["sub_status"]) or "UNEXPLAINED"] += 1
    print("  pending, by reason: %s" % dict(pending))
    print("  ledger transfers: %d %s" % (sum(ledger.values()),
                                         dict(sorted(ledger.items()))))
    print("  provider calls: %s" % calls)
    print("  events: %s" % hooks)
    print("  faults injected: %s" % dict(soak.faults))
    print("  kill -9 alerts forgiven in the error log: %d" % len(dropped))
    if any(left.values()):
        print("  not settled after %ds: %s" % (SETTLE, left))


if __name__ == "__main__":
    sys.exit(main())
