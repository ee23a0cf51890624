"""The SSRF guard holds for every webhook request, not only for every
connection it opens: a merchant webhook never rides a connection opened
for a provider call (libcurl keeps those alive and would reuse one for
the same host and port), so a gateway on a private address, which the
operator configured, is no way into the private network for a merchant.

A Receiver stands in for the provider, on 127.0.0.1, with webhooks to
private addresses refused (payout_webhook_allow_private off)."""

import pytest

from conftest import free_port
from payout_helpers import bank, create, sandbox_nginx, wait_for
from receiver import chain, hooked, quiet_outbox, rc, receivers

assert quiet_outbox and rc and receivers  # fixtures, used by name

REFUSED = "destination address not allowed"


def provider_nginx(nginx_factory, gateway_url):
    return nginx_factory(webhook_allow_private=False, http="""
    payout_gateway sandbox connector=sandbox url=%s timeout=2s;
    payout_reconcile_grace 60s;
    payout_reconcile_interval 1h;
""" % gateway_url)


def delivery_rows(pg, u):
    return pg.sql("SELECT d.url, d.state, d.attempts, d.last_status, "
                  "d.last_error FROM webhook_deliveries d JOIN payouts p "
                  "ON p.id = d.payout_id WHERE p.uuid = %s ORDER BY d.id",
                  (u,))


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_webhook_never_reuses_a_provider_connection(nginx_factory, pg,
                                                    tenant, http, receivers,
                                                    host):
    provider = receivers()
    base = "http://%s:%d%s" % (host, provider.port, provider.prefix)
    ngx = provider_nginx(nginx_factory, base + "/gw")

    # a provider call: libcurl keeps its connection to 127.0.0.1 open
    create(http, ngx, tenant, bank("5551360001"))
    provider.wait(lambda reqs: [r for r in reqs
                                if r.path == provider.prefix
                                + "/gw/transfers"], timeout=5,
                  what="the provider call")

    # then a webhook to that same host and port; the staged payout
    # makes no provider call of its own
    hook = base + "/hook"
    if host == "localhost":
        u = create(http, ngx, tenant, bank(
            "5551360002", stage=True, webhook_urls=[hook]))["payout_uuid"]
    else:
        # a literal private address may be refused at create: queue the
        # delivery directly, next to one to a closed port
        u = create(http, ngx, tenant, bank(
            "5551360002", stage=True, webhook_urls=[
                "http://localhost:%d/closed" % free_port()]))["payout_uuid"]
        pg.sql("INSERT INTO webhook_deliveries (event_id, payout_id, url) "
               "SELECT event_id, payout_id, %s FROM webhook_deliveries d "
               "JOIN payouts p ON p.id = d.payout_id WHERE p.uuid = %s",
               (hook, u))

    rows = wait_for(lambda: (lambda rs: rs if rs and all(
        r[3] is not None or r[4] is not None for r in rs) else None)(
            delivery_rows(pg, u)), timeout=8, what="the webhook attempts")
    for url, state, attempts, last_status, last_error in rows:
        assert (state, last_status, last_error) \
            == ("pending", None, REFUSED), rows
    assert hook in [r[0] for r in rows]

    # it never reached the stand-in (which the reconciler may ask about
    # other tests' payouts in the shared database meanwhile)
    assert not [r for r in provider.requests + provider.strays
                if "/hook" in r.path]


def test_webhooks_keep_their_own_connections_alive(nginx_factory, tenant,
                                                   http, rc):
    """Their own connection cache still lets webhooks to one host share
    a kept-alive connection."""
    ngx = sandbox_nginx(nginx_factory)
    u = create(http, ngx, tenant, hooked(bank("5551360011"),
                                         rc))["payout_uuid"]
    reqs = rc.wait_events(u, 3)
    assert chain(reqs) == ["pending_created", "pending_promise", "success"]
    assert len({r.peer for r in reqs}) == 1, [r.peer for r in reqs]
