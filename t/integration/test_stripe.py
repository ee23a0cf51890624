"""Payouts through the Stripe connector end to end (issue 8), against the
loopback stand-in of provider_standins.py, which answers a POST sent
again with the same Idempotency-Key with its first result, as Stripe
does.  Both destinations: bank accounts (enrolled as external accounts
of the connected account, paid out with Stripe-Account) and connected
accounts (transfers from the platform).  Enroll, create, webhook,
success; reversal (transfer.reversed, payout paid then failed), failure,
cancel, lost answers re-sent with the same key, kill -9 of the worker
during the provider call, duplicate and out-of-order webhooks, bad and
stale signatures, the provider's refusals, and test/live separation.

One nginx and one stand-in for the module; every test pays its own
account number or connected account."""

import re
import shutil
import time
import uuid as uuidlib

import pytest
import requests

from conftest import Nginx, Tenant, payoutctl
from fault_helpers import kill_workers
from payout_helpers import (assert_error, assert_history, create, events,
                            get_payout, post_json, wait_for, wait_status)
from provider_standins import (STRIPE_KEY, STRIPE_WHSEC, Site, Stripe,
                               gateway_error, in_thread)

LIVE_KEY = "sk_live_" + "e2eStripeLive0123456789A"
PLATFORM_BANK_ACCOUNT = "acct_1E2eBankOwner0001"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def env(pg):
    e = Site(pg)
    e.st = e.add(Stripe())
    e.live_st = e.add(Stripe(key=LIVE_KEY))
    e.keys = {"test": e.key("stripe.key", STRIPE_KEY),
              "live": e.key("stripe-live.key", LIVE_KEY),
              "whsec": e.key("stripe.whsec", STRIPE_WHSEC)}
    e.start("""
    payout_gateway stripe connector=stripe mode=test url=%s
                   secret_file=%s webhook_secret_file=%s
                   account=%s timeout=1s;
    payout_gateway stripe_live connector=stripe mode=live url=%s
                   secret_file=%s webhook_secret_file=%s
                   account=%s timeout=1s;
""" % (e.st.url, e.keys["test"], e.keys["whsec"], PLATFORM_BANK_ACCOUNT,
       e.live_st.url, e.keys["live"], e.keys["whsec"],
       PLATFORM_BANK_ACCOUNT))
    yield e
    e.close()


@pytest.fixture
def st(env):
    yield from env.fresh(env.st)


@pytest.fixture
def ngx(env):
    return env.ngx


def number():
    return "000%09d" % (uuidlib.uuid4().int % 10 ** 9)


def connected():
    return "acct_1E2e%012d" % (uuidlib.uuid4().int % 10 ** 12)


def bank(account_number=None, **kw):
    b = {"amount": 2500, "currency": "USD", "gateway": "stripe",
         "narration": "Weekly seller settlement",
         "bank_account_number": account_number or number(),
         "bank_account_name": "JENNY ROSEN", "bank_code": "110000000",
         "country": "US"}
    b.update(kw)
    return b


def to_account(acct=None, **kw):
    b = {"amount": 2500, "currency": "USD", "gateway": "stripe",
         "narration": "Weekly seller settlement",
         "recipient_type": "connected_account",
         "account_id": acct or connected()}
    b.update(kw)
    return b


def moves(st, u, path="/v1/payouts"):
    """The money-moving POSTs for payout u."""
    return [c for c in st.got("POST", path) if c.path == path
            and c.form.get("metadata[payout_uuid]") == u]


def row(pg, u):
    return pg.sql("SELECT sub_status, gateway_payout_id, failure_reason, "
                  "updated_at FROM payouts WHERE uuid = %s", (u,))[0]


def bank_payout(http, ngx, tenant, st, **kw):
    """A bank payout Stripe accepted (pending_promise); uuid, po_ id."""
    out = create(http, ngx, tenant, bank(**kw))
    u = out["payout_uuid"]
    assert out["status"] == "pending_promise", out
    assert st.executed(u) == 1
    return u, st.find(u)["id"]


