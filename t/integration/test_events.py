"""Provider events (issue 13, items 8 and 9): they apply by what they
imply, never to a staged payout, and their text is stored whatever its
length and characters."""

import pytest

import re

from payout_helpers import (assert_history, bank, create, events,
                            get_payout, payout_row, post_hook,
                            sandbox_event, sandbox_signature, sandbox_nginx,
                            sbx, wait_status)

assert sbx  # a fixture, used by name


@pytest.fixture
def in_flight(sbx, pg, tenant, http):
    """A payout the sandbox leaves pending_promise (0007)."""
    out = create(http, sbx, tenant, bank("5550000007"))
    assert out["status"] == "pending_promise", out
    return out["payout_uuid"]


@pytest.fixture
def staged(sbx, tenant, http):
    out = create(http, sbx, tenant, bank(stage=True))
    assert out["status"] == "pending_staged", out
    return out["payout_uuid"]


def hook(http, ngx, reference, status, **kw):
    body = sandbox_event(reference, status, **kw)
    r = post_hook(http, ngx, body, sandbox_signature(body))
    assert r.status_code == 200, r.text
    return r.json()["outcome"]


def webhook_types(pg, uuid):
    return [t for (t,) in pg.sql(
        "SELECT e.event_type FROM webhook_events e "
        "JOIN payouts p ON p.id = e.payout_id WHERE p.uuid = %s "
        "ORDER BY e.id", (uuid,))]


# 9. out of order --

def test_reversal_before_success(sbx, pg, tenant, http, in_flight):
    """A reversal implies the success before it: it applies to a pending
    payout, the success is recorded as a step, the late success is
    ignored."""
    u = in_flight
    out = hook(http, sbx, u, "reversed", gateway_id="sbx_tr_rev",
               failure_reason="returned_by_bank", event_id="evt_rev")
    assert out == "applied"

    p = get_payout(http, sbx, tenant, u)
    assert p["status"] == "canceled", p
    assert p["sub_status"] == "canceled_reversed", p
    assert p["failure_reason"] == "returned_by_bank", p
    assert payout_row(pg, u)["gateway_payout_id"] == "sbx_tr_rev"

    chain = assert_history(pg, u, ends="canceled_reversed")
    assert chain[-2:] == ["success", "canceled_reversed"], chain
    detail = pg.sql("SELECT e.detail->>'implied_by' FROM payout_events e "
                    "JOIN payouts p ON p.id = e.payout_id "
                    "WHERE p.uuid = %s AND e.to_sub_status = 'success'",
                    (u,))
    assert detail == [("canceled_reversed",)], detail
    types = webhook_types(pg, u)
    assert types[-2:] == ["payout.success", "payout.canceled_reversed"]

    # the success the provider sent first arrives now: nothing changes
    n = len(events(pg, u))
    assert hook(http, sbx, u, "succeeded", event_id="evt_ok") == "ignored"
    assert len(events(pg, u)) == n
    assert payout_row(pg, u)["sub_status"] == "canceled_reversed"


def test_reversal_after_success_is_one_step(sbx, pg, tenant, http,
                                            in_flight):
    u = in_flight
    assert hook(http, sbx, u, "succeeded", event_id="evt_1") == "applied"
    assert hook(http, sbx, u, "reversed", event_id="evt_2") == "applied"
    chain = assert_history(pg, u, ends="canceled_reversed")
    assert chain.count("success") == 1, chain
    assert hook(http, sbx, u, "reversed", event_id="evt_2") == "ignored"


@pytest.mark.parametrize("status", ["canceled", "reversed", "succeeded",
                                    "failed", "pending", "rejected"])
