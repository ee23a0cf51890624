"""Mollie's webhooks are settled by a refetch (issue 9): an id-only
classic body (`id=payout_...`) or a signed next-gen event makes the hook
GET /v2/payouts/{id} from the provider, and only what that fetch says
moves the payout; a snapshot in the event is never taken.  A fetch
without a definite answer changes nothing and answers 503 (Mollie sends
the event again); a payout the module does not know is acknowledged and
ignored.  And a cancel Mollie refuses (409 past "requested") is 409
not_cancelable with Mollie's reason.

Against a loopback stand-in of Mollie's API (the StandIn of
test_provider_events.py, answering DELETE as well); payouts are inserted
in SQL, as there."""

import hashlib
import hmac
import json
import tempfile

import pytest

from payout_helpers import assert_error, get_payout, post_json, wait_for
from test_provider_events import StandIn, insert_payout, secret_file

MOLLIE_KEY = "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM"
MOLLIE_WHSEC = "mollie-webhook-secret-0123456789"
BALANCE = "bal_gVMhHKqSSRYJyPsuoPNFH"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def mollie():
    s = StandIn()
    # the stand-in's handler answers DELETE (a cancel) as it does GET
    handler = s.server.RequestHandlerClass
    handler.do_DELETE = handler.do_GET
    yield s
    s.stop()


@pytest.fixture
def ngx(nginx_factory, mollie):
    d = tempfile.mkdtemp(prefix="payout-keys-")
    key = secret_file(d, "mollie.key", MOLLIE_KEY)
    whsec = secret_file(d, "mollie.whsec", MOLLIE_WHSEC)
    http = """
    payout_gateway mollie connector=mollie mode=test url=%s
                   secret_file=%s balance=%s timeout=2s;
    payout_gateway mollie_ng connector=mollie mode=test url=%s
                   secret_file=%s webhook_secret_file=%s balance=%s
                   timeout=2s;
    payout_reconcile_interval 300ms;
    payout_reconcile_grace 1h;
""" % (mollie.url, key, BALANCE, mollie.url, key, whsec, BALANCE)
    server = """
        location /hooks/ { payout_provider_webhook; }
"""
    return nginx_factory(http=http, server=server)


def mollie_payout(po, status, **kw):
    obj = {"resource": "payout", "id": po, "balanceId": BALANCE,
           "status": status,
           "amount": {"currency": "EUR", "value": "10.00"}}
    obj.update(kw)
    return obj


def balance_payout(pg, tenant, gateway, sub_status, po):
    u = insert_payout(pg, tenant, gateway, sub_status, po, rtype="balance")
    return u


def hook(http, ngx, gateway, body, headers):
    return http.post(ngx.url("/hooks/" + gateway), data=body,
                     headers=headers)


def signed(body):
    sig = hmac.new(MOLLIE_WHSEC.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json",
            "X-Mollie-Signature": "sha256=" + sig}


def sub_status(pg, u):
    return pg.sql("SELECT sub_status FROM payouts WHERE uuid = %s",
                  (u,))[0][0]


def test_classic_id_only_moves_by_the_fetch(ngx, mollie, pg, tenant, http):
    u = balance_payout(pg, tenant, "mollie", "pending_promise", "payout_a1")
    mollie.objects["/v2/payouts/payout_a1"] = mollie_payout(
        "payout_a1", "failed", statusReason={"code": "insufficient_funds"})

    r = hook(http, ngx, "mollie", b"id=payout_a1", FORM)
    assert r.status_code == 200, r.text
    assert r.json() == {"received": True, "outcome": "applied"}
    assert len(mollie.got("GET", "/v2/payouts/payout_a1")) == 1
    assert sub_status(pg, u) == "canceled_failure"
    assert pg.sql("SELECT failure_reason FROM payouts WHERE uuid = %s",
                  (u,)) == [("insufficient_funds",)]

    # again: acknowledged, nothing moves back
    r = hook(http, ngx, "mollie", b"id=payout_a1", FORM)
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "ignored"
    assert sub_status(pg, u) == "canceled_failure"


def test_snapshot_contradicted_by_the_fetch(ngx, mollie, pg, tenant, http):
    """The event's snapshot says completed; the fetch says failed: the
    payout fails, it is never paid."""
    u = balance_payout(pg, tenant, "mollie_ng", "pending_promise",
                       "payout_b2")
    mollie.objects["/v2/payouts/payout_b2"] = mollie_payout("payout_b2",
                                                            "failed")
    body = json.dumps({
        "resource": "event", "id": "event_GvJ8WHrp5isUdRub9CJyH",
        "type": "payout.completed", "entityId": "payout_b2",
        "_embedded": {"entity": mollie_payout("payout_b2", "completed")},
    }).encode()

    # unsigned, or signed with another secret: refused, nothing fetched
    r = hook(http, ngx, "mollie_ng", body,
             {"Content-Type": "application/json"})
    assert r.status_code == 401, r.text
    bad = dict(signed(body), **{"X-Mollie-Signature": "sha256=" + "0" * 64})
    assert hook(http, ngx, "mollie_ng", body, bad).status_code == 401
    assert mollie.got("GET") == []

    r = hook(http, ngx, "mollie_ng", body, signed(body))
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "applied"
    assert sub_status(pg, u) == "canceled_failure"
    hist = pg.sql("SELECT to_sub_status FROM payout_events e JOIN payouts p "
                  "ON p.id = e.payout_id WHERE p.uuid = %s ORDER BY e.id",
                  (u,))
    assert ("success",) not in hist


