"""Payouts through the Mollie connector end to end (issue 9), against the
loopback stand-in of provider_standins.py, which keeps payouts by
Idempotency-Key as Mollie does.  A Mollie payout pays a balance out to
the bank account configured on that balance: the destination is
recipient_type "balance" with a balance_id, or without one (the
gateway's balance=).  Create, webhook, success; the refetch (an id-only
webhook settled by fetching the payout, a snapshot the fetch
contradicts);
cancel while requested and too late; immediate refusals; bad
signatures; no enrollment; test/live separation.

One nginx and one stand-in for the module; every test pays from its own
balance id where it sets an outcome."""

import shutil
import uuid as uuidlib

import pytest

from conftest import Nginx, Tenant, payoutctl
from payout_helpers import (assert_error, assert_history, get_payout,
                            payout_row, post_json, wait_for, wait_status)
from provider_standins import (MOLLIE_KEY, MOLLIE_WHSEC, Mollie,
                               gateway_error, two_mode_site,
                               xfail_unknown_connector)

LIVE_KEY = "live_" + "e2eMollieLive0123456789abcdefg"
DEFAULT_BALANCE = "bal_e2eDefaultBalance01"


@pytest.fixture(scope="module")
def env(pg):
    e = two_mode_site(pg, Mollie, "mollie", (MOLLIE_KEY, LIVE_KEY),
                      MOLLIE_WHSEC, "balance=" + DEFAULT_BALANCE)
    e.mo, e.live_mo = e.test, e.live
    yield e
    e.close()


@pytest.fixture
def mo(env):
    yield from env.fresh(env.mo)


@pytest.fixture
def ngx(env):
    return env.ngx


def balance_id():
    return "bal_e2e%016x" % (uuidlib.uuid4().int % 16 ** 16)


def to_balance(bal=None, **kw):
    b = {"amount": 250000, "currency": "EUR", "gateway": "mollie",
         "narration": "Weekly seller settlement",
         "recipient_type": "balance", "balance_id": bal or balance_id()}
    b.update(kw)
    return b


def sent(mo, u):
    return [c for c in mo.got("POST", "/v2/payouts")
            if c.headers.get("idempotency-key") == u]


def post_payout(http, ngx, tenant, body):
    """POST /v1/payouts; an xfail while recipient_type balance is not
    yet accepted (the glue9 stream)."""
    r = post_json(http, ngx, tenant, "/v1/payouts", body)
    if r.status_code == 400 and r.json()["error"].get("field") in (
            "recipient_type", "balance_id", "recipient_uuid"):
        pytest.xfail("recipient_type balance is not accepted yet "
                     "(glue9): %s" % r.text)
    return r


def payout(http, ngx, tenant, mo, **kw):
    """A payout Mollie accepted (requested): uuid, payout_ id."""
    r = post_payout(http, ngx, tenant, to_balance(**kw))
    assert r.status_code == 201, r.text
    out = r.json()
    u = out["payout_uuid"]
    assert out["status"] == "pending_promise", out
    assert mo.executed(u) == 1
    return u, mo.find(u)["id"]


# -- create, webhook, success -------------------------------------------------

