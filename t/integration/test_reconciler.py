"""The reconciler (SPEC §6): payouts whose provider call got no definite
answer are asked about at the provider by reference, then either
recorded (the 0006 case), sent again with the same idempotency key (never
a second transfer), or, once the provider confirms it has nothing and the
payout is older than payout_reconcile_window, ended canceled_timeout.
Merchant webhooks follow every one of these transitions, in order.

"Never reached the provider" is made real with a second nginx node on
the same database whose sandbox gateway points at a closed port: its
create commits pending_created, the call is refused, and the payout is
left for the reconciler of the node that does reach the provider."""

import shutil
import time

import pytest
import requests

from conftest import Nginx, free_port
from payout_helpers import (assert_history, bank, create, events,
                            get_payout, payout_row, post_hook, post_json,
                            sandbox_event, sandbox_nginx, sandbox_signature,
                            wait_status)
from receiver import (PROMPT, chain, check_webhook, history_times, hooked,
                      quiet_outbox, rc, receivers)

assert quiet_outbox and rc and receivers  # fixtures, used by name


def ledger(ngx, reference):
    r = requests.get(ngx.url("/sandbox/ledger"),
                     params={"reference": reference}, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()["transfers"]


def unreachable_node(nginx_factory):
    """A node whose provider is not there (a closed port), and whose
    own reconciler leaves the payouts alone while the test runs."""
    return nginx_factory(http="""
    payout_gateway sandbox connector=sandbox
                   url=http://127.0.0.1:%d/sandbox timeout=1s;
    payout_reconcile_grace 60s;
""" % free_port())


def sources(pg, u):
    return [s for _f, _t, s in events(pg, u)]


def log_has(ngx, text):
    with open(ngx.error_log, errors="replace") as f:
        return text in f.read()


def check_prompt(pg, u, reqs):
    for (to, at), req in zip(history_times(pg, u), reqs):
        assert req.json["sub_status"] == to
        assert -0.05 < req.at - at < PROMPT, (to, req.at - at)


def test_no_answer_is_found_executed_and_recorded(nginx_factory, pg, tenant,
                                                  http, rc):
    """0006: the provider executed the transfer but never answered."""
    ngx = sandbox_nginx(nginx_factory, gateway_timeout="1s",
                        reconcile_grace="1s")
    t0 = time.time()
    out = create(http, ngx, tenant, hooked(bank("5552000006"), rc))
    assert 0.8 <= time.time() - t0 < 5
    assert out["status"] == "pending_created", out
    assert out["gateway_payout_id"] is None
    u = out["payout_uuid"]

    p = wait_status(http, ngx, tenant, u, "success", timeout=8)
    assert p["gateway_payout_id"].startswith("sbx_tr_"), p
    assert assert_history(pg, u) == ["pending_created", "success"]
    assert sources(pg, u) == ["api", "reconciler"]
    transfers = ledger(ngx, u)
    assert len(transfers) == 1, transfers
    assert transfers[0]["status"] == "succeeded"
    assert transfers[0]["reference"] == u
    assert log_has(ngx, "reconciler moved payout %s to success" % u)

    reqs = rc.wait_events(u, 2)
    assert chain(reqs) == ["pending_created", "success"]
    for req in reqs:
        check_webhook(req, u)
    assert reqs[1].json["gateway_payout_id"] == p["gateway_payout_id"]
    check_prompt(pg, u, reqs)

    # settled: later rounds of the reconciler change nothing
    time.sleep(0.9)
    assert len(events(pg, u)) == 2
    assert len(ledger(ngx, u)) == 1
    assert len(rc.got(u)) == 2


def test_never_sent_is_sent_again_with_the_same_key(nginx_factory, pg,
                                                    tenant, http, rc):
    ngx = sandbox_nginx(nginx_factory, reconcile_grace="1s")
    down = unreachable_node(nginx_factory)
    body = hooked(bank("5552010001", idempotency_key="never-sent"), rc)
    out = create(http, down, tenant, body)
    assert out["status"] == "pending_created", out
    assert out["gateway_payout_id"] is None
    u = out["payout_uuid"]
    assert ledger(ngx, u) == []            # the provider never saw it

    p = wait_status(http, ngx, tenant, u, "success", timeout=8)
    assert assert_history(pg, u) == ["pending_created", "pending_promise",
                                     "success"]
    assert sources(pg, u) == ["api", "reconciler", "webhook"]
    assert log_has(ngx, "reconciler sends payout %s again" % u)
    # one transfer, under our payout's uuid: the idempotency key
    transfers = ledger(ngx, u)
    assert len(transfers) == 1, transfers
    t = transfers[0]
    assert (t["reference"], t["status"], t["amount"], t["currency"]) \
        == (u, "succeeded", 1000, "NGN")
    assert t["destination"]["last4"] == "0001"
    assert p["gateway_payout_id"] == t["id"]

    reqs = rc.wait_events(u, 3)
    assert chain(reqs) == ["pending_created", "pending_promise", "success"]
    for req in reqs:
        check_webhook(req, u)

    # the merchant retrying the create gets the stored state; nothing new
    again = create(http, down, tenant, body)
    assert again["payout_uuid"] == u and again["resource_created"] is False
    assert again["status"] == "success"
    time.sleep(0.7)
    assert len(ledger(ngx, u)) == 1
    assert len(events(pg, u)) == 3


def test_timeout_only_when_the_provider_has_nothing(nginx_factory, pg,
                                                    tenant, http, rc):
    """Past payout_reconcile_window (1 s here; the grace of 2 s makes the
    first check come after it): the payout the provider never saw ends
    canceled_timeout; one still in flight at the provider (0007) and one
    it executed without answering (0006) do not."""
    ngx = sandbox_nginx(nginx_factory, gateway_timeout="1s",
                        reconcile_grace="2s",
                        http="payout_reconcile_window 1s;")
    down = unreachable_node(nginx_factory)
    lost = create(http, down, tenant,
                  hooked(bank("5552020001"), rc, "lost"))["payout_uuid"]
    flight = create(http, ngx, tenant, hooked(bank("5552020007"), rc,
                                              "flight"))
    assert flight["status"] == "pending_promise", flight
    flight = flight["payout_uuid"]
    silent = create(http, ngx, tenant, hooked(bank("5552020006"), rc,
                                              "silent"))
    assert silent["status"] == "pending_created", silent
    silent = silent["payout_uuid"]

    p = wait_status(http, ngx, tenant, lost, "canceled_timeout", timeout=8)
    assert p["status"] == "canceled" and p["failure_reason"], p
    assert assert_history(pg, lost) == ["pending_created",
                                        "canceled_timeout"]
    assert sources(pg, lost) == ["api", "reconciler"]
    assert ledger(ngx, lost) == []        # and nothing was ever sent
    reqs = rc.wait_events(lost, 2)
    assert chain(reqs) == ["pending_created", "canceled_timeout"]
    for req in reqs:
        check_webhook(req, lost)
    assert reqs[1].json["failure_reason"] == p["failure_reason"]

    wait_status(http, ngx, tenant, silent, "success", timeout=8)
    assert assert_history(pg, silent) == ["pending_created", "success"]
    assert len(ledger(ngx, silent)) == 1

    # asked about, more than once by now, and still pending: the
    # provider has it in flight
    deadline = time.time() + 8
    while pg.sql("SELECT provider_attempts FROM payouts WHERE uuid = %s",
                 (flight,))[0][0] < 2:
        assert time.time() < deadline, "the reconciler never asked twice"
        time.sleep(0.1)
    assert get_payout(http, ngx, tenant, flight)["sub_status"] \
        == "pending_promise"
    assert assert_history(pg, flight) == ["pending_created",
                                          "pending_promise"]
    assert [t["status"] for t in ledger(ngx, flight)] == ["pending"]
    # (cancel it, so that it does not linger for later tests)
    r = post_json(http, ngx, tenant, "/v1/payouts/%s/cancel" % flight, {})
    assert r.status_code == 200, r.text
    reqs = rc.wait_events(flight, 3)
    assert chain(reqs) == ["pending_created", "pending_promise",
                           "canceled_voided"]


def test_reconciler_alone_resolves_in_flight_payouts(nginx_factory, pg,
                                                     tenant, http, rc):
    """A sandbox that sends no provider webhooks (no
    payout_sandbox_webhook_url): polling at the provider is the only way
    to learn the outcome."""
    port = free_port()
    ngx = nginx_factory(http="""
    payout_gateway sandbox connector=sandbox
                   url=http://127.0.0.1:%(port)d/sandbox timeout=1s;
    payout_sandbox_webhook_delay 200ms;
    payout_reconcile_interval 300ms;
    payout_reconcile_grace 1s;
    server {
        listen 127.0.0.1:%(port)d;
        location /sandbox/ { payout_sandbox; }
    }
""" % dict(port=port))
    plan = {"5552030001": ["pending_created", "pending_promise", "success"],
            "5552030004": ["pending_created", "pending_promise",
                           "canceled_failure"]}
    made = {}
    for number, want in plan.items():
        out = create(http, ngx, tenant, hooked(bank(number), rc, number))
        assert out["status"] == "pending_promise", out
        made[out["payout_uuid"]] = want
    for u, want in made.items():
        wait_status(http, ngx, tenant, u, want[-1], timeout=8)
        assert assert_history(pg, u) == want
        assert sources(pg, u) == ["api", "provider", "reconciler"]
        reqs = rc.wait_events(u, 3)
        assert chain(reqs) == want
        for req in reqs:
            check_webhook(req, u)
        check_prompt(pg, u, reqs)


def test_late_provider_webhooks_send_no_merchant_webhook(nginx_factory, pg,
                                                          tenant, http, rc):
    """Duplicate and out-of-order provider events move nothing back, and
    so queue nothing for the merchant."""
    ngx = sandbox_nginx(nginx_factory)
    out = create(http, ngx, tenant, hooked(bank("5552040001"), rc))
    u = out["payout_uuid"]
    wait_status(http, ngx, tenant, u, "success")
    rc.wait_events(u, 3)
    row = payout_row(pg, u)
    n_events = pg.sql("SELECT count(*) FROM webhook_events e "
                      "JOIN payouts p ON p.id = e.payout_id "
                      "WHERE p.uuid = %s", (u,))[0][0]
    assert n_events == 3
    for status, eid in (("succeeded", "evt_dup"), ("pending", "evt_old"),
                        ("failed", "evt_late")):
        body = sandbox_event(u, status, gateway_id=out["gateway_payout_id"],
                             event_id=eid)
        r = post_hook(http, ngx, body, sandbox_signature(body))
        assert r.status_code == 200, r.text
        assert r.json()["outcome"] == "ignored", (status, r.text)
    assert payout_row(pg, u) == row
    assert pg.sql("SELECT count(*) FROM webhook_events e "
                  "JOIN payouts p ON p.id = e.payout_id "
                  "WHERE p.uuid = %s", (u,))[0][0] == 3
    time.sleep(0.5)
    assert chain(rc.got(u)) == ["pending_created", "pending_promise",
                                "success"]


def test_only_payouts_of_its_own_gateways_are_claimed(nginx_factory, pg,
                                                      tenant, http):
    """A node asks only gateways it has, in their mode: a payout of a
    gateway it lacks (another node's), or of its gateway in the other
    mode, is never claimed, so such payouts can't crowd out its own."""
    ngx = sandbox_nginx(nginx_factory, gateway_timeout="1s",
                        reconcile_grace="1s")
    out = create(http, ngx, tenant, bank("5552030007"))
    u = out["payout_uuid"]
    others = []
    for gateway, live in (("elsewhere", False), ("sandbox", True)):
        row = pg.sql(
            "INSERT INTO payouts (tenant_id, livemode, amount, currency, "
            "gateway, status, sub_status, updated_at) VALUES "
            "(%s, %s, 100, 'NGN', %s, 'pending', 'pending_created', "
            "now() - interval '1 hour') RETURNING uuid::text",
            (tenant.id, live, gateway))
        others.append(row[0][0])

    def attempts(uuid):
        return pg.sql("SELECT provider_attempts FROM payouts "
                      "WHERE uuid = %s", (uuid,))[0][0]

    deadline = time.time() + 8
    while attempts(u) < 2 and time.time() < deadline:
        time.sleep(0.1)
    assert attempts(u) >= 2          # its own payout is checked
    for other in others:
        assert attempts(other) == 0, other


def promised_payout(pg, tenant, gateway):
    """A test-mode payout pending_promise at gateway, due for a check."""
    return pg.sql(
        "INSERT INTO payouts (tenant_id, livemode, amount, currency, "
        "gateway, status, sub_status, updated_at) VALUES "
        "(%s, false, 100, 'NGN', %s, 'pending', 'pending_promise', "
        "now() - interval '1 hour') RETURNING id", (tenant.id, gateway))[0][0]


@pytest.mark.parametrize("value,error", [
    ("200ms", None), ("1s 10m", None),
    ("0", 'invalid time "0"'), ("soon", 'invalid time "soon"'),
    ("1s 0", 'invalid time "0"'),
    ("1m 10s", "is shorter than"),
    ("1s 2s 3s", "invalid number of arguments")])
def test_reconcile_backoff_is_checked(pg, value, error):
    ngx = Nginx(pg, http="payout_reconcile_backoff %s;" % value)
    try:
        out = ngx.check_config()
    finally:
        shutil.rmtree(ngx.dir, ignore_errors=True)
    assert (out.returncode == 0) == (error is None), out.stderr
    if error:
        assert error in out.stderr, out.stderr


def test_backoff_schedule(pg, tenant):
    """Ten checks the first wait apart, then ten times it, doubling up to
    the longest; the three-argument claim keeps today's 3 s, 30 s .. 1 h."""
    pid = promised_payout(pg, tenant, "backoff")

    def wait_after(attempts, args):
        pg.sql("UPDATE payouts SET provider_attempts = %s, "
               "next_check_at = NULL WHERE id = %s", (attempts, pid))
        # one transaction, so now() is the claim's
        return pg.sql(
            "SELECT count(*) FROM payout_reconcile_claim(1, 0, "
            "'{backoff:test}'%s); SELECT extract(epoch FROM "
            "next_check_at - now())::float FROM payouts WHERE id = %d"
            % (args, pid))[0][0]

    try:
        for attempts, wait in ((0, 0.2), (9, 0.2), (10, 2), (11, 4),
                               (12, 5), (40, 5)):
            assert wait_after(attempts, ", 200, 5000") \
                == pytest.approx(wait), attempts
        for attempts, wait in ((9, 3), (10, 30), (16, 1920), (17, 3600),
                               (100, 3600)):
            assert wait_after(attempts, "") == pytest.approx(wait), attempts
    finally:
        pg.sql("DELETE FROM payouts WHERE id = %s", (pid,))


def test_backoff_is_the_directives(nginx_factory, pg, tenant):
    """payout_reconcile_backoff reaches the claim: a payout the provider
    knows nothing of is asked about every 300 ms, not every 3 s."""
    ngx = sandbox_nginx(nginx_factory, reconcile_grace="100ms",
                        http="payout_reconcile_backoff 300ms;")
    pid = promised_payout(pg, tenant, "sandbox")
    try:
        time.sleep(3)
        attempts = pg.sql("SELECT provider_attempts FROM payouts "
                          "WHERE id = %s", (pid,))[0][0]
        assert 4 <= attempts <= 10, attempts
    finally:
        pg.sql("DELETE FROM payouts WHERE id = %s", (pid,))
        assert ngx


def test_polled_cadence(pg, tenant):
    """A connector that polls (NGX_PAYOUT_CAP_POLL, PaynetEasy): its
    in-flight payouts are asked every 3 to 4 s while younger than five
    minutes, then every 5 to 10 minutes until an hour old, then hourly;
    the same payout at a gateway that does not poll keeps the backoff,
    and a pending_created one of a polled gateway too."""
    pid = promised_payout(pg, tenant, "polled")

    def wait_after(age, attempts=3, poll="'{polled:test}'",
                   sub_status="pending_promise"):
        pg.sql("UPDATE payouts SET provider_attempts = %s, "
               "next_check_at = NULL, sub_status = %s, "
               "created_at = now() - %s * interval '1 second' "
               "WHERE id = %s", (attempts, sub_status, age, pid))
        return pg.sql(
            "SELECT count(*) FROM payout_reconcile_claim(1, 0, "
            "'{polled:test}', 3000, 3600000, %s, 3000); SELECT "
            "extract(epoch FROM next_check_at - now())::float "
            "FROM payouts WHERE id = %d" % (poll, pid))[0][0]

    try:
        for age in (0, 60, 299):
            assert 3 <= wait_after(age) <= 4, age
        for age in (301, 1800, 3599):
            assert 300 <= wait_after(age, attempts=90) <= 600, age
        assert wait_after(3601, attempts=200) == pytest.approx(3600)
        # not polled: the backoff of any payout
        assert wait_after(0, poll="NULL") == pytest.approx(3)
        assert wait_after(0, attempts=12, poll="'{}'") == pytest.approx(120)
        assert wait_after(0, sub_status="pending_created") \
            == pytest.approx(3)
    finally:
        pg.sql("DELETE FROM payouts WHERE id = %s", (pid,))


def test_polled_payout_waits_its_first_poll_not_the_grace(pg, tenant):
    """Never claimed yet: due p_poll_ms after its last change, not after
    the grace."""
    pid = promised_payout(pg, tenant, "polled")
    claim = ("SELECT count(*) FROM payout_reconcile_claim(1, 60000, "
             "'{polled:test}', 3000, 3600000, %s, 3000)")
    try:
        pg.sql("UPDATE payouts SET updated_at = now() - interval '5 s', "
               "next_check_at = NULL WHERE id = %s", (pid,))
        assert pg.sql(claim % "NULL")[0][0] == 0
        assert pg.sql(claim % "'{polled:test}'")[0][0] == 1
    finally:
        pg.sql("DELETE FROM payouts WHERE id = %s", (pid,))
