"""Payouts through the Paystack connector end to end (issue 8), against
the loopback stand-in of provider_standins.py, which keeps transfers by
reference like Paystack does: enroll, create, webhook, success; reversal,
failure, OTP and finalize, lost answers settled by the reconciler (never
a second transfer), kill -9 of the worker during the provider call,
duplicate and out-of-order webhooks, bad signatures, the provider's
refusals, and test/live separation.

One nginx and one stand-in for the module; every test pays its own
account number."""

import re
import shutil
import uuid as uuidlib

import pytest
import requests

from conftest import Nginx, Tenant, payoutctl
from fault_helpers import kill_workers
from payout_helpers import (assert_error, assert_history, create, events,
                            get_payout, post_json, wait_for, wait_status)
from provider_standins import (OTP, PAYSTACK_KEY, Paystack, Site,
                               gateway_error, in_thread)

LIVE_KEY = "sk_live_" + "e2e1" * 10
# a Paystack recipient has a currency; our recipient does not
ENROLL = {"currency": "NGN"}


@pytest.fixture(scope="module")
def env(pg):
    e = Site(pg)
    e.ps = e.add(Paystack())
    e.live_ps = e.add(Paystack(key=LIVE_KEY))
    e.start("""
    payout_gateway paystack connector=paystack mode=test url=%s
                   secret_file=%s timeout=1s;
    payout_gateway paystack_live connector=paystack mode=live url=%s
                   secret_file=%s timeout=1s;
""" % (e.ps.url, e.key("paystack.key", PAYSTACK_KEY), e.live_ps.url,
       e.key("paystack-live.key", LIVE_KEY)))
    yield e
    e.close()


@pytest.fixture
def ps(env):
    yield from env.fresh(env.ps)


@pytest.fixture
def ngx(env):
    return env.ngx


def account():
    return "0%09d" % (uuidlib.uuid4().int % 10 ** 9)


def body(number=None, **kw):
    b = {"amount": 150000, "currency": "NGN", "gateway": "paystack",
         "narration": "Weekly seller settlement",
         "bank_account_number": number or account(),
         "bank_account_name": "JOHN SELLER", "bank_code": "058"}
    b.update(kw)
    return b


def transfers(ps, u):
    return [c for c in ps.got("POST", "/transfer")
            if c.path == "/transfer" and c.json.get("reference") == u]


def row(pg, u):
    return pg.sql("SELECT sub_status, gateway_payout_id, failure_reason, "
                  "next_action, updated_at FROM payouts WHERE uuid = %s",
                  (u,))[0]


def paid(http, ngx, tenant, ps, **kw):
    """A payout accepted by Paystack (pending_promise); its uuid."""
    out = create(http, ngx, tenant, body(**kw))
    u = out["payout_uuid"]
    assert out["status"] == "pending_promise", out
    assert ps.executed(u) == 1
    return u


# -- enroll, create, webhook, success ----------------------------------------

def test_enroll_a_recipient_once(ps, ngx, tenant, http):
    number = account()
    r = post_json(http, ngx, tenant, "/v1/payout-recipients", {
        "gateway": "paystack", "bank_account_number": number,
        "bank_account_name": "JOHN SELLER", "bank_code": "058"})
    assert r.status_code == 201, r.text
    ru = r.json()["uuid"]

    r = post_json(http, ngx, tenant, "/v1/payout-recipients/%s/accounts"
                  % ru, ENROLL)
    assert r.status_code == 201, r.text
    code = r.json()["gateway_recipient_code"]
    assert code == ps.codes[number]
    def enrolls():
        return [c for c in ps.got("POST", "/transferrecipient")
                if c.json["account_number"] == number]
    (call,) = enrolls()
    assert call.json == {"type": "nuban", "name": "JOHN SELLER",
                         "account_number": number, "bank_code": "058",
                         "currency": "NGN"}

    # again: the stored code, no second provider call
    r = post_json(http, ngx, tenant, "/v1/payout-recipients/%s/accounts"
                  % ru, ENROLL)
    assert r.status_code == 200, r.text
    assert r.json()["gateway_recipient_code"] == code
    assert len(enrolls()) == 1

    # a payout to the enrolled recipient uses the code, enrolls nothing
    out = create(http, ngx, tenant, {"amount": 5000, "currency": "NGN",
                                     "gateway": "paystack",
                                     "recipient_uuid": ru})
    assert out["status"] == "pending_promise", out
    (t,) = transfers(ps, out["payout_uuid"])
    assert t.json["recipient"] == code
    assert len(enrolls()) == 1


