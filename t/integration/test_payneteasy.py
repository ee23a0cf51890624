"""Payouts through the PaynetEasy connector end to end (issue 14, seed
003), against the loopback stand-in of provider_standins.py, which
checks the OAuth RSA-SHA256 signature with the public key, the control
checksums, the form encoding and the documented lengths: async-response
then approved by polling; declined; validation-error (400
gateway_rejected); redirect-to (next_action {"type": "redirect"} in get
and in a webhook event) then approved; a callback (GET) before the poll
sees the final status, confirmed by one status request; a forged
callback; no answer to the create (status by client_orderid, sent again
only when the provider has no such order).

One nginx and one stand-in for the module; every test pays its own
account number."""

import time
import uuid as uuidlib

import pytest

from payout_helpers import (assert_history, create, get_payout, wait_for,
                            wait_status)
from provider_standins import (PNE_CONTROL, PNE_ENDPOINT, PNE_LOGIN,
                               PaynetEasy, Site, gateway_error, pne_keys)

PUBLIC = "https://pay.example.com"


@pytest.fixture(scope="module")
def env(pg):
    private, public = pne_keys()
    e = Site(pg)
    e.pne = e.add(PaynetEasy(public))
    e.start("""
    payout_public_url %s;
    payout_gateway paysoft connector=payneteasy mode=test url=%s/paynet
                   endpoint=%s login=%s rsa_key_file=%s secret_file=%s
                   timeout=1s;
""" % (PUBLIC, e.pne.url, PNE_ENDPOINT, PNE_LOGIN,
       e.key("paysoft.pem", private.strip()),
       e.key("paysoft.control", PNE_CONTROL)))
    yield e
    e.close()


@pytest.fixture
def pne(env):
    for s in env.fresh(env.pne):
        yield s
        assert not s.problems, s.problems


@pytest.fixture
def ngx(env):
    return env.ngx


def account():
    return "4%09d" % (uuidlib.uuid4().int % 10 ** 9)


def body(number=None, **kw):
    b = {"amount": 250000, "currency": "USD", "gateway": "paysoft",
         "narration": "Weekly seller settlement",
         "bank_account_number": number or account(),
         "bank_account_name": "JOHN SELLER", "bank_code": "021000021"}
    b.update(kw)
    return b


def sent(http, ngx, tenant, pne, **kw):
    """A payout PaynetEasy took (async-response: pending_promise)."""
    out = create(http, ngx, tenant, body(**kw))
    u = out["payout_uuid"]
    assert out["status"] == "pending_promise", out
    assert pne.executed(u) == 1
    assert out["gateway_payout_id"] == pne.orders[u]["orderid"]
    return u


def payout_events(pg, u):
    """The merchant webhook events of a payout: [(type, payload)]."""
    return pg.sql("SELECT e.event_type, e.payload FROM webhook_events e "
                  "JOIN payouts p ON p.id = e.payout_id WHERE p.uuid = %s "
                  "ORDER BY e.id", (u,))


# -- create, polling ----------------------------------------------------------

def test_async_response_then_approved_by_polling(pne, ngx, tenant, http, pg):
    number = account()
    u = sent(http, ngx, tenant, pne, number=number)

    (call,) = pne.payout_calls(u)
    f = call.form
    assert f["client_orderid"] == u
    assert f["amount"] == "2500.00" and f["currency"] == "USD"
    assert f["account_number"] == number
    assert f["order_desc"] == "Weekly seller settlement"
    assert f["server_callback_url"] == PUBLIC + "/hooks/paysoft"

    # the reconciler asks, every 3 to 5 seconds
    wait_for(lambda: len(pne.status_calls(u)) >= 2, timeout=15,
             what="two status requests")
    pne.set_status(u, "approved")
    p = wait_status(http, ngx, tenant, u, "success", timeout=10)
    assert p["next_action"] is None
    assert p["gateway_payout_id"] == pne.orders[u]["orderid"]
    assert_history(pg, u, ends="success")

    calls = pne.status_calls(u)
    first = calls[0].form
    assert first["login"] == PNE_LOGIN
    assert first["orderid"] == pne.orders[u]["orderid"]
    gaps = [b.at - a.at for a, b in zip(calls, calls[1:])]
    assert gaps and all(2.5 <= g <= 6.0 for g in gaps), gaps
    assert calls[0].at - call.at >= 2.5, calls[0].at - call.at

    # final: no more status requests
    n = len(pne.status_calls(u))
    time.sleep(5)
    assert len(pne.status_calls(u)) == n
    assert pne.executed(u) == 1


def test_declined(pne, ngx, tenant, http, pg):
    u = sent(http, ngx, tenant, pne)
    pne.set_status(u, "declined", error="Account closed")
    p = wait_status(http, ngx, tenant, u, "canceled_failure", timeout=12)
    assert p["failure_reason"] == "Account closed"
    assert_history(pg, u, ends="canceled_failure")


def test_validation_error_is_400_gateway_rejected(pne, ngx, tenant, http):
    number = account()
    pne.outcome[number] = "validation-error"
    r = http.post(ngx.url("/v1/payouts"), json=body(number),
                  headers=tenant.headers)
    out = gateway_error(r, 400, "gateway_rejected")
    assert out["sub_status"] == "canceled_rejected"
    assert out["failure_reason"] == "Invalid account_number"
    assert get_payout(http, ngx, tenant,
                      out["payout_uuid"])["sub_status"] \
        == "canceled_rejected"


def test_the_request_the_stand_in_refuses_is_rejected(pne, ngx, tenant,
                                                      http):
    """The stand-in is strict: a field longer than documented would be
    refused; the gateway's own limits keep it within."""
    u = sent(http, ngx, tenant, pne, narration="N" * 140)
    f = pne.payout_calls(u)[0].form
    assert len(f["order_desc"]) <= 64 and len(f["purpose"]) <= 128


