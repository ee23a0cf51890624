"""Providers and webhook endpoints that do not answer.

A host that never accepts the connection (a firewall dropping SYNs):
every attempt ends in a connect timeout.

libcurl (7.88) may close such a socket before it tells the socket
callback CURL_POLL_REMOVE; the module then asked epoll to forget a
descriptor that was already closed -- an [alert] per attempt, and, had
the number been reused meanwhile, a live connection silently dropped
from epoll.  Found by `make soak` (docs/reliability.md)."""

import socket
import time

import pytest
import requests

from fault_helpers import create, ledger_locked, payout_body, wait_for


@pytest.fixture
def blackhole():
    """A loopback port whose accept queue is full: the kernel drops new
    SYNs, so connect() hangs until the client gives up."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(0)
    port = lst.getsockname()[1]
    held = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        held.append(s)
    time.sleep(0.1)

    probe = socket.socket()
    probe.settimeout(0.3)
    with pytest.raises(socket.timeout):
        probe.connect(("127.0.0.1", port))
    probe.close()

    yield port
    for s in held + [lst]:
        s.close()


def alerts(ngx):
    with open(ngx.error_log, errors="replace") as f:
        return [line for line in f if "[alert]" in line]


def test_provider_connect_timeout(nginx_factory, tenant, blackhole):
    ngx = nginx_factory(http="payout_gateway hole connector=sandbox "
                             "url=http://127.0.0.1:%d/sandbox timeout=500ms;"
                             % blackhole)
    for _ in range(3):
        r = requests.post(ngx.url("/v1/payouts"), headers=tenant.headers,
                          json=payout_body("http://127.0.0.1:9/x",
                                           gateway="hole"), timeout=10)
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "pending_created", r.text
    assert alerts(ngx) == []
    # the worker's event loop is intact: the API still answers
    r = requests.get(ngx.url("/v1/payouts"), headers=tenant.headers,
                     timeout=5)
    assert r.status_code == 200
    assert r.json()["meta"]["totalItems"] == 3


def test_webhook_connect_timeout(nginx_factory, tenant, blackhole):
    ngx = nginx_factory(sandbox=True, webhook_schedule="0 1s 1s",
                        http="payout_webhook_timeout 1s;")
    url = "http://127.0.0.1:%d/hook" % blackhole
    r = requests.post(ngx.url("/v1/payouts"), headers=tenant.headers,
                      json=payout_body(url), timeout=10)
    assert r.status_code == 201, r.text
    u = r.json()["payout_uuid"]

    def tried():
        r = requests.get(ngx.url("/v1/payouts/%s/webhooks" % u),
                         headers=tenant.headers, timeout=5)
        ds = r.json()["data"]
        return ds and ds[0]["attempts"] >= 2 and ds
    ds = wait_for(tried, 10, "two attempts at the unreachable endpoint")
    assert "timed out" in (ds[0]["last_error"] or ""), ds[0]
    assert alerts(ngx) == []


def test_cancel_without_an_answer_is_retryable(nginx_factory, pg, tenant):
    """A cancel the gateway never answered may still have happened there:
    503 gateway_unavailable (retry), not 409 not_cancelable (give up).
    Found by make soak: 409s for payouts that were canceled after all."""
    ngx = nginx_factory(sandbox=True, gateway_timeout="1s",
                        reconcile_grace="60s", pool=4)
    u = create(ngx, tenant.headers,
               payout_body("http://127.0.0.1:9/x",
                           account="5550000007"))["payout_uuid"]
    url = ngx.url("/v1/payouts/%s/cancel" % u)

    # the provider cannot answer in time while its ledger is locked; it
    # cancels the transfer once the lock goes
    with ledger_locked(pg):
        r = requests.post(url, headers=tenant.headers, timeout=10)
    assert r.status_code == 503, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert int(r.headers["Retry-After"]) > 0
    assert r.json()["error"]["code"] == "gateway_unavailable", r.text

    r = requests.post(url, headers=tenant.headers, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["sub_status"] == "canceled_voided", r.text


def test_cancel_before_the_gateway_saw_the_payout(nginx_factory, pg,
                                                  tenant):
    """pending_created, and the provider has no such transfer yet (the
    call was cut): the reconciler will still send it, so a cancel now is
    503 payout_in_flight (retry), neither 409 nor a local void that would
    race the send.  Found by make soak: a 409 not_cancelable for a
    payout that went on to the provider."""
    ngx = nginx_factory(sandbox=True, gateway_timeout="1s",
                        reconcile_grace="60s", pool=4)
    with ledger_locked(pg) as lock:
        out = create(ngx, tenant.headers,
                     payout_body("http://127.0.0.1:9/x",
                                 account="5550000007"))
        assert out["status"] == "pending_created", out
        # the provider's half-done insert never happens
        lock.terminate_inserts()
        assert lock.transfers(out["payout_uuid"]) == []

    u = out["payout_uuid"]
    r = requests.post(ngx.url("/v1/payouts/%s/cancel" % u),
                      headers=tenant.headers, timeout=10)
    assert r.status_code == 503, r.text
    assert int(r.headers["Retry-After"]) > 0
    assert r.json()["error"]["code"] == "payout_in_flight", r.text
    r = requests.get(ngx.url("/v1/payouts/" + u), headers=tenant.headers,
                     timeout=5)
    assert r.json()["sub_status"] == "pending_created", r.text