def test_balance_payout_success(mo, env, ngx, tenant, http):
    bal = balance_id()
    u, pid = payout(http, ngx, tenant, mo, bal=bal)
    (c,) = sent(mo, u)
    assert c.headers["authorization"] == "Bearer " + MOLLIE_KEY
    assert c.headers["content-type"].startswith("application/json")
    assert c.json["balanceId"] == bal
    assert c.json["amount"] == {"currency": "EUR", "value": "2500.00"}
    assert c.json["description"] == "Weekly seller settlement"
    assert payout_row(env.pg, u)["gateway_payout_id"] == pid

    r = http.get(ngx.url("/v1/payouts/%s/status" % u),
                 headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert mo.got("GET", "/v2/payouts/" + pid)

    for ev in ("payout.initiated", "payout.processing-at-bank",
               "payout.completed"):
        r = mo.hook(ngx, ev, pid)
        assert r.status_code in (200, 202, 204), r.text
    wait_status(http, ngx, tenant, u, "success")
    assert assert_history(env.pg, u)[-1] == "success"
    assert mo.executed(u) == 1


def test_no_balance_id_uses_the_gateways_balance(mo, env, ngx, tenant,
                                                   http):
    body = to_balance(amount=1000, currency="JPY")
    del body["balance_id"]
    r = post_payout(http, ngx, tenant, body)
    assert r.status_code == 201, r.text
    u = r.json()["payout_uuid"]
    (c,) = sent(mo, u)
    assert c.json["balanceId"] == DEFAULT_BALANCE
    assert c.json["amount"] == {"currency": "JPY", "value": "1000"}


def test_failed_after_creation(mo, env, ngx, tenant, http):
    u, pid = payout(http, ngx, tenant, mo)
    assert mo.hook(ngx, "payout.failed", pid).status_code in (200, 202, 204)
    wait_status(http, ngx, tenant, u, "canceled_failure")


# -- the refetch --------------------------------------------------------------

def test_id_only_webhook_is_settled_by_the_fetch(mo, env, ngx, tenant, http):
    u, pid = payout(http, ngx, tenant, mo)
    looks = len(mo.got("GET", "/v2/payouts/" + pid))
    r = mo.hook(ngx, "payout.completed", pid, snapshot=False)
    assert r.status_code in (200, 202, 204), r.text
    wait_status(http, ngx, tenant, u, "success")
    assert len(mo.got("GET", "/v2/payouts/" + pid)) > looks


def test_a_snapshot_the_fetch_contradicts_moves_by_the_fetch(mo, env, ngx,
                                                             tenant, http):
    """The body says completed; Mollie, asked, says initiated: the payout
    stays pending; the fetch's failed later is what moves it."""
    u, pid = payout(http, ngx, tenant, mo)
    mo.set(pid, "initiated")
    body = mo.event("payout.completed", pid, apply=False)
    r = mo.hook(ngx, None, pid, body=body)
    assert r.status_code in (200, 202, 204), r.text
    wait_for(lambda: mo.got("GET", "/v2/payouts/" + pid), 10,
             what="the refetch")
    assert get_payout(http, ngx, tenant, u)["sub_status"] == \
        "pending_promise"
    mo.set(pid, "failed")
    body = mo.event("payout.completed", pid, apply=False)
    assert mo.hook(ngx, None, pid, body=body).status_code in (200, 202, 204)
    wait_status(http, ngx, tenant, u, "canceled_failure")
    assert "success" not in assert_history(env.pg, u)


# -- cancel -------------------------------------------------------------------

def test_cancel_while_requested(mo, env, ngx, tenant, http):
    u, pid = payout(http, ngx, tenant, mo)
    r = post_json(http, ngx, tenant, "/v1/payouts/%s/cancel" % u, {})
    assert r.status_code == 200, r.text
    p = wait_status(http, ngx, tenant, u, "canceled_voided")
    assert p["status"] == "canceled"
    (c,) = mo.got("DELETE", "/v2/payouts/" + pid)
    assert c.headers["authorization"] == "Bearer " + MOLLIE_KEY
    assert mo.payouts[pid]["status"] == "canceled"


def test_cancel_too_late_is_not_cancelable(mo, env, ngx, tenant, http):
    u, pid = payout(http, ngx, tenant, mo)
    mo.set(pid, "initiated")
    r = post_json(http, ngx, tenant, "/v1/payouts/%s/cancel" % u, {})
    assert_error(r, 409, "not_cancelable")
    assert "canceled in its current state" in r.json()["error"]["message"]
    assert mo.got("DELETE", "/v2/payouts/" + pid)
    assert get_payout(http, ngx, tenant, u)["sub_status"] == \
        "pending_promise"


# -- refusals, signatures, enrollment -----------------------------------------

def test_immediate_refusal_is_gateway_rejected(mo, env, ngx, tenant, http):
    bal = balance_id()
    mo.outcome[bal] = "reject"
    r = post_payout(http, ngx, tenant, to_balance(bal))
    out = gateway_error(r, 400, "gateway_rejected")
    assert out["sub_status"] == "canceled_rejected", out
    p = get_payout(http, ngx, tenant, out["payout_uuid"])
    assert p["sub_status"] == "canceled_rejected"
    assert p["failure_reason"], p


def test_bad_signatures_change_nothing(mo, env, ngx, tenant, http):
    u, pid = payout(http, ngx, tenant, mo)
    before = payout_row(env.pg, u)
    b = mo.event("payout.completed", pid, apply=False)
    for sig in (mo.sign(b, secret="other"), mo.sign(b + b" "),
                "sha256=" + "0" * 64, "sha1=" + mo.sign(b)[7:47], ""):
        r = mo.hook(ngx, None, pid, body=b, signature=sig)
        assert r.status_code == 401, (sig, r.text)
    assert payout_row(env.pg, u) == before
    assert not mo.got("GET", "/v2/payouts/" + pid)


def test_enrollment_is_not_supported(mo, env, ngx, tenant, http):
    r = post_json(http, ngx, tenant, "/v1/payout-recipients", {
        "gateway": "mollie", "recipient_type": "balance",
        "balance_id": balance_id()})
    if r.status_code == 400:
        pytest.xfail("recipient_type balance is not accepted yet (glue9): "
                     + r.text)
    assert r.status_code == 201, r.text
    r = post_json(http, ngx, tenant, "/v1/payout-recipients/%s/accounts"
                  % r.json()["uuid"], {"currency": "EUR"})
    assert_error(r, 422, "not_supported")
    assert mo.calls == [] or not mo.got("POST", "/v2/payouts/")


# -- test and live ------------------------------------------------------------

def test_keys_of_the_other_mode_fail_nginx_t(env):
    for mode, key in (("test", env.keys["live"]),
                      ("live", env.keys["test"])):
        ngx = Nginx(env.pg, http="payout_gateway mo connector=mollie "
                    "mode=%s url=%s secret_file=%s balance=%s;"
                    % (mode, env.mo.url, key, DEFAULT_BALANCE))
        try:
            out = ngx.check_config()
        finally:
            shutil.rmtree(ngx.dir, ignore_errors=True)
        xfail_unknown_connector(out.stderr)
        assert out.returncode != 0, out.stderr
        assert "[emerg]" in out.stderr and "mode=" in out.stderr, out.stderr
        assert MOLLIE_KEY not in out.stderr and LIVE_KEY not in out.stderr


def test_modes_do_not_cross(env, ngx, tenant, http):
    live_key = payoutctl(env.pg, "key", "create", "--tenant", tenant.name,
                         "--mode", "live").stdout.strip()
    live = Tenant(env.pg, tenant.name, live_key, "live")
    bals = [balance_id(), balance_id()]
    r = post_payout(http, ngx, tenant, to_balance(bals[0],
                                                  gateway="mollie_live"))
    assert_error(r, 400, "gateway_mode_mismatch", "gateway")
    r = post_payout(http, ngx, live, to_balance(bals[1]))
    assert_error(r, 400, "gateway_mode_mismatch", "gateway")
    assert env.live_mo.calls == []
    assert not [c for c in env.mo.calls
                if any(b.encode() in c.body for b in bals)]
