"""Egress through nginx's own upstream (issue 11): a gateway's url= is an
internal location of a loopback-only server that proxy_passes to an
upstream {} (keepalive, failover, a fixed egress address, mTLS: nginx's
features) in front of the provider, here the Paystack stand-in of
provider_standins.py.  Payouts (enroll and transfer), live status and
reconciliation all go through it: every call the stand-in sees carries
the header only the proxy adds, and the upstream keeps its connections
alive.  The pattern of docs/operations.md and conf/nginx.production.conf,
with plain http to the stand-in instead of TLS."""

import json

import pytest
import requests

from conftest import free_port
from payout_helpers import create, wait_status
from provider_standins import PAYSTACK_KEY, Paystack, Site
from test_paystack import account, body

EGRESS = """
    upstream paystack_egress {
        server 127.0.0.1:%(ps)d max_fails=0;
        keepalive 4;
    }

    server {
        listen 127.0.0.1:%(egress)d;
        access_log %(log)s;

        # only this host's gateway may use it
        location /paystack/ {
            allow 127.0.0.1;
            deny all;

            proxy_pass http://paystack_egress/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host api.paystack.co;
            proxy_set_header X-Egress paystack_egress;
            proxy_connect_timeout 2s;
            proxy_read_timeout 5s;
            # the provider's word, whatever it is: never a retry here
            proxy_next_upstream off;
            proxy_intercept_errors off;
        }
    }

    payout_gateway paystack connector=paystack mode=test
                   url=http://127.0.0.1:%(egress)d/paystack
                   secret_file=%(key)s timeout=1s;
"""


@pytest.fixture(scope="module")
def env(pg):
    e = Site(pg)
    e.ps = e.add(Paystack())
    e.egress_port = free_port()
    e.egress_log = e.dir + "/egress.log"
    e.start(EGRESS % dict(ps=e.ps.port, egress=e.egress_port,
                          log=e.egress_log,
                          key=e.key("paystack.key", PAYSTACK_KEY)))
    yield e
    e.close()


@pytest.fixture
def ps(env):
    yield from env.fresh(env.ps)


def proxied(ps, u=None):
    """Every call of the stand-in came through the upstream."""
    calls = ps.calls
    assert calls
    for c in calls:
        assert c.headers.get("x-egress") == "paystack_egress", c
        assert c.headers.get("host") == "api.paystack.co", c
        assert c.headers["authorization"] == "Bearer " + PAYSTACK_KEY
    return calls


def test_payout_and_live_status_through_the_upstream(env, ps, http,
                                                     tenant):
    ngx = env.ngx
    number = account()
    out = create(http, ngx, tenant, body(number))
    u = out["payout_uuid"]
    assert out["status"] == "pending_promise", out
    assert ps.executed(u) == 1
    paths = [c.path for c in proxied(ps)]
    assert "/transferrecipient" in paths and "/transfer" in paths

    r = http.get(ngx.url("/v1/payouts/%s/status" % u),
                 headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert ps.got("GET", "/transfer/verify/" + u)
    proxied(ps)

    assert ps.hook(ngx, "transfer.success", u).status_code == 200
    wait_status(http, ngx, tenant, u, "success")
    with open(env.egress_log) as f:
        log = f.read()
    assert "/paystack/transfer " in log or "/paystack/transfer HTTP" in log


def test_reconciliation_through_the_upstream(env, ps, http, tenant):
    """The answer is lost (the stand-in executes and hangs up): nginx's
    proxy answers 502, the connector calls that unknown, and the
    reconciler's verify, through the upstream too, settles it."""
    ngx = env.ngx
    number = account()
    ps.outcome[number] = "drop"
    out = create(http, ngx, tenant, body(number))
    u = out["payout_uuid"]
    assert out["status"] == "pending_created", out
    wait_status(http, ngx, tenant, u, "pending_promise", timeout=15)
    assert ps.got("GET", "/transfer/verify/" + u)
    assert ps.executed(u) == 1
    proxied(ps)


def test_the_egress_location_is_not_public(env):
    """The egress server proxies its location only: any other path is
    nginx's own 404, nothing of the module's."""
    r = requests.get("http://127.0.0.1:%d/elsewhere" % env.egress_port)
    assert r.status_code == 404
    assert "payout" not in json.dumps(dict(r.headers)).lower()