# -- enrollment --------------------------------------------------------------

def test_enroll_a_bank_recipient_once(st, ngx, tenant, http):
    n = number()
    r = post_json(http, ngx, tenant, "/v1/payout-recipients", {
        "gateway": "stripe", "bank_account_number": n,
        "bank_account_name": "JENNY ROSEN", "bank_code": "110000000",
        "country": "US"})
    assert r.status_code == 201, r.text
    ru = r.json()["uuid"]
    path = "/v1/payout-recipients/%s/accounts" % ru
    r = post_json(http, ngx, tenant, path, {"currency": "USD"})
    assert r.status_code == 201, r.text
    code = r.json()["gateway_recipient_code"]
    assert code.startswith("ba_")
    def enrolls():
        return [c for c in st.got("POST", "/v1/accounts/")
                if c.form["external_account[account_number]"] == n]
    (call,) = enrolls()
    assert call.path == ("/v1/accounts/%s/external_accounts"
                         % PLATFORM_BANK_ACCOUNT)
    assert call.headers["idempotency-key"] == "enroll-" + ru
    assert call.headers["content-type"] == FORM
    f = call.form
    assert f["external_account[object]"] == "bank_account"
    assert f["external_account[country]"] == "US"
    assert f["external_account[currency]"] == "usd"
    assert f["external_account[account_number]"] == n
    assert f["external_account[routing_number]"] == "110000000"
    assert f["metadata[recipient_uuid]"] == ru

    r = post_json(http, ngx, tenant, path, {"currency": "USD"})
    assert r.status_code == 200, r.text
    assert r.json()["gateway_recipient_code"] == code
    assert len(enrolls()) == 1


# -- bank payouts ------------------------------------------------------------

def test_bank_payout_success(st, env, ngx, tenant, http):
    n = number()
    out = create(http, ngx, tenant, bank(n))
    u = out["payout_uuid"]
    assert out["status"] == "pending_promise", out
    (payout,) = moves(st, u)
    ba = payout.form["destination"]
    assert st.objects[ba]["_number"] == n
    assert payout.headers["idempotency-key"] == u
    assert payout.headers["stripe-account"] == PLATFORM_BANK_ACCOUNT
    assert payout.headers["content-type"] == FORM
    assert payout.headers["stripe-version"] == "2023-09-12"
    assert payout.form["amount"] == "2500"
    assert payout.form["currency"] == "usd"
    po = st.find(u)["id"]
    assert row(env.pg, u)[1] == po

    # live status asks Stripe, on the connected account
    r = http.get(ngx.url("/v1/payouts/%s/status" % u),
                 headers=tenant.headers)
    assert r.status_code == 200, r.text
    (look,) = st.got("GET", "/v1/payouts/" + po)
    assert look.headers["stripe-account"] == PLATFORM_BANK_ACCOUNT

    r = st.hook(ngx, "payout.paid", po, status="paid")
    assert r.status_code == 200, r.text
    wait_status(http, ngx, tenant, u, "success")
    assert assert_history(env.pg, u) == [
        "pending_created", "pending_promise", "success"]
    assert st.executed(u) == 1


def test_bank_payout_paid_then_failed_is_reversed(st, env, ngx, tenant,
                                                  http):
    u, po = bank_payout(http, ngx, tenant, st)
    assert st.hook(ngx, "payout.paid", po, status="paid").status_code == 200
    wait_status(http, ngx, tenant, u, "success")
    r = st.hook(ngx, "payout.failed", po, status="failed",
                failure_code="account_closed")
    assert r.status_code == 200, r.text
    wait_status(http, ngx, tenant, u, "canceled_reversed")
    assert assert_history(env.pg, u)[-2:] == ["success", "canceled_reversed"]


