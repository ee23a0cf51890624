"""GET /metrics (issue 11): the Prometheus text format 0.0.4 from the
shared-memory counters and the database's gauges.

Each test reads /metrics before and after what it does (requests,
payouts, provider webhooks with good and bad signatures, merchant
webhook deliveries) and asserts the exact deltas; every scrape passes
`promtool check metrics`; with PostgreSQL stopped a scrape still answers
200 with the counters and payout_database_up 0 within the queue
timeout.  Two workers: the counters are the zone's, not a worker's."""

import re
import shutil
import subprocess
import time
import uuid as uuidlib

import pytest

from conftest import Nginx
from payout_helpers import (bank, create, post_hook, post_json,
                            sandbox_event, sandbox_nginx, sandbox_signature,
                            wait_for, wait_status)
from receiver import Receiver

METRICS = """
        location = /metrics {
            payout_metrics;
            allow 127.0.0.1;
            deny all;
        }
"""

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')

PROMTOOL = shutil.which("promtool")


def parse(text):
    """{(name, frozenset(labels)): value} and {name: (help, type)}"""
    samples, meta = {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_ = line[7:].partition(" ")
            meta.setdefault(name, {})["help"] = help_
            continue
        if line.startswith("# TYPE "):
            name, _, type_ = line[7:].partition(" ")
            meta.setdefault(name, {})["type"] = type_
            continue
        m = LINE.match(line)
        assert m, "not a sample line: %r" % line
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples, meta


def promtool_check(text):
    if PROMTOOL is None:
        pytest.skip("promtool (Debian prometheus) is not installed")
    out = subprocess.run([PROMTOOL, "check", "metrics"], input=text,
                         capture_output=True, text=True)
    # promtool's lint wants _total counters; every problem is printed
    assert out.returncode == 0, out.stdout + out.stderr


def scrape(http, ngx, check=True):
    r = http.get(ngx.url("/metrics"))
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == \
        "text/plain; version=0.0.4; charset=utf-8"
    if check:
        promtool_check(r.text)
    return parse(r.text)[0]


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0)


def delta(before, after, name, **labels):
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture(scope="module")
def rcv():
    rc = Receiver().start()
    yield rc
    rc.stop()


@pytest.fixture
def ngx(nginx_factory):
    return sandbox_nginx(nginx_factory, workers=2, server=METRICS,
                         webhook_schedule="0 1s")


def account(last4):
    return "%06d%04d" % (uuidlib.uuid4().int % 10 ** 6, last4)


def test_every_metric_has_help_and_type(http, ngx):
    r = http.get(ngx.url("/metrics"))
    assert r.status_code == 200
    promtool_check(r.text)
    samples, meta = parse(r.text)
    names = {
        "payout_http_requests_total": "counter",
        "payout_payouts_created_total": "counter",
        "payout_transitions_total": "counter",
        "payout_provider_requests_total": "counter",
        "payout_provider_request_duration_seconds": "histogram",
        "payout_provider_webhooks_total": "counter",
        "payout_webhook_deliveries_total": "counter",
        "payout_webhook_backlog": "gauge",
        "payout_webhook_oldest_pending_seconds": "gauge",
        "payout_pending_payouts": "gauge",
        "payout_stuck_payouts": "gauge",
        "payout_db_pool_connections": "gauge",
        "payout_db_queue_wait_seconds": "histogram",
        "payout_db_unavailable_total": "counter",
        "payout_database_up": "gauge",
        "payout_reconciler_runs_total": "counter",
    }
    for name, type_ in names.items():
        assert meta[name]["type"] == type_, name
        assert meta[name]["help"], name
    for name, _labels in samples:
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in meta or base in meta, name
    assert value(samples, "payout_database_up") == 1
    # every result label is there from the start, at 0
    for result in ("delivered", "failed", "dead", "disabled"):
        assert ("payout_webhook_deliveries_total",
                frozenset({("result", result)})) in samples
    for result in ("accepted", "bad_signature", "ignored"):
        assert ("payout_provider_webhooks_total",
                frozenset({("gateway", "sandbox"),
                           ("result", result)})) in samples
    # two workers, a pool of two each: four connections, by state
    total = sum(value(samples, "payout_db_pool_connections", state=s)
                for s in ("down", "connecting", "idle", "busy"))
    assert total == 4