def test_payout_success(ps, env, ngx, tenant, http):
    number = account()
    out = create(http, ngx, tenant, body(number))
    u = out["payout_uuid"]
    assert out["status"] == "pending_promise", out

    # enrolled first, then the transfer Paystack's spec describes
    enroll, transfer = [c for c in ps.calls if c.method == "POST"
                        and c.json.get("account_number", number) == number
                        and (c.path == "/transferrecipient"
                             or c.json.get("reference") == u)]
    assert enroll.path == "/transferrecipient"
    assert transfer.json == {"source": "balance", "amount": 150000,
                             "recipient": ps.codes[number],
                             "reason": "Weekly seller settlement",
                             "currency": "NGN", "reference": u}
    assert transfer.headers["authorization"] == "Bearer " + PAYSTACK_KEY
    assert row(env.pg, u)[1] == ps.transfers[u]["transfer_code"]

    r = ps.hook(ngx, "transfer.success", u)
    assert r.status_code == 200, r.text
    p = wait_status(http, ngx, tenant, u, "success")
    assert p["status"] == "success"
    assert assert_history(env.pg, u, ends="success") == [
        "pending_created", "pending_promise", "success"]
    assert ps.executed(u) == 1


def test_reversal_after_success(ps, env, ngx, tenant, http):
    u = paid(http, ngx, tenant, ps)
    assert ps.hook(ngx, "transfer.success", u).status_code == 200
    wait_status(http, ngx, tenant, u, "success")
    assert ps.hook(ngx, "transfer.reversed", u).status_code == 200
    p = wait_status(http, ngx, tenant, u, "canceled_reversed")
    assert assert_history(env.pg, u)[-2:] == ["success", "canceled_reversed"]
    assert p["sub_status"] == "canceled_reversed"


def test_failure(ps, env, ngx, tenant, http):
    u = paid(http, ngx, tenant, ps)
    assert ps.hook(ngx, "transfer.failed", u).status_code == 200
    p = wait_status(http, ngx, tenant, u, "canceled_failure")
    assert p["failure_reason"] == "Could not credit account", p
    assert ps.executed(u) == 1


def test_no_cancel(ps, ngx, tenant, http):
    u = paid(http, ngx, tenant, ps)
    r = post_json(http, ngx, tenant, "/v1/payouts/%s/cancel" % u, {})
    assert_error(r, 422, "not_supported")
    assert get_payout(http, ngx, tenant, u)["sub_status"] == \
        "pending_promise"


# -- OTP -------------------------------------------------------------------

def test_otp_and_finalize(ps, env, ngx, tenant, http):
    number = account()
    ps.outcome[number] = "otp"
    out = create(http, ngx, tenant, body(number))
    u = out["payout_uuid"]
    assert out["status"] == "pending_created", out
    assert out.get("next_action", {"type": "otp_required"}) == {"type": "otp_required"}, out
    assert get_payout(http, ngx, tenant, u)["next_action"] == {"type": "otp_required"}
    code = ps.transfers[u]["transfer_code"]

    # a wrong OTP: refused, the payout keeps waiting
    r = post_json(http, ngx, tenant, "/v1/payouts/%s/finalize" % u,
                  {"otp": "000000"})
    err = gateway_error(r, 400, "gateway_rejected")
    assert err["failure_reason"] == "Invalid OTP", err
    p = get_payout(http, ngx, tenant, u)
    assert p["sub_status"] == "pending_created"
    assert p["next_action"] == {"type": "otp_required"}

    r = post_json(http, ngx, tenant, "/v1/payouts/%s/finalize" % u,
                  {"otp": OTP})
    assert r.status_code == 200, r.text
    p = get_payout(http, ngx, tenant, u)
    assert p["sub_status"] == "pending_promise", p
    assert p["next_action"] is None, p
    finals = [c for c in ps.got("POST", "/transfer/finalize_transfer")
              if c.json["transfer_code"] == code]
    assert [c.json for c in finals] == [
        {"transfer_code": code, "otp": "000000"},
        {"transfer_code": code, "otp": OTP}]

    assert ps.hook(ngx, "transfer.success", u).status_code == 200
    wait_status(http, ngx, tenant, u, "success")
    assert ps.executed(u) == 1