def test_snapshot_confirmed_by_the_fetch(ngx, mollie, pg, tenant, http):
    u = balance_payout(pg, tenant, "mollie_ng", "pending_promise",
                       "payout_c3")
    mollie.objects["/v2/payouts/payout_c3"] = mollie_payout("payout_c3",
                                                            "completed")
    body = json.dumps({"resource": "event", "type": "payout.completed",
                       "entityId": "payout_c3"}).encode()
    r = hook(http, ngx, "mollie_ng", body, signed(body))
    assert r.status_code == 200, r.text
    assert sub_status(pg, u) == "success"

    # failed after completed: the money came back
    mollie.objects["/v2/payouts/payout_c3"]["status"] = "failed"
    r = hook(http, ngx, "mollie_ng", body, signed(body))
    assert r.status_code == 200, r.text
    assert sub_status(pg, u) == "canceled_reversed"


def test_fetch_without_answer_changes_nothing(ngx, mollie, pg, tenant,
                                              http):
    u = balance_payout(pg, tenant, "mollie", "pending_promise", "payout_d4")
    mollie.answer = lambda method, path, body: (
        (503, {"status": 503, "title": "Service Unavailable"})
        if path == "/v2/payouts/payout_d4" else None)

    r = hook(http, ngx, "mollie", b"id=payout_d4", FORM)
    err = assert_error(r, 503, "gateway_unavailable")
    assert err
    assert r.headers.get("Retry-After"), r.headers
    assert sub_status(pg, u) == "pending_promise"

    # Mollie sends it again; now the fetch answers
    mollie.answer = None
    mollie.objects["/v2/payouts/payout_d4"] = mollie_payout("payout_d4",
                                                            "completed")
    r = hook(http, ngx, "mollie", b"id=payout_d4", FORM)
    assert r.status_code == 200, r.text
    assert sub_status(pg, u) == "success"


def test_fetch_not_found_changes_nothing(ngx, mollie, pg, tenant, http):
    u = balance_payout(pg, tenant, "mollie", "pending_promise", "payout_e5")
    mollie.answer = lambda method, path, body: (
        (404, {"status": 404, "title": "Not Found",
               "detail": "No payout exists with token payout_e5."})
        if path == "/v2/payouts/payout_e5" else None)
    r = hook(http, ngx, "mollie", b"id=payout_e5", FORM)
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "ignored"
    assert sub_status(pg, u) == "pending_promise"


def test_unknown_payout_is_ignored(ngx, mollie, pg, tenant, http):
    r = hook(http, ngx, "mollie", b"id=payout_nobody", FORM)
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "unknown"
    assert mollie.got("GET") == []

    # a classic body that is not an id: refused before anything else
    r = hook(http, ngx, "mollie", b"id=po_1&x=2", FORM)
    assert r.status_code == 401, r.text


def test_cancel_refused_names_the_reason(ngx, mollie, pg, tenant, http):
    u = balance_payout(pg, tenant, "mollie", "pending_promise", "payout_f6")
    detail = "The payout cannot be canceled after it has been initiated."
    mollie.answer = lambda method, path, body: (
        (409, {"status": 409, "title": "Conflict", "detail": detail})
        if method == "DELETE" else None)
    r = post_json(http, ngx, tenant, "/v1/payouts/%s/cancel" % u, {})
    err = assert_error(r, 409, "not_cancelable")
    assert detail in err["message"], err
    assert len(mollie.got("DELETE", "/v2/payouts/payout_f6")) == 1
    assert sub_status(pg, u) == "pending_promise"
    assert wait_for(lambda: get_payout(http, ngx, tenant, u))[
        "sub_status"] == "pending_promise"


def test_balance_payout_is_sent_with_its_balance(ngx, mollie, pg, tenant,
                                                 http):
    """The send path: the recipient's balance_id, else the gateway's
    balance=; no number is opened for a balance."""
    def created(method, path, body):
        if method == "POST" and path == "/v2/payouts":
            req = json.loads(body)
            return 201, mollie_payout("payout_g7", "requested",
                                      balanceId=req["balanceId"])
        return None

    mollie.answer = created
    own = "bal_Other0000000000000001"
    for balance_id, sent in ((own, own), (None, BALANCE)):
        body = {"amount": 1000, "currency": "EUR", "gateway": "mollie",
                "recipient_type": "balance"}
        if balance_id:
            body["balance_id"] = balance_id
        r = post_json(http, ngx, tenant, "/v1/payouts", body)
        assert r.status_code == 201, r.text
        req = json.loads(mollie.got("POST", "/v2/payouts")[-1]["body"])
        assert req["balanceId"] == sent, req
        assert req["amount"] == {"currency": "EUR", "value": "10.00"}, req


def test_enrollment_is_not_supported(ngx, mollie, pg, tenant, http):
    r = post_json(http, ngx, tenant, "/v1/payout-recipients",
                  {"gateway": "mollie", "recipient_type": "balance"})
    assert r.status_code == 201, r.text
    rec = r.json()
    r = post_json(http, ngx, tenant,
                  "/v1/payout-recipients/%s/accounts" % rec["uuid"], {})
    err = assert_error(r, 422, "not_supported")
    assert "connector mollie" in err["message"], err
    assert "pays destinations inline" in err["message"], err
    assert mollie.requests == []