# -- the receiver's form ------------------------------------------------------

def test_redirect_then_approved(pne, ngx, tenant, http, pg):
    u = sent(http, ngx, tenant, pne)
    form = "https://sandbox.payneteasy.com/paynet/form/payout/%s?x=1" \
        % pne.orders[u]["orderid"]
    pne.set_status(u, "processing", redirect=form)

    want = {"type": "redirect", "url": form}
    p = wait_for(lambda: (lambda p: p if p["next_action"] else None)(
        get_payout(http, ngx, tenant, u)), timeout=12,
        what="next_action redirect")
    assert p["next_action"] == want, p
    assert p["sub_status"] == "pending_promise"

    # one event for it, however often the poll sees the same form
    wait_for(lambda: len(pne.status_calls(u)) >= 3, timeout=15,
             what="more polls")
    evs = [pl for t, pl in payout_events(pg, u)
           if pl.get("next_action") == want]
    assert len(evs) == 1, payout_events(pg, u)
    assert evs[0]["event_type"] == "payout.pending_promise"

    pne.set_status(u, "approved")
    p = wait_status(http, ngx, tenant, u, "success", timeout=10)
    assert p["next_action"] is None
    last = payout_events(pg, u)[-1]
    assert last[0] == "payout.success" and last[1]["next_action"] is None
    assert_history(pg, u, ends="success")


# -- callbacks ----------------------------------------------------------------

def test_callback_before_the_poll_is_confirmed_by_one_status_request(
        pne, ngx, tenant, http, pg):
    u = sent(http, ngx, tenant, pne)
    pne.set_status(u, "approved")
    t0 = time.time()
    r = pne.callback(ngx, u)
    t1 = time.time()
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "applied"
    # applied once the status confirmed it, before the first poll (3 s)
    assert get_payout(http, ngx, tenant, u)["sub_status"] == "success"
    asked = [c for c in pne.status_calls(u) if t0 <= c.at <= t1]
    assert len(asked) == 1, asked
    before = len(pne.status_calls(u)) - 1

    # the same callback again: acknowledged, nothing asked, nothing moves
    r = pne.callback(ngx, u)
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] in ("duplicate", "ignored")
    assert len(pne.status_calls(u)) == before + 1

    # nothing moves it backwards: a late "declined" the status contradicts
    r = pne.callback(ngx, u, status="declined")
    assert r.status_code == 200, r.text
    assert get_payout(http, ngx, tenant, u)["sub_status"] == "success"
    assert_history(pg, u, ends="success")


def test_a_callback_the_status_does_not_confirm_moves_nothing(
        pne, ngx, tenant, http):
    u = sent(http, ngx, tenant, pne)
    r = pne.callback(ngx, u, status="approved")   # signed, but untrue
    assert r.status_code == 200, r.text
    assert get_payout(http, ngx, tenant, u)["sub_status"] \
        == "pending_promise"


def test_forged_callback_is_401(pne, ngx, tenant, http, pg):
    u = sent(http, ngx, tenant, pne)
    pne.set_status(u, "approved")
    before = len(pne.status_calls(u))
    row = pg.sql("SELECT sub_status, updated_at FROM payouts "
                 "WHERE uuid = %s", (u,))
    r = pne.callback(ngx, u, control="0" * 40)
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "invalid_signature"
    r = pne.callback(ngx, u, control="")
    assert r.status_code == 401, r.text
    assert pg.sql("SELECT sub_status, updated_at FROM payouts "
                  "WHERE uuid = %s", (u,)) == row
    assert len(pne.status_calls(u)) == before


def test_post_callbacks_and_other_methods(pne, ngx, tenant, http):
    u = sent(http, ngx, tenant, pne)
    pne.set_status(u, "approved")
    r = http.post(ngx.url("/hooks/paysoft"), data=pne.callback_query(u),
                  headers={"Content-Type":
                           "application/x-www-form-urlencoded"})
    assert r.status_code == 200, r.text
    assert get_payout(http, ngx, tenant, u)["sub_status"] == "success"
    assert http.put(ngx.url("/hooks/paysoft")).status_code == 405


# -- no answer to the create --------------------------------------------------

def test_no_answer_is_settled_by_the_status(pne, ngx, tenant, http):
    """PaynetEasy took the order but the answer was lost: the status by
    client_orderid finds it; it is never sent again."""
    number = account()
    pne.outcome[number] = "drop"
    out = create(http, ngx, tenant, body(number))
    u = out["payout_uuid"]
    assert out["status"] == "pending_created", out
    p = wait_status(http, ngx, tenant, u, "pending_promise", timeout=15)
    assert p["gateway_payout_id"] == pne.orders[u]["orderid"]
    assert "orderid" not in pne.status_calls(u)[0].form
    assert pne.executed(u) == 1
    pne.set_status(u, "approved")
    wait_status(http, ngx, tenant, u, "success", timeout=12)
    assert pne.executed(u) == 1


def test_an_order_never_seen_is_sent_again_once(pne, ngx, tenant, http):
    number = account()
    pne.outcome[number] = "drop_unseen"
    out = create(http, ngx, tenant, body(number))
    u = out["payout_uuid"]
    assert out["status"] == "pending_created", out
    wait_status(http, ngx, tenant, u, "pending_promise", timeout=20)
    assert pne.executed(u) == 1
    assert pne.status_calls(u), "sent again without asking first"
    assert pne.status_calls(u)[0].at < pne.payout_calls(u)[-1].at
