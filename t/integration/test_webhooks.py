"""Webhooks to merchants (SPEC §3, §7): the durable outbox, delivered by
the background deliverer with Standard Webhooks headers, in order per
payout and URL, retried, disabled by 410, dead-lettered; the deliveries
API; per-tenant endpoints with rotating "whsec_" secrets; the SSRF guard.

A Receiver (receiver.py) stands in for the merchant; signatures are
checked here with hmac/base64, independently of the module's code."""

import base64
import datetime
import json
import shutil
import time
import uuid as uuidlib

import pytest

from conftest import Nginx

from payout_helpers import (assert_error, assert_history, bank, create,
                            mobile, post_json, sandbox_nginx, wait_status)
from receiver import (PROMPT, SECRET, chain, check_webhook, deliveries,
                      expected_signature, history_times, hooked,
                      quiet_outbox, rc, receivers, settled, signatures,
                      verify, wait_deliveries)

assert quiet_outbox and rc and receivers  # fixtures, used by name

# -- every sandbox outcome, end to end --

FLOWS = {
    "default": (bank("5551230001"), ["pending_created", "pending_promise",
                                     "success"]),
    "fails": (bank("5551230004"), ["pending_created", "pending_promise",
                                   "canceled_failure"]),
    "reversed": (mobile("233241230005"), ["pending_created",
                                          "pending_promise", "success",
                                          "canceled_reversed"]),
}


def test_sandbox_flows_deliver_every_status_in_order(nginx_factory, pg,
                                                     tenant, http, rc):
    ngx = sandbox_nginx(nginx_factory)
    made = {}
    for name, (body, want) in FLOWS.items():
        body = hooked(body, rc, name, idempotency_key="wh-" + name,
                      metadata={"flow": name})
        out = create(http, ngx, tenant, body)
        assert out["status"] == "pending_promise", out
        made[out["payout_uuid"]] = (name, want, out)
    # no secret: unsigned, and no plain secret header either
    out = create(http, ngx, tenant, hooked(bank("5551230007"), rc, "nosig",
                                           secret=None))
    unsigned = out["payout_uuid"]

    for u, (name, want, out) in made.items():
        wait_status(http, ngx, tenant, u, want[-1])
        reqs = rc.wait_events(u, len(want))
        assert chain(reqs) == want, (name, reqs)
        assert all(r.path == rc.prefix + "/" + name for r in reqs)
        assert assert_history(pg, u) == want

        ids = [r.headers["webhook-id"] for r in reqs]
        assert len(set(ids)) == len(ids), ids
        for req in reqs:
            body = check_webhook(req, u)
            assert body["amount"] == 1000
            assert body["currency"] == ("GHS" if name == "reversed"
                                        else "NGN")
            assert body["idempotency_key"] == "wh-" + name
            assert body["metadata"] == {"flow": name}
            assert body["recipient_uuid"] == out["recipient_uuid"]
        final = reqs[-1].json
        assert final["gateway_payout_id"] == out["gateway_payout_id"]
        if want[-1].startswith("canceled"):
            assert final["failure_reason"], final
        else:
            assert final["failure_reason"] is None

        # each webhook follows its status change promptly
        for (to, at), req in zip(history_times(pg, u), reqs):
            assert req.json["sub_status"] == to
            lag = req.at - at
            assert -0.05 < lag < PROMPT, (name, to, lag)

        # the deliveries API agrees: one delivery per event, each done
        ds = wait_deliveries(http, ngx, tenant, u, settled)
        assert [d["event_type"] for d in ds] == ["payout." + s for s in want]
        assert [d["webhook_id"] for d in ds] == ids
        for d in ds:
            assert d["state"] == "delivered", d
            assert d["attempts"] == 1 and d["last_status"] == 200, d
            assert d["url"] == rc.url(name)
            assert [a["status_code"] for a in d["history"]] == [200]

    reqs = rc.wait_events(unsigned, 2)
    assert chain(reqs) == ["pending_created", "pending_promise"]
    for req in reqs:
        check_webhook(req, unsigned, secret=None)

    time.sleep(0.3)
    assert not rc.strays
    assert len(rc.requests) == sum(len(w) for _n, w, _o in made.values()) + 2