def test_requests_by_route_pattern_method_and_code(http, ngx, tenant):
    before = scrape(http, ngx)
    missing = str(uuidlib.uuid4())
    for _ in range(3):
        r = http.get(ngx.url("/v1/payouts/" + missing),
                     headers=tenant.headers)
        assert r.status_code == 404
    assert http.get(ngx.url("/v1/payouts"),
                    headers=tenant.headers).status_code == 200
    assert http.get(ngx.url("/v1/payouts")).status_code == 401
    assert http.get(ngx.url("/v1/nowhere"),
                    headers=tenant.headers).status_code == 404
    assert http.delete(ngx.url("/v1/payouts"),
                       headers=tenant.headers).status_code == 405
    after = scrape(http, ngx)

    name = "payout_http_requests_total"
    assert delta(before, after, name, route="/payouts/{uuid}", method="GET",
                 code="404") == 3
    assert delta(before, after, name, route="/payouts", method="GET",
                 code="200") == 1
    assert delta(before, after, name, route="/payouts", method="GET",
                 code="401") == 1
    assert delta(before, after, name, route="other", method="GET",
                 code="404") == 1
    assert delta(before, after, name, route="other", method="DELETE",
                 code="405") == 1
    # the scrape before this one is counted too: never a raw URI
    assert delta(before, after, name, route="/metrics", method="GET",
                 code="200") == 1
    for (n, labels), _v in after.items():
        if n == name:
            route = dict(labels)["route"]
            assert missing not in route and "/v1/" not in route


def test_payouts_transitions_and_provider_calls(http, ngx, tenant):
    before = scrape(http, ngx)
    # 0007: accepted, pending, then nothing (no webhook, no reconciler)
    p = create(http, ngx, tenant, bank(account(7)))
    assert p["status"] == "pending_promise"
    r = post_json(http, ngx, tenant, "/v1/payouts", bank(account(2)))
    assert r.status_code == 400, r.text
    after = scrape(http, ngx)

    assert delta(before, after, "payout_payouts_created_total",
                 gateway="sandbox", mode="test") == 2
    assert delta(before, after, "payout_transitions_total",
                 gateway="sandbox", **{"from": "pending_created",
                                       "to": "pending_promise"}) == 1
    assert delta(before, after, "payout_transitions_total",
                 gateway="sandbox", **{"from": "pending_created",
                                       "to": "canceled_rejected"}) == 1
    assert delta(before, after, "payout_provider_requests_total",
                 gateway="sandbox", op="initiate", outcome="ok") == 2
    assert delta(before, after,
                 "payout_provider_request_duration_seconds_count",
                 gateway="sandbox", op="initiate") == 2
    assert delta(before, after,
                 "payout_provider_request_duration_seconds_bucket",
                 gateway="sandbox", op="initiate", le="+Inf") == 2
    assert delta(before, after, "payout_http_requests_total",
                 route="/payouts", method="POST", code="201") == 1
    assert delta(before, after, "payout_http_requests_total",
                 route="/payouts", method="POST", code="400") == 1
    # the pending payout is in the database's gauge
    assert value(after, "payout_pending_payouts", gateway="sandbox",
                 sub_status="pending_promise") >= 1

    # live status: a lookup at the provider
    r = http.get(ngx.url("/v1/payouts/%s/status" % p["payout_uuid"]),
                 headers=tenant.headers)
    assert r.status_code == 200, r.text
    later = scrape(http, ngx)
    assert delta(after, later, "payout_provider_requests_total",
                 gateway="sandbox", op="lookup", outcome="ok") == 1


def test_provider_webhooks_good_and_bad_signature(http, ngx, tenant):
    p = create(http, ngx, tenant, bank(account(7)))
    before = scrape(http, ngx)

    body = sandbox_event(p["payout_uuid"], "succeeded")
    bad = post_hook(http, ngx, body, "t=%d,v1=%s" % (time.time(), "0" * 64))
    assert bad.status_code == 401
    none = post_hook(http, ngx, body)
    assert none.status_code == 401
    good = post_hook(http, ngx, body, sandbox_signature(body))
    assert good.status_code == 200 and good.json()["outcome"] == "applied"
    again = post_hook(http, ngx, body, sandbox_signature(body))
    assert again.json()["outcome"] == "ignored"
    after = scrape(http, ngx)

    hooks = "payout_provider_webhooks_total"
    assert delta(before, after, hooks, gateway="sandbox",
                 result="bad_signature") == 2
    assert delta(before, after, hooks, gateway="sandbox",
                 result="accepted") == 1
    assert delta(before, after, hooks, gateway="sandbox",
                 result="ignored") == 1
    assert delta(before, after, "payout_transitions_total",
                 gateway="sandbox", **{"from": "pending_promise",
                                       "to": "success"}) == 1
    assert delta(before, after, "payout_http_requests_total",
                 route="/hooks/{gateway}", method="POST", code="401") == 2
    assert delta(before, after, "payout_http_requests_total",
                 route="/hooks/{gateway}", method="POST", code="200") == 2