# -- lost answers, the reconciler, never a second transfer --------------------

def test_no_answer_is_reconciled(ps, env, ngx, tenant, http):
    """Paystack executed the transfer but the answer never came: the
    payout waits in pending_created; the reconciler's verify finds it."""
    number = account()
    ps.outcome[number] = "drop"
    out = create(http, ngx, tenant, body(number))
    u = out["payout_uuid"]
    assert out["status"] == "pending_created", out
    p = wait_status(http, ngx, tenant, u, "pending_promise", timeout=15)
    assert p["status"] == "pending"
    assert ps.got("GET", "/transfer/verify/" + u)
    # libcurl may send it once more on its own (a reused connection that
    # closed unanswered): the same reference, one transfer
    assert ps.executed(u) == 1
    assert len({c.body for c in transfers(ps, u)}) == 1
    assert ps.hook(ngx, "transfer.success", u).status_code == 200
    wait_status(http, ngx, tenant, u, "success")
    assert ps.executed(u) == 1


def test_timeout_is_reconciled(ps, env, ngx, tenant, http):
    """The answer comes after the gateway's timeout (1 s)."""
    ps.hold_max = 2.0
    number = account()
    ps.outcome[number] = "hold"
    out = create(http, ngx, tenant, body(number))
    u = out["payout_uuid"]
    assert out["status"] == "pending_created", out
    wait_status(http, ngx, tenant, u, "pending_promise", timeout=15)
    assert ps.executed(u) == 1


def test_unexecuted_is_sent_again_once(ps, env, ngx, tenant, http):
    """A 500 that executed nothing: the verify finds no transfer, the
    reconciler sends it again with the same reference, once."""
    number = account()
    ps.outcome[number] = "error"
    out = create(http, ngx, tenant, body(number))
    u = out["payout_uuid"]
    assert out["status"] == "pending_created", out
    assert ps.executed(u) == 0
    wait_status(http, ngx, tenant, u, "pending_promise", timeout=15)
    assert ps.executed(u) == 1
    assert len(transfers(ps, u)) == 2
    assert {c.json["reference"] for c in transfers(ps, u)} == {u}


def test_kill_9_during_the_provider_call(ps, env, ngx, tenant, http):
    """The worker dies while Paystack holds the answer; the new worker's
    reconciler settles it with one verify, no second transfer."""
    number = account()
    ps.outcome[number] = "hold"
    pending = in_thread(requests.post, ngx.url("/v1/payouts"),
                        json=body(number), headers=tenant.headers,
                        timeout=20)
    wait_for(ps.held.is_set, 10, what="the transfer held")
    u = next(c.json["reference"] for c in ps.got("POST", "/transfer")
             if c.path == "/transfer"
             and ps.recipients.get(c.json["recipient"], {})
             .get("account_number") == number)
    env.killed |= kill_workers(ngx, 1)
    with pytest.raises(requests.exceptions.ConnectionError):
        pending.result(timeout=10)
    ps.release()
    p = wait_status(http, ngx, tenant, u, "pending_promise", timeout=15)
    assert p["status"] == "pending"
    assert ps.executed(u) == 1 and len(transfers(ps, u)) == 1
    assert ps.hook(ngx, "transfer.success", u).status_code == 200
    wait_status(http, ngx, tenant, u, "success")
    assert [s for _f, s, _src in events(env.pg, u)] == [
        "pending_created", "pending_promise", "success"]


# -- webhooks: duplicates, out of order, signatures ---------------------------

def test_duplicate_and_out_of_order_webhooks(ps, env, ngx, tenant, http):
    u = paid(http, ngx, tenant, ps)
    success = ps.event("transfer.success", u)
    for _ in range(2):
        r = ps.hook(ngx, None, u, body=success)
        assert r.status_code == 200, r.text
    wait_status(http, ngx, tenant, u, "success")
    # a late failure never moves a paid payout back
    r = ps.hook(ngx, None, u, body=ps.event("transfer.failed", u))
    assert r.status_code == 200, r.text
    r = ps.hook(ngx, None, u, body=success)
    assert r.status_code == 200, r.text
    assert get_payout(http, ngx, tenant, u)["sub_status"] == "success"
    assert assert_history(env.pg, u) == [
        "pending_created", "pending_promise", "success"]