# -- retries --

def test_receiver_down_then_up_loses_nothing(nginx_factory, pg, tenant,
                                             http, rc):
    ngx = sandbox_nginx(nginx_factory,
                        webhook_schedule="0 1s 1s 1s 1s 1s")
    rc.stop()
    out = create(http, ngx, tenant, hooked(bank("5551240001"), rc))
    u = out["payout_uuid"]
    wait_status(http, ngx, tenant, u, "success")

    # the first event failed (twice), and holds back the later ones
    ds = wait_deliveries(http, ngx, tenant, u,
                         lambda ds: len(ds) == 3 and ds[0]["attempts"] >= 2,
                         timeout=5)
    assert ds[0]["state"] == "pending" and ds[0]["last_status"] is None
    assert ds[0]["last_error"] and ds[0]["next_attempt_at"], ds[0]
    assert all(a["status_code"] is None and a["error"]
               for a in ds[0]["history"]), ds[0]
    assert [d["attempts"] for d in ds[1:]] == [0, 0], ds

    rc.start()
    reqs = rc.wait_events(u, 3, timeout=5)
    assert chain(reqs) == ["pending_created", "pending_promise", "success"]
    for req in reqs:
        check_webhook(req, u)
    ds = wait_deliveries(http, ngx, tenant, u, settled)
    assert [d["state"] for d in ds] == ["delivered"] * 3
    assert ds[0]["attempts"] >= 3
    time.sleep(0.3)
    assert len(rc.got(u)) == 3


def test_500_then_200_retries_the_same_event(nginx_factory, tenant, http,
                                             rc):
    ngx = sandbox_nginx(nginx_factory, webhook_schedule="0 1s 1s")
    rc.script(500)
    out = create(http, ngx, tenant, hooked(bank("5551250007"), rc))
    u = out["payout_uuid"]
    reqs = rc.wait_events(u, 3)
    first, retry, nxt = reqs
    # the same event again: same id, same body; signed afresh
    assert first.json["sub_status"] == retry.json["sub_status"] \
        == "pending_created"
    assert retry.headers["webhook-id"] == first.headers["webhook-id"]
    assert retry.body == first.body
    for req in reqs:
        check_webhook(req, u)
    assert 0.9 <= retry.at - first.at < 2.5, retry.at - first.at
    # the next event waited for it
    assert nxt.json["sub_status"] == "pending_promise"
    assert nxt.at >= retry.at

    ds = wait_deliveries(http, ngx, tenant, u, settled)
    assert len(ds) == 2, ds
    d = ds[0]
    assert d["state"] == "delivered" and d["attempts"] == 2, d
    assert d["last_status"] == 200 and d["last_error"] is None, d
    assert d["delivered_at"] and d["next_attempt_at"] is None, d
    assert d["webhook_id"] == first.headers["webhook-id"]
    assert [a["status_code"] for a in d["history"]] == [500, 200], d
    for a in d["history"]:
        assert set(a) == {"status_code", "error", "duration_ms", "at"}, a
        assert isinstance(a["duration_ms"], int) and a["duration_ms"] >= 0
    assert ds[1]["attempts"] == 1 and ds[1]["state"] == "delivered"
    assert [a["status_code"] for a in ds[1]["history"]] == [200]