def test_bank_payout_failure(st, env, ngx, tenant, http):
    u, po = bank_payout(http, ngx, tenant, st)
    r = st.hook(ngx, "payout.failed", po, status="failed",
                failure_code="no_account",
                failure_message="The bank account could not be located.")
    assert r.status_code == 200, r.text
    p = wait_status(http, ngx, tenant, u, "canceled_failure")
    assert p["failure_reason"] == "no_account", p


def test_cancel_a_bank_payout(st, env, ngx, tenant, http):
    u, po = bank_payout(http, ngx, tenant, st)
    r = post_json(http, ngx, tenant, "/v1/payouts/%s/cancel" % u, {})
    assert r.status_code == 200, r.text
    p = wait_status(http, ngx, tenant, u, "canceled_voided")
    assert p["status"] == "canceled"
    (c,) = st.got("POST", "/v1/payouts/%s/cancel" % po)
    assert c.headers["content-type"] == FORM
    assert c.headers["idempotency-key"] == "cancel-" + u
    assert c.headers["stripe-account"] == PLATFORM_BANK_ACCOUNT
    assert c.body == b""
    assert st.objects[po]["status"] == "canceled"
    # the canceled event that follows changes nothing
    assert st.hook(ngx, "payout.canceled", po).status_code == 200
    assert get_payout(http, ngx, tenant, u)["sub_status"] == \
        "canceled_voided"


# -- connected accounts ------------------------------------------------------

def test_transfer_to_a_connected_account_and_reversal(st, env, ngx, tenant,
                                                      http):
    acct = connected()
    enrolled = len(st.got("POST", "/v1/accounts/"))
    out = create(http, ngx, tenant, to_account(acct))
    u = out["payout_uuid"]
    assert out["status"] == "success", out
    (tr,) = moves(st, u, "/v1/transfers")
    assert "stripe-account" not in tr.headers
    assert tr.headers["idempotency-key"] == u
    assert tr.headers["content-type"] == FORM
    assert tr.form["destination"] == acct
    assert tr.form["transfer_group"] == u
    assert tr.form["currency"] == "usd"
    assert len(st.got("POST", "/v1/accounts/")) == enrolled
    tid = st.find(u)["id"]

    r = http.get(ngx.url("/v1/payouts/%s/status" % u),
                 headers=tenant.headers)
    assert r.status_code == 200, r.text
    (look,) = st.got("GET", "/v1/transfers/" + tid)
    assert "stripe-account" not in look.headers

    # a transfer is made at once: final, it can only be reversed
    r = post_json(http, ngx, tenant, "/v1/payouts/%s/cancel" % u, {})
    assert_error(r, 409, "invalid_state")
    assert not st.got("POST", "/v1/transfers/")

    r = st.hook(ngx, "transfer.reversed", tid, reversed=True,
                amount_reversed=2500)
    assert r.status_code == 200, r.text
    wait_status(http, ngx, tenant, u, "canceled_reversed")
    assert assert_history(env.pg, u)[-2:] == ["success", "canceled_reversed"]


def test_events_found_by_the_stripe_id(st, env, ngx, tenant, http):
    """An object without our metadata (made or edited elsewhere) finds
    its payout by the provider's id; transfer.updated once reversed is a
    reversal."""
    u, po = bank_payout(http, ngx, tenant, st)
    r = st.hook(ngx, "payout.paid", po, apply=False, status="paid",
                metadata={})
    assert r.status_code == 200, r.text
    wait_status(http, ngx, tenant, u, "success")

    out = create(http, ngx, tenant, to_account())
    assert out["status"] == "success", out
    tid = st.find(out["payout_uuid"])["id"]
    r = st.hook(ngx, "transfer.updated", tid, reversed=True, metadata={},
                amount_reversed=2500)
    assert r.status_code == 200, r.text
    wait_status(http, ngx, tenant, out["payout_uuid"], "canceled_reversed")


