"""Shared helpers for the payouts, recipients and sandbox-flow tests.

Not a test module: test_payouts.py, test_recipients.py and
test_payout_flows.py import from it (pytest puts this directory on
sys.path, as it does for conftest.py).
"""

import hashlib
import hmac
import inspect
import json
import time

import pytest

from conftest import MASTER_KEY, Nginx

# the seed 004 create example, verbatim but for the gateway's name
SEED_EXAMPLE = {
    "amount": 250000,
    "currency": "NGN",
    "gateway": "sandbox",
    "narration": "Weekly seller settlement",
    "idempotency_key": "settlement-seller-1042-week-15",
    "bank_account_number": "0123456789",
    "bank_account_name": "JOHN SELLER",
    "bank_code": "058",
    "bank_name": "Guaranty Trust Bank",
    "webhook_urls": ["https://your-domain.com/webhooks/payouts"],
    "webhook_secret": "your-webhook-secret",
}

ACCOUNT = "0123456789"          # plain account number used throughout
MOBILE = "233241234567"         # plain mobile money number

JSON_HEADERS = {"Content-Type": "application/json"}

FINAL = {"success", "canceled_failure", "canceled_rejected",
         "canceled_timeout", "canceled_voided", "canceled_reversed"}

# forward transitions the state machine allows (src/core/ngx_payout_state.c)
ALLOWED = {
    None: {"pending_staged", "pending_created"},
    "pending_staged": {"pending_created", "canceled_voided"},
    "pending_created": {"pending_promise", "success", "canceled_failure",
                        "canceled_rejected", "canceled_timeout",
                        "canceled_voided"},
    "pending_promise": {"success", "canceled_failure", "canceled_rejected",
                        "canceled_timeout", "canceled_voided"},
    "success": {"canceled_reversed"},
}


# These tests are not about the reconciler: where the harness can
# configure it, keep it away from the payouts a test is looking at.
_QUIET = ({"reconcile_grace": "60s"}
          if "reconcile_grace" in inspect.signature(Nginx).parameters
          else {})


def sandbox_nginx(nginx_factory, **kw):
    """nginx with the built-in sandbox provider, fast timings."""
    args = dict(sandbox=True, gateway_timeout="1s", webhook_delay="200ms")
    args.update(_QUIET)
    args.update(kw)
    return nginx_factory(**args)


@pytest.fixture
def sbx(nginx_factory):
    return sandbox_nginx(nginx_factory)


def assert_error(r, status, code=None, field=None):
    """r is the API's JSON error: {"error":{"code","message"[,"field"]}}."""
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/json", r.headers
    body = r.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert isinstance(err["code"], str) and err["code"], body
    assert isinstance(err["message"], str) and err["message"], body
    assert set(err) <= {"code", "message", "field"}, body
    if code is not None:
        assert err["code"] == code, body
    if field is not None:
        assert err.get("field") == field, body
    return err


def bank(account=ACCOUNT, **kw):
    body = {"amount": 1000, "currency": "NGN", "gateway": "sandbox",
            "bank_account_number": account,
            "bank_account_name": "JOHN SELLER", "bank_code": "058"}
    body.update(kw)
    return body


def mobile(number=MOBILE, **kw):
    body = {"amount": 1000, "currency": "GHS", "gateway": "sandbox",
            "mobile_money_number": number, "mobile_money_provider": "MTN"}
    body.update(kw)
    return body


def post_json(http, ngx, tenant, path, body, **kw):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    headers = dict(JSON_HEADERS)
    if tenant is not None:
        headers.update(tenant.headers)
    headers.update(kw.pop("headers", {}))
    return http.post(ngx.url(path), data=data, headers=headers, **kw)


def create(http, ngx, tenant, body, status=201):
    r = post_json(http, ngx, tenant, "/v1/payouts", body)
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/json"
    return r.json()