def test_retry_after_is_honoured(nginx_factory, tenant, http, rc):
    ngx = sandbox_nginx(nginx_factory, webhook_schedule="0 1s 1s")
    rc.script((503, {"Retry-After": "3"}))
    out = create(http, ngx, tenant, hooked(bank("5551260007"), rc))
    u = out["payout_uuid"]
    first = rc.wait_events(u, 1)[0]
    ds = wait_deliveries(http, ngx, tenant, u,
                         lambda ds: ds and ds[0]["last_status"] == 503)
    assert ds[0]["state"] == "pending" and ds[0]["next_attempt_at"], ds
    reqs = rc.wait_events(u, 2, timeout=6)
    gap = reqs[1].at - first.at
    assert reqs[1].headers["webhook-id"] == first.headers["webhook-id"]
    assert 2.9 <= gap < 5, gap


def test_410_disables_the_url(nginx_factory, tenant, http, receivers):
    ngx = sandbox_nginx(nginx_factory)
    gone, ok = receivers(), receivers()
    gone.respond = lambda req: 410
    body = bank("5551270001", webhook_secret=SECRET,
                webhook_urls=[gone.url(), ok.url()])
    u = create(http, ngx, tenant, body)["payout_uuid"]
    wait_status(http, ngx, tenant, u, "success")
    # the other URL gets everything
    reqs = ok.wait_events(u, 3)
    assert chain(reqs) == ["pending_created", "pending_promise", "success"]
    wait_deliveries(http, ngx, tenant, u,
                    lambda ds: len(ds) == 6 and settled(ds))
    time.sleep(1.2)       # a poll of the deliverer later
    # one attempt at the gone URL, and never again for that payout
    assert [r.json["sub_status"] for r in gone.got(u)] \
        == ["pending_created"], gone.got(u)
    ds = deliveries(http, ngx, tenant, u)
    mine = [d for d in ds if d["url"] == gone.url()]
    assert mine[0]["last_status"] == 410 and mine[0]["attempts"] == 1
    assert [d["state"] for d in mine] == ["disabled"] * len(mine), mine
    assert [d["attempts"] for d in mine[1:]] == [0] * (len(mine) - 1), mine
    assert [d["state"] for d in ds if d["url"] == ok.url()] \
        == ["delivered"] * 3


def test_410_disables_a_tenant_endpoint(nginx_factory, tenant, http, rc):
    ngx = sandbox_nginx(nginx_factory)
    rc.respond = lambda req: 410
    ep = add_endpoint(http, ngx, tenant, rc.url())
    u = create(http, ngx, tenant, bank("5551280001"))["payout_uuid"]
    wait_status(http, ngx, tenant, u, "success")
    ds = wait_deliveries(http, ngx, tenant, u, settled)
    # the first event's 410 disabled the endpoint: whatever was queued
    # for it then is disabled too, and later events skip it.  (An event
    # committed in the very same moment as the 410 may still get its one
    # attempt: payout_emit does not lock the endpoint row.  Nothing gets
    # a second one.)
    assert [d["state"] for d in ds] == ["disabled"] * len(ds), ds
    assert ds[0]["last_status"] == 410 and ds[0]["attempts"] == 1, ds
    assert all(d["attempts"] <= 1 for d in ds), ds
    time.sleep(0.3)
    assert len(rc.got(u)) == sum(d["attempts"] for d in ds), (rc.got(u), ds)
    assert len(rc.got(u)) <= 2, (rc.got(u), ds)
    (listed,) = list_endpoints(http, ngx, tenant)
    assert listed["id"] == ep["id"]
    assert listed["enabled"] is False and listed["disabled_at"], listed
    # later payouts no longer go there
    u2 = create(http, ngx, tenant, bank("5551280007"))["payout_uuid"]
    time.sleep(1.2)
    assert deliveries(http, ngx, tenant, u2) == []
    assert rc.got(u2) == []