def test_bad_signature_changes_nothing(ps, env, ngx, tenant, http):
    u = paid(http, ngx, tenant, ps)
    before = row(env.pg, u)
    event = ps.event("transfer.success", u, apply=False)
    for sig in ("0" * 128, ps.sign(event + b" "), "", ps.sign(event)[:64]):
        r = ps.hook(ngx, None, u, body=event, signature=sig)
        assert r.status_code == 401, (sig, r.text)
    # signed with another key (the live one)
    other = Paystack(key=LIVE_KEY)
    r = other.hook(ngx, None, u, body=event, signature=other.sign(event))
    assert r.status_code == 401, r.text
    assert row(env.pg, u) == before


# -- the provider's refusals ------------------------------------------------


def test_refused_at_initiation(ps, env, ngx, tenant, http):
    number = account()
    ps.outcome[number] = "reject"
    r = post_json(http, ngx, tenant, "/v1/payouts", body(number))
    out = gateway_error(r, 400, "gateway_rejected")
    u = out["payout_uuid"]
    assert out["sub_status"] == "canceled_rejected", out
    p = get_payout(http, ngx, tenant, u)
    assert p["sub_status"] == "canceled_rejected"
    assert "balance is not enough" in p["failure_reason"], p
    assert ps.executed(u) == 0


def test_bad_key_is_gateway_auth_failed(ps, env, ngx, tenant, http):
    number = account()
    ps.outcome[number] = "auth"
    out = create(http, ngx, tenant, body(number))
    u = out["payout_uuid"]
    assert out["status"] == "canceled_failure", out
    p = get_payout(http, ngx, tenant, u)
    assert p["sub_status"] == "canceled_failure", p
    assert p["failure_reason"] == "gateway_auth_failed", p
    assert len(transfers(ps, u)) == 1
    with open(ngx.error_log, errors="replace") as f:
        log = f.read()
    assert re.search(r'\[error\].*gateway "paystack" refused its secret key',
                     log), log
    assert PAYSTACK_KEY not in log


# -- test and live ---------------------------------------------------------

def test_keys_of_the_other_mode_fail_nginx_t(env):
    for mode, key in (("test", LIVE_KEY), ("live", PAYSTACK_KEY)):
        path = env.key("wrong-%s.key" % mode, key)
        ngx = Nginx(env.pg, http="payout_gateway ps connector=paystack "
                    "mode=%s url=%s secret_file=%s;"
                    % (mode, env.ps.url, path))
        try:
            out = ngx.check_config()
        finally:
            shutil.rmtree(ngx.dir, ignore_errors=True)
        assert out.returncode != 0, out.stderr
        assert "[emerg]" in out.stderr and "mode=" + mode in out.stderr, \
            out.stderr
        assert key not in out.stderr


def test_modes_do_not_cross(env, ngx, tenant, http):
    """A test key cannot pay through the live gateway, a live key not
    through the test one; neither provider hears of it."""
    live_key = payoutctl(env.pg, "key", "create", "--tenant", tenant.name,
                         "--mode", "live").stdout.strip()
    live = Tenant(env.pg, tenant.name, live_key, "live")
    numbers = [account() for _ in range(3)]
    r = post_json(http, ngx, tenant, "/v1/payouts",
                  body(numbers[0], gateway="paystack_live"))
    assert_error(r, 400, "gateway_mode_mismatch", "gateway")
    r = post_json(http, ngx, live, "/v1/payouts", body(numbers[1]))
    assert_error(r, 400, "gateway_mode_mismatch", "gateway")
    r = post_json(http, ngx, live, "/v1/payout-recipients", {
        "gateway": "paystack", "bank_account_number": numbers[2],
        "bank_account_name": "JOHN SELLER", "bank_code": "058"})
    assert_error(r, 400, "gateway_mode_mismatch", "gateway")
    # the live Paystack never got a call; the test one none of these
    assert env.live_ps.calls == []
    assert not [c for c in env.ps.calls
                if any(n.encode() in c.body for n in numbers)]