def test_the_sandboxs_own_webhook(http, ngx, tenant):
    """The sandbox sends its signed transfer.succeeded to /hooks/sandbox
    after payout_sandbox_webhook_delay."""
    before = scrape(http, ngx)
    p = create(http, ngx, tenant, bank(account(1)))
    wait_status(http, ngx, tenant, p["payout_uuid"], "success")

    def settled():
        s = scrape(http, ngx, check=False)
        return s if delta(before, s, "payout_provider_webhooks_total",
                          gateway="sandbox", result="accepted") else None

    after = wait_for(settled, what="the sandbox's webhook counted")
    assert delta(before, after, "payout_provider_webhooks_total",
                 gateway="sandbox", result="accepted") == 1
    assert delta(before, after, "payout_transitions_total",
                 gateway="sandbox", **{"from": "pending_promise",
                                       "to": "success"}) == 1


def test_deliveries_delivered_failed_dead(http, ngx, tenant, pg, rcv):
    before = scrape(http, ngx)
    ok = create(http, ngx, tenant, bank(account(7),
                                        webhook_urls=[rcv.url("ok")]))
    n_ok = pg.sql("SELECT count(*) FROM webhook_deliveries d "
                  "JOIN payouts p ON p.id = d.payout_id WHERE p.uuid = %s",
                  (ok["payout_uuid"],))[0][0]
    assert n_ok >= 1
    rcv.wait(lambda reqs: len([q for q in reqs if q.path.endswith("/ok")])
             >= n_ok, what="the deliveries")

    # every attempt to this one fails: two attempts ("0 1s"), then dead
    rcv.respond = lambda req: 500 if req.path.endswith("/bad") else None
    bad = create(http, ngx, tenant, bank(account(7),
                                         webhook_urls=[rcv.url("bad")]))
    n_bad = pg.sql("SELECT count(*) FROM webhook_deliveries d "
                   "JOIN payouts p ON p.id = d.payout_id WHERE p.uuid = %s",
                   (bad["payout_uuid"],))[0][0]

    def done():
        rows = pg.sql("SELECT d.state, count(*) FROM webhook_deliveries d "
                      "JOIN payouts p ON p.id = d.payout_id "
                      "WHERE p.uuid IN (%s, %s) GROUP BY 1",
                      (ok["payout_uuid"], bad["payout_uuid"]))
        states = dict(rows)
        return states if states.get("pending", 0) == 0 else None

    try:
        states = wait_for(done, timeout=15, what="deliveries to settle")
    finally:
        rcv.respond = None
    assert states == {"delivered": n_ok, "dead": n_bad}, states
    after = wait_for(lambda: (lambda s: s if delta(
        before, s, "payout_webhook_deliveries_total", result="dead")
        == n_bad else None)(scrape(http, ngx, check=False)),
        what="the last attempts counted")

    deliveries = "payout_webhook_deliveries_total"
    assert delta(before, after, deliveries, result="delivered") == n_ok
    assert delta(before, after, deliveries, result="failed") == n_bad
    assert delta(before, after, deliveries, result="dead") == n_bad
    assert delta(before, after, deliveries, result="disabled") == 0
    promtool_check(http.get(ngx.url("/metrics")).text)