def test_dead_after_the_last_attempt_unblocks_the_next_event(
        nginx_factory, tenant, http, rc):
    ngx = sandbox_nginx(nginx_factory, webhook_schedule="0 1s 1s")
    rc.respond = lambda req: (500 if req.json["sub_status"]
                              == "pending_created" else None)
    u = create(http, ngx, tenant, hooked(bank("5551290007"),
                                         rc))["payout_uuid"]
    reqs = rc.wait_events(u, 4, timeout=8)
    assert chain(reqs) == ["pending_created"] * 3 + ["pending_promise"]
    assert len({r.headers["webhook-id"] for r in reqs[:3]}) == 1
    ds = wait_deliveries(http, ngx, tenant, u, settled)
    assert ds[0]["state"] == "dead", ds[0]
    assert ds[0]["attempts"] == 3 and ds[0]["last_status"] == 500, ds[0]
    assert ds[0]["next_attempt_at"] is None and ds[0]["delivered_at"] is None
    assert [a["status_code"] for a in ds[0]["history"]] == [500] * 3
    assert ds[1]["state"] == "delivered"
    time.sleep(1.2)
    assert len(rc.got(u)) == 4


# -- the deliveries API --

def test_deliveries_api_errors(nginx_factory, tenant_factory, http, rc):
    ngx = sandbox_nginx(nginx_factory)
    a, b = tenant_factory(), tenant_factory()
    u = create(http, ngx, a, hooked(bank("5551300007"), rc))["payout_uuid"]
    rc.wait_events(u, 2)

    r = http.get(ngx.url("/v1/payouts/%s/webhooks" % u), headers=b.headers)
    assert_error(r, 404)
    r = http.get(ngx.url("/v1/payouts/%s/webhooks" % uuidlib.uuid4()),
                 headers=a.headers)
    assert_error(r, 404)
    for bad in ("not-a-uuid", u[:-1], u + "0", u.replace("-", "")):
        r = http.get(ngx.url("/v1/payouts/%s/webhooks" % bad),
                     headers=a.headers)
        assert_error(r, 400)
    r = http.get(ngx.url("/v1/payouts/%s/webhooks" % u))
    assert_error(r, 401)

    # a payout without webhook URLs has no deliveries
    u2 = create(http, ngx, a, bank("5551300017"))["payout_uuid"]
    assert deliveries(http, ngx, a, u2) == []


def test_redeliver_sends_the_same_event_again(nginx_factory, tenant_factory,
                                              http, rc):
    ngx = sandbox_nginx(nginx_factory)
    a, b = tenant_factory(), tenant_factory()
    u = create(http, ngx, a, hooked(bank("5551310007"), rc))["payout_uuid"]
    first = rc.wait_events(u, 2)[0]
    ds = wait_deliveries(http, ngx, a, u, settled)
    d = ds[0]
    assert d["webhook_id"] == first.headers["webhook-id"]

    path = "/v1/payouts/%s/webhooks/%d/redeliver" % (u, d["id"])
    r = post_json(http, ngx, a, path, {})
    assert r.status_code == 202, r.text
    assert r.headers["Content-Type"] == "application/json"
    new = r.json()
    assert new["state"] == "pending" and new["id"] != d["id"], new

    again = rc.wait_events(u, 3, timeout=3)[2]
    assert again.headers["webhook-id"] == first.headers["webhook-id"]
    assert again.body == first.body
    check_webhook(again, u)

    ds = wait_deliveries(http, ngx, a, u, lambda ds: len(ds) == 3
                         and settled(ds))
    assert ds[2]["id"] == new["id"]
    assert ds[2]["webhook_id"] == d["webhook_id"]
    assert ds[2]["state"] == "delivered" and ds[2]["attempts"] == 1

    # unknown, someone else's, another payout's, malformed
    other = create(http, ngx, a, hooked(bank("5551310017"), rc))
    for tenant, uu, i, status in (
            (a, u, 999999999, 404),
            (b, u, d["id"], 404),
            (a, other["payout_uuid"], d["id"], 404),
            (a, str(uuidlib.uuid4()), d["id"], 404),
            (a, u, "abc", 400),
            (a, u, "0", 400),
            (a, "nope", d["id"], 400)):
        r = post_json(http, ngx, tenant,
                      "/v1/payouts/%s/webhooks/%s/redeliver" % (uu, i), {})
        assert_error(r, status)
    time.sleep(0.5)
    assert len(rc.got(u)) == 3