def test_no_provider_event_applies_to_a_staged_payout(sbx, pg, tenant, http,
                                                      staged, status):
    """The provider never saw a staged payout: its word about one is
    forged or misrouted, and changes nothing, not even the reference."""
    u = staged
    before = payout_row(pg, u)
    n = len(events(pg, u))
    assert hook(http, sbx, u, status, gateway_id="sbx_tr_forged") \
        == "ignored"
    assert payout_row(pg, u) == before
    assert before["sub_status"] == "pending_staged"
    assert before["gateway_payout_id"] is None
    assert len(events(pg, u)) == n

    # it can still be sent, and then it is the provider's
    r = http.post(sbx.url("/v1/payouts/%s/transfer" % u),
                  headers=tenant.headers)
    assert r.status_code == 201, r.text
    p = wait_status(http, sbx, tenant, u, "success")
    assert p["gateway_payout_id"] != "sbx_tr_forged", p


def test_reconciler_finds_a_reversal_first(nginx_factory, pg, tenant,
                                           http):
    """Without webhooks the reconciler's first look at a 0005 payout may
    already find it reversed: that applies, with the implied success."""
    def no_webhooks(conf):
        conf = re.sub(r"payout_sandbox_webhook_url [^;]*;", "", conf)
        return re.sub(r"payout_reconcile_grace [^;]*;",
                      "payout_reconcile_grace 1500ms;", conf)

    ngx = sandbox_nginx(nginx_factory, edit=no_webhooks,
                        webhook_delay="100ms")
    out = create(http, ngx, tenant, bank("5550000005"))
    assert out["status"] == "pending_promise", out
    u = out["payout_uuid"]

    p = wait_status(http, ngx, tenant, u, "canceled_reversed", timeout=15)
    assert p["failure_reason"] == "returned_by_bank", p
    chain = assert_history(pg, u, ends="canceled_reversed")
    assert chain[-2:] == ["success", "canceled_reversed"], chain
    sources = [s for _f, _t, s in events(pg, u)]
    assert sources[-2:] == ["reconciler", "reconciler"], sources


def test_staged_payout_refuses_provider_sources_in_sql(sbx, pg, staged):
    """The database refuses it too, whatever states the caller allows."""
    pid = payout_row(pg, staged)["id"]
    for source in ("webhook", "reconciler", "provider"):
        rows = pg.sql("SELECT applied, sub_status FROM payout_transition("
                      "%s, '{pending_staged}', 'canceled_voided', %s, "
                      "'sbx_tr_x', NULL, NULL)", (pid, source))
        assert rows == [(False, "pending_staged")], rows
    assert payout_row(pg, staged)["gateway_payout_id"] is None


def test_api_still_voids_a_staged_payout(sbx, pg, tenant, http, staged):
    r = http.post(sbx.url("/v1/payouts/%s/cancel" % staged),
                  headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert r.json()["sub_status"] == "canceled_voided"
    assert_history(pg, staged, ends="canceled_voided")


# 8. UTF-8 --

@pytest.mark.parametrize("char", ["\u00e9", "\u20ac", "\U0001f600"],
                         ids=["2-byte", "3-byte", "4-byte"])
def test_long_multibyte_provider_text_is_stored(sbx, pg, tenant, http,
                                                in_flight, char):
    """Our copy of a provider's id (127 bytes) and failure reason (159)
    is cut between characters, so PostgreSQL takes it: 200, stored."""
    u = in_flight
    gateway_id = "g" + char * 200
    reason = "r" * 2 + char * 200
    out = hook(http, sbx, u, "failed", gateway_id=gateway_id,
               failure_reason=reason)
    assert out == "applied"

    row = payout_row(pg, u)
    assert row["sub_status"] == "canceled_failure", row
    for stored, sent, limit in ((row["gateway_payout_id"], gateway_id, 127),
                                (row["failure_reason"], reason, 159)):
        assert sent.startswith(stored), stored
        size = len(stored.encode())
        assert limit - len(char.encode()) < size <= limit, size

    p = get_payout(http, sbx, tenant, u)
    assert p["failure_reason"] == row["failure_reason"]
    assert p["gateway_payout_id"] == row["gateway_payout_id"]