def test_database_down_still_answers(http, nginx_factory, tenant):
    """A PostgreSQL of its own, stopped under a running nginx."""
    from conftest import own_database
    db, headers = own_database()
    try:
        ngx = Nginx(db, server=METRICS, workers=1)
        ngx.start()
        try:
            r = http.get(ngx.url("/v1/payouts"), headers=headers)
            assert r.status_code == 200
            up = scrape(http, ngx)
            assert value(up, "payout_database_up") == 1
            assert "payout_webhook_backlog" in {n for n, _l in up}

            db.stop()
            r = http.get(ngx.url("/v1/payouts"), headers=headers)
            assert r.status_code == 503
            t0 = time.time()
            r = http.get(ngx.url("/metrics"), timeout=10)
            took = time.time() - t0
            assert r.status_code == 200, r.text
            # payout_database_queue_timeout: 3 s by default
            assert took < 3.5, took
            promtool_check(r.text)
            down = parse(r.text)[0]
            assert value(down, "payout_database_up") == 0
            assert "payout_webhook_backlog" not in {n for n, _l in down}
            # the counters are still there, with the 503 counted
            assert delta(up, down, "payout_http_requests_total",
                         route="/payouts", method="GET", code="503") == 1
            assert delta(up, down, "payout_db_unavailable_total") >= 1
        finally:
            problems = ngx.destroy()
        # a database going away is logged; nothing else may be
        assert not [p for p in problems
                    if "database" not in p and "PostgreSQL" not in p
                    and "connect" not in p], problems
    finally:
        db.destroy()


def test_metrics_directive_refused_elsewhere(pg):
    ngx = Nginx(pg, http="payout_metrics;")
    out = ngx.check_config()
    shutil.rmtree(ngx.dir, ignore_errors=True)
    assert out.returncode != 0
    assert '"payout_metrics" directive is not allowed here' in out.stderr

    ngx = Nginx(pg, server="location = /m { payout_metrics x; }")
    out = ngx.check_config()
    shutil.rmtree(ngx.dir, ignore_errors=True)
    assert out.returncode != 0
    assert 'invalid number of arguments in "payout_metrics"' in out.stderr


def test_stuck_payout_logged_once_and_counted(http, nginx_factory, tenant,
                                              pg):
    """Pending past payout_reconcile_window: one [warn] with its uuid and
    gateway, whichever worker looks, however often; counted."""
    # the database is shared with every earlier test: their pending
    # payouts are older than ours and would be warned about first, a
    # batch per run, so they count as warned already
    pg.sql("UPDATE payouts SET stuck_logged_at = now() "
           "WHERE status = 'pending' AND stuck_logged_at IS NULL")
    ngx = sandbox_nginx(nginx_factory, workers=2, server=METRICS,
                        http="payout_reconcile_window 2s;")
    before = scrape(http, ngx)
    p = create(http, ngx, tenant, bank(account(7)))
    uuid = p["payout_uuid"]

    def warned():
        with open(ngx.error_log) as f:
            got = [line for line in f if uuid in line and "[warn]" in line]
        return got or None

    lines = wait_for(warned, timeout=10, what="the stuck payout's [warn]")
    assert 'gateway "sandbox"' in lines[0]
    assert "pending_promise" in lines[0]
    assert "payout_reconcile_window" in lines[0]
    time.sleep(2.5)
    assert len(warned()) == 1
    after = scrape(http, ngx)
    assert delta(before, after, "payout_stuck_logged_total",
                 gateway="sandbox") >= 1
    assert value(after, "payout_stuck_payouts", gateway="sandbox") >= 1
    r = http.get(ngx.url("/v1/payouts?filter.sub_status=pending_promise"),
                 headers=tenant.headers)
    assert uuid in [x["uuid"] for x in r.json()["data"]]