# -- tenant endpoints --

def add_endpoint(http, ngx, tenant, url):
    r = post_json(http, ngx, tenant, "/v1/webhook-endpoints", {"url": url})
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"] == "application/json"
    ep = r.json()
    assert ep["url"] == url and ep["enabled"] is True, ep
    check_secret(ep["secret"])
    return ep


def check_secret(secret):
    assert secret.startswith("whsec_"), secret
    key = base64.b64decode(secret[6:], validate=True)
    assert len(key) >= 24, secret


def list_endpoints(http, ngx, tenant):
    r = http.get(ngx.url("/v1/webhook-endpoints"), headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert "whsec_" not in r.text and "secret\"" not in r.text, r.text
    return r.json()["data"]


def test_tenant_endpoint_signs_rotates_and_stops(nginx_factory, pg,
                                                  tenant_factory, http,
                                                  receivers):
    ngx = sandbox_nginx(nginx_factory)
    a, b = tenant_factory(), tenant_factory()
    rc, own = receivers(), receivers()
    ep = add_endpoint(http, ngx, a, rc.url())
    secret = ep["secret"]
    listed = list_endpoints(http, ngx, a)
    assert [e["id"] for e in listed] == [ep["id"]]
    assert listed[0]["previous_secret_expires_at"] is None
    assert list_endpoints(http, ngx, b) == []
    # the secret is not stored in the clear
    stored = pg.sql("SELECT secret_enc FROM webhook_endpoints WHERE id = %s",
                    (ep["id"],))[0][0]
    assert secret.encode() not in bytes(stored)

    # every payout of the tenant: one without URLs, one with its own
    u1 = create(http, ngx, a, bank("5551320001"))["payout_uuid"]
    u2 = create(http, ngx, a, hooked(bank("5551320007"),
                                     own))["payout_uuid"]
    ub = create(http, ngx, b, bank("5551320011"))["payout_uuid"]
    reqs = rc.wait_events(u1, 3)
    assert chain(reqs) == ["pending_created", "pending_promise", "success"]
    for req in reqs:
        check_webhook(req, u1, secret=secret, plain=False)
    reqs = rc.wait_events(u2, 2)
    assert chain(reqs) == ["pending_created", "pending_promise"]
    for req in reqs:
        check_webhook(req, u2, secret=secret, plain=False)
        assert not verify(req, SECRET)
    # the payout's own URL gets the payout's secret, and the same events
    mine = own.wait_events(u2, 2)
    for req, same in zip(mine, reqs):
        check_webhook(req, u2)
        assert not verify(req, secret)
        assert req.headers["webhook-id"] == same.headers["webhook-id"]
        assert req.body == same.body
    wait_status(http, ngx, b, ub, "success")

    # rotate: a new secret, shown once; the old one signs beside it
    r = post_json(http, ngx, a, "/v1/webhook-endpoints/%d/rotate" % ep["id"],
                  {})
    assert r.status_code == 200, r.text
    rot = r.json()
    new = rot["secret"]
    check_secret(new)
    assert new != secret
    assert rot["id"] == ep["id"] and rot["enabled"] is True
    exp = datetime.datetime.fromisoformat(rot["previous_secret_expires_at"])
    left = exp.timestamp() - time.time()
    assert 86400 - 60 < left <= 86400 + 5, left
    listed = list_endpoints(http, ngx, a)
    assert listed[0]["previous_secret_expires_at"]

    u3 = create(http, ngx, a, bank("5551320021"))["payout_uuid"]
    reqs = rc.wait_events(u3, 3)
    for req in reqs:
        sigs = signatures(req)
        assert len(sigs) == 2, sigs
        ts, mid = req.headers["webhook-timestamp"], req.headers["webhook-id"]
        assert sorted(sigs) == sorted(
            [expected_signature(new, mid, ts, req.body),
             expected_signature(secret, mid, ts, req.body)]), sigs
        assert "orchestrapay-webhook-secret" not in req.headers

    # delete: nothing more goes there
    r = http.delete(ngx.url("/v1/webhook-endpoints/%d" % ep["id"]),
                    headers=a.headers)
    assert r.status_code == 200, r.text
    assert r.json()["enabled"] is False
    assert "secret" not in r.json()
    assert list_endpoints(http, ngx, a)[0]["enabled"] is False
    u4 = create(http, ngx, a, bank("5551320031"))["payout_uuid"]
    wait_status(http, ngx, a, u4, "success")
    time.sleep(0.5)
    assert rc.got(u4) == []
    assert deliveries(http, ngx, a, u4) == []
    # and nothing of the other tenant ever arrived
    assert rc.got(ub) == [] and not rc.strays


def test_endpoint_errors(nginx, tenant_factory, http):
    a, b = tenant_factory(), tenant_factory()
    for body in ({}, {"url": ""}, {"url": "ftp://example.com/x"},
                 {"url": "example.com/hook"}, {"url": "http://"},
                 {"url": "http://exa mple.com/"}, {"url": 42},
                 {"url": ["http://example.com/"]}, {"url": None},
                 {"url": "http://example.com:99999/"},
                 {"url": "http://example.com/", "secret": "mine"}):
        r = post_json(http, nginx, a, "/v1/webhook-endpoints", body)
        assert_error(r, 400)
    r = post_json(http, nginx, a, "/v1/webhook-endpoints", "{not json")
    assert_error(r, 400)
    assert list_endpoints(http, nginx, a) == []

    ep = add_endpoint(http, nginx, a, "https://example.com/hook")
    for path, method in (("/v1/webhook-endpoints/%d/rotate", "post"),
                         ("/v1/webhook-endpoints/%d", "delete")):
        r = getattr(http, method)(nginx.url(path % ep["id"]),
                                  headers=b.headers)
        assert_error(r, 404)
        r = getattr(http, method)(nginx.url(path % 987654321),
                                  headers=a.headers)
        assert_error(r, 404)
        r = getattr(http, method)(nginx.url(path.replace("%d", "x")),
                                  headers=a.headers)
        assert_error(r, 400)
    assert list_endpoints(http, nginx, b) == []
    (listed,) = list_endpoints(http, nginx, a)
    assert listed["enabled"] is True
    r = http.get(nginx.url("/v1/webhook-endpoints"))
    assert_error(r, 401)


# -- SSRF guard and redirects --

def test_ssrf_guard_refuses_private_addresses(nginx_factory, tenant, http,
                                              receivers):
    ngx = sandbox_nginx(nginx_factory, webhook_allow_private=False)
    v4, v6 = receivers(), receivers("::1")
    p = v4.port
    # literal addresses are refused at create (test_limits.py has more);
    # names are the guard's, after resolution
    for url in (v4.url("literal"), v6.url("v6"),
                "http://[::ffff:127.0.0.1]:%d%s/mapped" % (p, v4.prefix),
                "http://127.1:%d%s/short" % (p, v4.prefix),
                "http://2130706433:%d%s/decimal" % (p, v4.prefix),
                "http://0.0.0.0:%d%s/zero" % (p, v4.prefix)):
        r = post_json(http, ngx, tenant, "/v1/payouts",
                      bank("5551330007", webhook_urls=[url]))
        assert_error(r, 400, "invalid_parameter", "webhook_urls")
    groups = [
        ["http://localhost:%d%s/name" % (p, v4.prefix),
         "http://localhost:%d%s/v6" % (v6.port, v6.prefix)],
    ]
    made = []
    for urls in groups:
        out = create(http, ngx, tenant, bank("5551330007", webhook_urls=urls,
                                             webhook_secret=SECRET))
        assert out["status"] == "pending_promise", out
        made.append((out["payout_uuid"], urls))

    for u, urls in made:
        ds = wait_deliveries(
            http, ngx, tenant, u,
            # an attempt is counted when claimed, recorded when done
            lambda ds: len(ds) == 2 * len(urls)
            and all(d["history"] for d in ds[:len(urls)]), timeout=5)
        first, second = ds[:len(urls)], ds[len(urls):]
        assert sorted(d["url"] for d in first) == sorted(urls)
        for d in first:
            assert d["event_type"] == "payout.pending_created", d
            assert d["last_status"] is None, d
            assert d["last_error"] == "destination address not allowed", d
            assert d["state"] == "pending", d        # retried later
            assert [h["error"] for h in d["history"]] == [d["last_error"]]
            # the standard schedule's second attempt: 5 s later
            wait = (datetime.datetime.fromisoformat(d["next_attempt_at"])
                    - datetime.datetime.fromisoformat(d["history"][0]["at"]))
            assert 4.9 <= wait.total_seconds() <= 5.6, d
        # the next event waits behind it, per URL
        for d in second:
            assert d["event_type"] == "payout.pending_promise", d
            assert d["attempts"] == 0 and d["state"] == "pending", d
    time.sleep(0.3)
    for r in (v4, v6):
        assert r.requests == [] and r.strays == []


def test_redirects_are_not_followed(nginx_factory, tenant, http, receivers):
    ngx = sandbox_nginx(nginx_factory, webhook_schedule="0 1s")
    a, b = receivers(), receivers()
    a.respond = lambda req: (302, {"Location": b.url("moved")})
    u = create(http, ngx, tenant, hooked(bank("5551340007"),
                                         a))["payout_uuid"]
    ds = wait_deliveries(http, ngx, tenant, u,
                         lambda ds: len(ds) == 2 and settled(ds), timeout=8)
    for d in ds:
        assert d["state"] == "dead", d
        assert d["attempts"] == 2 and d["last_status"] == 302, d
        assert [h["status_code"] for h in d["history"]] == [302, 302]
    assert len(a.got(u)) == 4
    assert b.requests == [] and b.strays == []


def test_webhook_urls_are_validated(nginx, tenant, http):
    for urls in (["ftp://example.com/"], ["not a url"], "http://x.com/",
                 ["http://"], [42], ["https://example.com/"] * 6):
        r = post_json(http, nginx, tenant, "/v1/payouts",
                      bank(webhook_urls=urls))
        assert_error(r, 400, field="webhook_urls")


def test_payload_is_the_payout_as_stored(nginx_factory, tenant, http, rc):
    """The success webhook carries what GET /payouts/{uuid} shows."""
    ngx = sandbox_nginx(nginx_factory)
    out = create(http, ngx, tenant, hooked(
        bank("5551350001", amount=123456, narration="n",
             metadata={"order": "o-1", "n": 2, "ok": True}), rc))
    u = out["payout_uuid"]
    p = wait_status(http, ngx, tenant, u, "success")
    last = rc.wait_events(u, 3)[-1].json
    for k in ("uuid", "status", "sub_status", "amount", "currency",
              "gateway", "gateway_payout_id", "recipient_uuid",
              "idempotency_key", "metadata", "failure_reason", "livemode"):
        assert last[k] == p.get(k, last[k]), (k, last, p)
    assert last["amount"] == 123456
    assert last["metadata"] == {"order": "o-1", "n": 2, "ok": True}
    # the secret never shows in the API
    assert SECRET not in json.dumps(p)


@pytest.mark.parametrize("value,ok", [("200ms", True), ("0", False)])
def test_webhook_poll_is_a_positive_time(pg, value, ok):
    ngx = Nginx(pg, http="payout_webhook_poll %s;" % value)
    try:
        out = ngx.check_config()
    finally:
        shutil.rmtree(ngx.dir, ignore_errors=True)
    assert (out.returncode == 0) == ok, out.stderr
    if not ok:
        assert "payout_webhook_poll must be positive" in out.stderr