def get_payout(http, ngx, tenant, uuid):
    r = http.get(ngx.url("/v1/payouts/" + uuid), headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()


def wait_for(fn, timeout=10.0, interval=0.05, what="condition"):
    """Polls fn() until it returns something truthy; returns that."""
    deadline = time.time() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.time() > deadline:
            raise AssertionError("timed out waiting for %s (last: %r)"
                                 % (what, last))
        time.sleep(interval)


def wait_status(http, ngx, tenant, uuid, sub_status, timeout=10.0):
    """Polls GET /v1/payouts/{uuid} until sub_status; returns the payout."""
    seen = []

    def check():
        p = get_payout(http, ngx, tenant, uuid)
        if not seen or seen[-1] != p["sub_status"]:
            seen.append(p["sub_status"])
        return p if p["sub_status"] == sub_status else None

    try:
        return wait_for(check, timeout, what="payout %s to be %s"
                        % (uuid, sub_status))
    except AssertionError:
        raise AssertionError("payout %s never reached %s; seen %r"
                             % (uuid, sub_status, seen))


def payout_row(pg, uuid):
    rows = pg.sql("SELECT id, status, sub_status, gateway_payout_id, "
                  "failure_reason, updated_at FROM payouts WHERE uuid = %s",
                  (uuid,))
    assert len(rows) == 1, rows
    return dict(zip(("id", "status", "sub_status", "gateway_payout_id",
                     "failure_reason", "updated_at"), rows[0]))


def events(pg, uuid):
    """The payout's history, oldest first: [(from, to, source), ...]."""
    return pg.sql("SELECT e.from_sub_status, e.to_sub_status, e.source "
                  "FROM payout_events e JOIN payouts p ON p.id = e.payout_id "
                  "WHERE p.uuid = %s ORDER BY e.id", (uuid,))


def assert_history(pg, uuid, must_include=(), ends=None):
    """The history is one forward chain the state machine allows."""
    hist = events(pg, uuid)
    assert hist, "payout %s has no history" % uuid
    prev = None
    for frm, to, _source in hist:
        assert frm == prev, "history jumps: %r" % (hist,)
        assert to in ALLOWED.get(prev, set()), \
            "history moves %s -> %s: %r" % (prev, to, hist)
        prev = to
    chain = [to for _f, to, _s in hist]
    for state in must_include:
        assert state in chain, "%s not in history %r" % (state, chain)
    if ends is not None:
        assert chain[-1] == ends, chain
    return chain


def sandbox_transfers(pg, uuid):
    return pg.sql("SELECT status, failure_reason, destination_last4 "
                  "FROM sandbox_transfers WHERE reference = %s", (uuid,))


def counts(pg, tenant):
    """Everything a payout or recipient request may write."""
    q = {
        "payouts": ("SELECT count(*) FROM payouts WHERE tenant_id = %s",
                    (tenant.id,)),
        "recipients": ("SELECT count(*) FROM recipients "
                       "WHERE tenant_id = %s", (tenant.id,)),
        "payout_events": ("SELECT count(*) FROM payout_events e "
                          "JOIN payouts p ON p.id = e.payout_id "
                          "WHERE p.tenant_id = %s", (tenant.id,)),
        "webhook_events": ("SELECT count(*) FROM webhook_events "
                           "WHERE tenant_id = %s", (tenant.id,)),
        "webhook_deliveries": ("SELECT count(*) FROM webhook_deliveries d "
                               "JOIN webhook_events e ON e.id = d.event_id "
                               "WHERE e.tenant_id = %s", (tenant.id,)),
        "sandbox_transfers": ("SELECT count(*) FROM sandbox_transfers", ()),
    }
    out = {}
    for name, (sql, params) in q.items():
        if name == "sandbox_transfers" and not table_exists(pg, name):
            continue
        out[name] = pg.sql(sql, params)[0][0]
    return out


def table_exists(pg, name):
    return pg.sql("SELECT to_regclass(%s) IS NOT NULL", (name,))[0][0]


def sandbox_secret():
    token = hmac.new(bytes.fromhex(MASTER_KEY), b"payout/v1/token",
                     hashlib.sha256).digest()
    return hmac.new(token, b"sandbox/webhook", hashlib.sha256).digest()


def sandbox_signature(body, t=None, secret=None):
    t = int(time.time()) if t is None else int(t)
    mac = hmac.new(secret or sandbox_secret(), ("%d." % t).encode() + body,
                   hashlib.sha256).hexdigest()
    return "t=%d,v1=%s" % (t, mac)


def sandbox_event(reference, status, event_type=None, gateway_id="sbx_tr_x",
                  failure_reason=None, event_id="evt_test"):
    """A provider webhook body as the sandbox sends it (bytes)."""
    types = {"succeeded": "transfer.succeeded", "failed": "transfer.failed",
             "reversed": "transfer.reversed", "pending": "transfer.pending"}
    return json.dumps({
        "id": event_id,
        "type": event_type or types.get(status, "transfer." + status),
        "created": int(time.time()),
        "data": {"id": gateway_id, "reference": reference, "status": status,
                 "amount": 1000, "currency": "NGN",
                 "failure_reason": failure_reason},
    }, separators=(",", ":")).encode()


def post_hook(http, ngx, body, signature=None, gateway="sandbox"):
    headers = dict(JSON_HEADERS)
    if signature is not None:
        headers["Sandbox-Signature"] = signature
    return http.post(ngx.url("/hooks/" + gateway), data=body,
                     headers=headers)