def test_alert_rules_check_and_are_documented():
    """The three rules of docs/operations.md, kept in
    conf/prometheus/payout-alerts.yml, pass promtool check rules; the
    doc shows the file as it is."""
    from conftest import ROOT
    import os
    if PROMTOOL is None:
        pytest.skip("promtool (Debian prometheus) is not installed")
    path = os.path.join(ROOT, "conf", "prometheus", "payout-alerts.yml")
    out = subprocess.run([PROMTOOL, "check", "rules", path],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS: 3 rules found" in out.stdout
    with open(path) as f:
        rules = f.read()
    with open(os.path.join(ROOT, "docs", "operations.md")) as f:
        doc = f.read()
    assert "```yaml\n" + rules + "```" in doc
    for name in re.findall(r"\bpayout_[a-z_]+", rules):
        assert "`%s" % name in doc, name


def test_transitions_the_api_makes(http, ngx, tenant):
    """A staged payout's transfer and void are transitions too."""
    before = scrape(http, ngx)
    one = create(http, ngx, tenant, bank(account(7), stage=True))
    two = create(http, ngx, tenant, bank(account(7), stage=True))
    r = post_json(http, ngx, tenant,
                  "/v1/payouts/%s/transfer" % one["payout_uuid"], {})
    assert r.status_code in (200, 201), r.text
    r = post_json(http, ngx, tenant,
                  "/v1/payouts/%s/cancel" % two["payout_uuid"], {})
    assert r.status_code == 200, r.text
    after = scrape(http, ngx)
    moved = "payout_transitions_total"
    assert delta(before, after, moved, gateway="sandbox",
                 **{"from": "pending_staged", "to": "pending_created"}) == 1
    assert delta(before, after, moved, gateway="sandbox",
                 **{"from": "pending_created",
                    "to": "pending_promise"}) == 1
    assert delta(before, after, moved, gateway="sandbox",
                 **{"from": "pending_staged", "to": "canceled_voided"}) == 1
    assert delta(before, after, "payout_payouts_created_total",
                 gateway="sandbox", mode="test") == 2


def test_database_that_never_answers(http, tenant):
    """PostgreSQL frozen (SIGSTOP) under open connections: the gauge
    query is sent and never answered; the scrape answers 200 without it
    at payout_database_queue_timeout."""
    import os
    import signal
    from conftest import own_database
    db, headers = own_database()
    frozen = []
    try:
        ngx = Nginx(db, server=METRICS, workers=1,
                    http="payout_database_queue_timeout 1s;")
        ngx.start()
        try:
            assert http.get(ngx.url("/v1/payouts"),
                            headers=headers).status_code == 200
            assert value(scrape(http, ngx), "payout_database_up") == 1
            with open(os.path.join(db.data, "postmaster.pid")) as f:
                master = int(f.readline())
            children = subprocess.run(["pgrep", "-P", str(master)],
                                      capture_output=True,
                                      text=True).stdout.split()
            for pid in [master] + [int(c) for c in children]:
                os.kill(pid, signal.SIGSTOP)
                frozen.append(pid)
            t0 = time.time()
            r = http.get(ngx.url("/metrics"), timeout=10)
            took = time.time() - t0
            assert r.status_code == 200, r.text
            assert 0.9 < took < 2.0, took
            promtool_check(r.text)
            assert value(parse(r.text)[0], "payout_database_up") == 0
        finally:
            for pid in frozen:
                os.kill(pid, signal.SIGCONT)
            problems = ngx.destroy()
        assert not problems, problems
    finally:
        db.destroy()


def reload(ngx):
    old = ngx.pids()
    ngx.reload()
    wait_for(lambda: set(ngx.pids()).isdisjoint(old), timeout=15,
             what="the new workers")


def test_reload_keeps_or_resets_the_counters(http, nginx_factory, tenant):
    """A reload with the same routes and gateways keeps the counters; one
    that adds a gateway starts from zero (the layout changed).  The pool
    gauge ends up counting the new workers' connections only."""
    ngx = sandbox_nginx(nginx_factory, workers=1, server=METRICS)
    for _ in range(3):
        http.get(ngx.url("/v1/payouts"), headers=tenant.headers)
    name = "payout_http_requests_total"
    labels = dict(route="/payouts", method="GET", code="200")
    assert value(scrape(http, ngx), name, **labels) == 3

    reload(ngx)
    s = scrape(http, ngx)
    assert value(s, name, **labels) == 3
    wait_for(lambda: sum(value(scrape(http, ngx, check=False),
                               "payout_db_pool_connections", state=st)
                         for st in ("down", "connecting", "idle", "busy"))
             == 2, what="the old worker's connections gone")

    with open(ngx.conf) as f:
        conf = f.read()
    with open(ngx.conf, "w") as f:
        f.write(conf.replace("payout_sandbox_webhook_url", """
    payout_gateway sandbox2 connector=sandbox
                   url=http://127.0.0.1:%d/sandbox timeout=1s;
    payout_sandbox_webhook_url""" % ngx.port, 1))
    reload(ngx)
    s = scrape(http, ngx)
    assert value(s, name, **labels) == 0
    assert ("payout_payouts_created_total",
            frozenset({("gateway", "sandbox2"), ("mode", "test")})) in s


def test_head_and_other_methods(http, ngx):
    r = http.head(ngx.url("/metrics"))
    assert r.status_code == 200 and r.text == ""
    assert int(r.headers["Content-Length"]) > 1000
    get = http.get(ngx.url("/metrics"))
    assert int(get.headers["Content-Length"]) == len(get.content)
    assert http.post(ngx.url("/metrics"), data="x").status_code == 405
