"""Payout lifecycles driven by the built-in sandbox provider (SPEC §6,
§8, §10): each outcome of the sandbox's table ends in its documented
status, the history only moves forward, and provider webhooks are
verified and never move a payout backwards."""

import time
import uuid as uuidlib

import pytest
import requests

from payout_helpers import (assert_error, assert_history, bank, counts,
                            create, events, get_payout, mobile, payout_row,
                            post_hook, sandbox_event, sandbox_signature,
                            sandbox_transfers, sbx, wait_status)

assert sbx  # a fixture, used by name


def ledger(ngx, reference):
    r = requests.get(ngx.url("/sandbox/ledger"),
                     params={"reference": reference}, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()["transfers"]


# 9. each outcome --

@pytest.mark.parametrize("make", [bank, mobile], ids=["bank", "mobile"])
@pytest.mark.parametrize("last4,reason", [("0002", "invalid_account"),
                                          ("0003", "insufficient_funds")])
def test_rejected_at_initiation(sbx, pg, tenant, http, make, last4, reason):
    number = ("555000" if make is bank else "23324100") + last4
    # seed 004: a gateway initiation error is a 400 naming the payout
    err = create(http, sbx, tenant, make(number), status=400)["error"]
    assert err["code"] == "gateway_rejected", err
    assert err["sub_status"] == "canceled_rejected", err
    assert err["failure_reason"] == reason, err
    assert err["resource_created"] is True
    u = err["payout_uuid"]

    p = get_payout(http, sbx, tenant, u)
    assert p["status"] == "canceled"
    assert p["sub_status"] == "canceled_rejected"
    assert p["failure_reason"] == reason
    assert_history(pg, u, ends="canceled_rejected")
    assert sandbox_transfers(pg, u) == [("rejected", reason, last4)]

    # final: nothing cancels it
    r = http.post(sbx.url("/v1/payouts/%s/cancel" % u),
                  headers=tenant.headers)
    assert_error(r, 409)


@pytest.mark.parametrize("make", [bank, mobile], ids=["bank", "mobile"])
def test_default_outcome_succeeds_by_webhook(sbx, pg, tenant, http, make):
    out = create(http, sbx, tenant, make(idempotency_key="ok-1"))
    assert out["status"] == "pending_promise", out
    assert out["gateway_payout_id"].startswith("sbx_tr_")
    u = out["payout_uuid"]

    p = wait_status(http, sbx, tenant, u, "success", timeout=10)
    assert p["status"] == "success"
    assert p["failure_reason"] is None
    assert p["gateway_payout_id"] == out["gateway_payout_id"]
    chain = assert_history(pg, u, ends="success")
    assert chain == ["pending_created", "pending_promise", "success"]
    sources = [s for _f, _t, s in events(pg, u)]
    assert sources == ["api", "provider", "webhook"]
    assert [t["status"] for t in ledger(sbx, u)] == ["succeeded"]

    # the replay answers with the stored state, and sends nothing
    again = create(http, sbx, tenant, make(idempotency_key="ok-1"))
    assert again["resource_created"] is False
    assert again["payout_uuid"] == u
    assert again["status"] == "success"
    assert len(ledger(sbx, u)) == 1


def test_fails_later(sbx, pg, tenant, http):
    out = create(http, sbx, tenant, bank("5550000004"))
    assert out["status"] == "pending_promise", out
    u = out["payout_uuid"]
    p = wait_status(http, sbx, tenant, u, "canceled_failure")
    assert p["status"] == "canceled"
    assert p["failure_reason"]
    assert assert_history(pg, u, ends="canceled_failure") == [
        "pending_created", "pending_promise", "canceled_failure"]
    assert sandbox_transfers(pg, u)[0][0] == "failed"


def test_succeeds_then_reversed(sbx, pg, tenant, http):
    out = create(http, sbx, tenant, mobile("233240000005"))
    assert out["status"] == "pending_promise", out
    u = out["payout_uuid"]
    p = wait_status(http, sbx, tenant, u, "canceled_reversed")
    assert p["status"] == "canceled"
    assert p["failure_reason"]
    assert assert_history(pg, u, ends="canceled_reversed") == [
        "pending_created", "pending_promise", "success",
        "canceled_reversed"]
    assert sandbox_transfers(pg, u)[0][0] == "reversed"

    # a late success event for it changes nothing
    n = len(events(pg, u))
    body = sandbox_event(u, "succeeded")
    r = post_hook(http, sbx, body, sandbox_signature(body))
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "ignored"
    assert len(events(pg, u)) == n
    assert payout_row(pg, u)["sub_status"] == "canceled_reversed"


def test_stays_pending(sbx, pg, tenant, http):
    out = create(http, sbx, tenant, bank("5550000007"))
    assert out["status"] == "pending_promise", out
    u = out["payout_uuid"]
    # several webhook delays later, it has not moved
    time.sleep(1.0)
    p = get_payout(http, sbx, tenant, u)
    assert p["sub_status"] == "pending_promise"
    assert assert_history(pg, u) == ["pending_created", "pending_promise"]
    assert sandbox_transfers(pg, u)[0][0] == "pending"
    assert pg.sql("SELECT count(*) FROM sandbox_events e "
                  "JOIN sandbox_transfers t ON t.id = e.transfer_id "
                  "WHERE t.reference = %s", (u,))[0][0] == 0


def test_no_answer_leaves_it_pending_created(sbx, pg, tenant, http):
    t0 = time.time()
    out = create(http, sbx, tenant, bank("5550000006",
                                         idempotency_key="no-answer"))
    took = time.time() - t0
    assert out["status"] == "pending_created", out
    assert out["resource_created"] is True
    assert out["gateway_payout_id"] is None
    # answered once the gateway timeout (1s) ran out, not much later
    assert 0.8 <= took < 5, took
    u = out["payout_uuid"]

    p = get_payout(http, sbx, tenant, u)
    assert p["sub_status"] == "pending_created"
    assert assert_history(pg, u) == ["pending_created"]

    # the provider did execute it, exactly once
    transfers = ledger(sbx, u)
    assert len(transfers) == 1, transfers
    assert transfers[0]["status"] == "succeeded"
    assert transfers[0]["amount"] == 1000

    # a replay answers at once with the stored state and calls nothing
    before = counts(pg, tenant)
    t0 = time.time()
    again = create(http, sbx, tenant, bank("5550000006",
                                           idempotency_key="no-answer"))
    assert time.time() - t0 < 0.8
    assert again["payout_uuid"] == u
    assert again["resource_created"] is False
    assert again["status"] == "pending_created"
    assert counts(pg, tenant) == before
    assert len(ledger(sbx, u)) == 1


def test_no_answer_cannot_be_canceled_and_status_shows_it(sbx, pg, tenant,
                                                        http):
    """0006 executed at the provider while our row says pending_created:
    a cancel is refused because the provider cannot cancel it, and the
    live status shows the provider's view without touching the row."""
    out = create(http, sbx, tenant, bank("5550000006"))
    assert out["status"] == "pending_created", out
    u = out["payout_uuid"]
    row = payout_row(pg, u)
    before = counts(pg, tenant)

    r = http.post(sbx.url("/v1/payouts/%s/cancel" % u),
                  headers=tenant.headers)
    assert_error(r, 409)
    assert payout_row(pg, u) == row
    assert counts(pg, tenant) == before
    assert [t["status"] for t in ledger(sbx, u)] == ["succeeded"]

    r = http.get(sbx.url("/v1/payouts/%s/status" % u),
                 headers=tenant.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["code"] == {"type": "ok", "success": True, "code": 200}
    assert body["response"]["reference"] == u
    assert body["response"]["status"] == "succeeded"
    assert payout_row(pg, u) == row
    assert counts(pg, tenant) == before


def test_history_in_order_for_many(sbx, pg, tenant, http):
    """Several payouts at once, each with its own outcome."""
    plan = {"5551110001": "success", "5551110004": "canceled_failure",
            "5551110005": "canceled_reversed", "233241110009": "success",
            "5551110002": "canceled_rejected"}
    made = {}
    for number, final in plan.items():
        make = mobile if number.startswith("233") else bank
        out = create(http, sbx, tenant, make(number),
                     status=400 if final == "canceled_rejected" else 201)
        made[out.get("error", out)["payout_uuid"]] = final
    for u, final in made.items():
        wait_status(http, sbx, tenant, u, final)
    for u, final in made.items():
        assert_history(pg, u, ends=final)
        times = [t for (t,) in pg.sql(
            "SELECT e.created_at FROM payout_events e "
            "JOIN payouts p ON p.id = e.payout_id WHERE p.uuid = %s "
            "ORDER BY e.id", (u,))]
        assert times == sorted(times)
        assert len(sandbox_transfers(pg, u)) == 1


# 10. provider webhooks --

@pytest.fixture
def in_flight(sbx, pg, tenant, http):
    """A payout the sandbox leaves pending_promise (0007)."""
    out = create(http, sbx, tenant, bank("5550000007"))
    assert out["status"] == "pending_promise", out
    return out["payout_uuid"]


def assert_unchanged(pg, tenant, u, row, before):
    assert payout_row(pg, u) == row
    assert counts(pg, tenant) == before


def test_hook_bad_signatures_are_401(sbx, pg, tenant, http, in_flight):
    u = in_flight
    row = payout_row(pg, u)
    before = counts(pg, tenant)
    body = sandbox_event(u, "succeeded")
    good = sandbox_signature(body)
    t = good.split(",")[0][2:]
    wrong_secret = sandbox_signature(body, secret=b"x" * 32)
    cases = [
        None,                                         # missing
        "",
        "garbage",
        "t=%s" % t,
        "t=%s,v1=" % t,
        "t=%s,v1=%s" % (t, "0" * 64),
        wrong_secret,
        good.upper(),
        good[:-1] + ("0" if good[-1] != "0" else "1"),
        "v1=%s,t=%s" % (good.split("v1=")[1], t),
        sandbox_signature(body + b" "),               # another body
        sandbox_signature(body, t=time.time() - 600),  # 10 minutes old
        sandbox_signature(body, t=time.time() + 600),  # from the future
    ]
    for sig in cases:
        r = post_hook(http, sbx, body, sig)
        assert_error(r, 401)
        assert_unchanged(pg, tenant, u, row, before)

    # the same body, signed properly, goes through
    r = post_hook(http, sbx, body, good)
    assert r.status_code == 200, r.text
    assert r.json() == {"received": True, "outcome": "applied"}
    assert payout_row(pg, u)["sub_status"] == "success"


def test_hook_stale_signature_is_401(sbx, pg, tenant, http, in_flight):
    u = in_flight
    row = payout_row(pg, u)
    before = counts(pg, tenant)
    body = sandbox_event(u, "succeeded")
    r = post_hook(http, sbx, body,
                  sandbox_signature(body, t=int(time.time()) - 600))
    assert_error(r, 401, "invalid_signature")
    assert_unchanged(pg, tenant, u, row, before)


def test_hook_duplicate_and_out_of_order(sbx, pg, tenant, http, in_flight):
    u = in_flight
    body = sandbox_event(u, "succeeded", gateway_id="sbx_tr_manual")
    r = post_hook(http, sbx, body, sandbox_signature(body))
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "applied"
    row = payout_row(pg, u)
    assert row["sub_status"] == "success"
    before = counts(pg, tenant)
    n = len(events(pg, u))

    # the same event again
    r = post_hook(http, sbx, body, sandbox_signature(body))
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "ignored"
    assert len(events(pg, u)) == n
    assert_unchanged(pg, tenant, u, row, before)

    # a late "pending" and a late "failed" after success
    for status in ("pending", "failed", "canceled"):
        late = sandbox_event(u, status, event_id="evt_late_" + status)
        r = post_hook(http, sbx, late, sandbox_signature(late))
        assert r.status_code == 200, r.text
        assert r.json()["outcome"] == "ignored"
        assert_unchanged(pg, tenant, u, row, before)

    assert get_payout(http, sbx, tenant, u)["sub_status"] == "success"
    assert_history(pg, u, ends="success")


def test_hook_unknown_reference_and_junk(sbx, pg, tenant, http, in_flight):
    u = in_flight
    row = payout_row(pg, u)
    before = counts(pg, tenant)
    for body in (sandbox_event(str(uuidlib.uuid4()), "succeeded"),
                 b'{"type":"transfer.succeeded","data":{}}',
                 b'{"not":"an event"}',
                 b'not json at all',
                 sandbox_event(u, "exploded")):
        r = post_hook(http, sbx, body, sandbox_signature(body))
        assert r.status_code == 200, (body, r.text)
        assert r.json()["received"] is True
        assert_unchanged(pg, tenant, u, row, before)

    # an unknown gateway's hook path
    body = sandbox_event(u, "succeeded")
    r = post_hook(http, sbx, body, sandbox_signature(body), gateway="nope")
    assert_error(r, 404)
    r = http.get(sbx.url("/hooks/sandbox"))
    assert_error(r, 405)
    assert_unchanged(pg, tenant, u, row, before)


def test_hook_for_a_staged_payout_is_ignored(sbx, pg, tenant, http):
    """A staged payout knows no provider yet: a forged event for it is
    ignored (staged -> success is no transition)."""
    out = create(http, sbx, tenant, bank(stage=True))
    u = out["payout_uuid"]
    row = payout_row(pg, u)
    body = sandbox_event(u, "succeeded")
    r = post_hook(http, sbx, body, sandbox_signature(body))
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "ignored"
    assert payout_row(pg, u)["sub_status"] == row["sub_status"] \
        == "pending_staged"