# -- lost answers ------------------------------------------------------------

def test_no_answer_is_sent_again_with_the_same_key(st, env, ngx, tenant,
                                                   http):
    n = number()
    st.outcome[n] = "drop"
    out = create(http, ngx, tenant, bank(n))
    u = out["payout_uuid"]
    assert out["status"] == "pending_created", out
    wait_status(http, ngx, tenant, u, "pending_promise", timeout=15)
    sent = moves(st, u)
    assert len(sent) >= 2 and {c.headers["idempotency-key"]
                               for c in sent} == {u}
    assert len({c.body for c in sent}) == 1
    assert st.executed(u) == 1


def test_timeout_is_sent_again_with_the_same_key(st, env, ngx, tenant, http):
    """The answer comes after the gateway's timeout (1 s); a resend
    while Stripe still works on the first is a 409, then the replay."""
    st.hold_max = 2.0
    n = number()
    st.outcome[n] = "hold"
    out = create(http, ngx, tenant, bank(n))
    u = out["payout_uuid"]
    assert out["status"] == "pending_created", out
    wait_status(http, ngx, tenant, u, "pending_promise", timeout=15)
    assert st.executed(u) == 1
    assert {c.headers["idempotency-key"] for c in moves(st, u)} == {u}


def test_unexecuted_5xx_is_sent_again_once(st, env, ngx, tenant, http):
    acct = connected()
    st.outcome[acct] = "error"
    out = create(http, ngx, tenant, to_account(acct))
    u = out["payout_uuid"]
    assert out["status"] == "pending_created", out
    wait_status(http, ngx, tenant, u, "success", timeout=15)
    assert st.executed(u) == 1
    assert {c.headers["idempotency-key"]
            for c in moves(st, u, "/v1/transfers")} == {u}


def test_kill_9_during_the_provider_call(st, env, ngx, tenant, http):
    n = number()
    st.outcome[n] = "hold"
    pending = in_thread(requests.post, ngx.url("/v1/payouts"),
                        json=bank(n), headers=tenant.headers, timeout=20)
    wait_for(st.held.is_set, 10, what="the payout held")
    (call,) = [c for c in st.got("POST", "/v1/payouts")
               if c.path == "/v1/payouts"
               and st.objects.get(c.form.get("destination"), {})
               .get("_number") == n]
    u = call.form["metadata[payout_uuid]"]
    env.killed |= kill_workers(ngx, 1)
    with pytest.raises(requests.exceptions.ConnectionError):
        pending.result(timeout=10)
    st.release()
    wait_status(http, ngx, tenant, u, "pending_promise", timeout=15)
    assert st.executed(u) == 1
    po = st.find(u)["id"]
    assert st.hook(ngx, "payout.paid", po, status="paid").status_code == 200
    wait_status(http, ngx, tenant, u, "success")
    assert [s for _f, s, _src in events(env.pg, u)] == [
        "pending_created", "pending_promise", "success"]


# -- webhooks ----------------------------------------------------------------

def test_duplicate_and_out_of_order_webhooks(st, env, ngx, tenant, http):
    u, po = bank_payout(http, ngx, tenant, st)
    in_transit = st.event("payout.updated", po, status="in_transit")
    paid = st.event("payout.paid", po, status="paid")
    for b in (paid, paid):
        r = st.hook(ngx, None, po, body=b)
        assert r.status_code == 200, r.text
    wait_status(http, ngx, tenant, u, "success")
    for b in (in_transit, st.event("payout.canceled", po, status="canceled"),
              paid):
        r = st.hook(ngx, None, po, body=b)
        assert r.status_code == 200, r.text
    assert get_payout(http, ngx, tenant, u)["sub_status"] == "success"
    assert assert_history(env.pg, u) == [
        "pending_created", "pending_promise", "success"]


def test_bad_and_stale_signatures_change_nothing(st, env, ngx, tenant,
                                                 http):
    u, po = bank_payout(http, ngx, tenant, st)
    before = row(env.pg, u)
    b = st.event("payout.paid", po, apply=False, status="paid")
    now = int(time.time())
    for sig in (st.sign(b, secret="whsec_other"), st.sign(b, t=now - 600),
                st.sign(b, t=now + 600), st.sign(b + b" "),
                "t=%d" % now, "v1=" + "0" * 64, ""):
        r = st.hook(ngx, None, po, body=b, signature=sig)
        assert r.status_code == 401, (sig, r.text)
    assert row(env.pg, u) == before
    assert get_payout(http, ngx, tenant, u)["sub_status"] == \
        "pending_promise"


# -- refusals ----------------------------------------------------------------

def test_refused_at_initiation(st, env, ngx, tenant, http):
    acct = connected()
    st.outcome[acct] = "reject"
    r = post_json(http, ngx, tenant, "/v1/payouts", to_account(acct))
    out = gateway_error(r, 400, "gateway_rejected")
    assert out["sub_status"] == "canceled_rejected", out
    p = get_payout(http, ngx, tenant, out["payout_uuid"])
    assert p["sub_status"] == "canceled_rejected"
    assert p["failure_reason"] == "balance_insufficient", p


def test_bad_key_is_gateway_auth_failed(st, env, ngx, tenant, http):
    acct = connected()
    st.outcome[acct] = "auth"
    out = create(http, ngx, tenant, to_account(acct))
    u = out["payout_uuid"]
    assert out["status"] == "canceled_failure", out
    p = get_payout(http, ngx, tenant, u)
    assert p["sub_status"] == "canceled_failure", p
    assert p["failure_reason"] == "gateway_auth_failed", p
    assert len(moves(st, u, "/v1/transfers")) == 1
    with open(ngx.error_log, errors="replace") as f:
        log = f.read()
    assert re.search(r'\[error\].*gateway "stripe" refused its secret key',
                     log), log
    assert STRIPE_KEY not in log and STRIPE_WHSEC not in log


# -- test and live -----------------------------------------------------------

def test_keys_of_the_other_mode_fail_nginx_t(env):
    for mode, key in (("test", env.keys["live"]),
                      ("live", env.keys["test"])):
        ngx = Nginx(env.pg, http="payout_gateway st connector=stripe "
                    "mode=%s url=%s secret_file=%s webhook_secret_file=%s;"
                    % (mode, env.st.url, key, env.keys["whsec"]))
        try:
            out = ngx.check_config()
        finally:
            shutil.rmtree(ngx.dir, ignore_errors=True)
        assert out.returncode != 0, out.stderr
        assert "[emerg]" in out.stderr, out.stderr
        assert STRIPE_KEY not in out.stderr and LIVE_KEY not in out.stderr


def test_modes_do_not_cross(env, ngx, tenant, http):
    """A test key cannot pay through the live gateway, a live key not
    through the test one; neither Stripe hears of it."""
    live_key = payoutctl(env.pg, "key", "create", "--tenant", tenant.name,
                         "--mode", "live").stdout.strip()
    live = Tenant(env.pg, tenant.name, live_key, "live")
    numbers, accounts = [number(), number()], [connected(), connected()]
    for b in (bank(numbers[0], gateway="stripe_live"),
              to_account(accounts[0], gateway="stripe_live")):
        r = post_json(http, ngx, tenant, "/v1/payouts", b)
        assert_error(r, 400, "gateway_mode_mismatch", "gateway")
    for b in (bank(numbers[1]), to_account(accounts[1])):
        r = post_json(http, ngx, live, "/v1/payouts", b)
        assert_error(r, 400, "gateway_mode_mismatch", "gateway")
    assert env.live_st.calls == []
    assert not [c for c in env.st.calls
                if any(x.encode() in c.body for x in numbers + accounts)]
