"""payoutctl status (issue 11): the database reachable, migrations
applied, the webhook backlog and its oldest pending delivery, stuck
payouts and dead deliveries; exit 0 healthy, 1 needs attention (stuck
payouts, dead deliveries, a pending delivery older than
--max-backlog-age, pending migrations), 2 no database.  A private
PostgreSQL, so that nothing of the other tests' is counted."""

import uuid as uuidlib

import pytest

from conftest import own_database, payoutctl


@pytest.fixture
def db():
    d, _headers = own_database()
    yield d
    d.destroy()


def status(db, *args):
    out = payoutctl(db, "status", *args, check=False)
    # "name<spaces>value", the value from column 19
    lines = dict((line[:18].strip(), line[18:].strip())
                 for line in out.stdout.splitlines())
    return out.returncode, lines, out


def payout(db, age_s, sub_status="pending_created"):
    tenant = db.sql("SELECT id FROM tenants LIMIT 1")[0][0]
    return db.sql("INSERT INTO payouts (tenant_id, amount, currency, "
                  "gateway, status, sub_status, created_at) "
                  "VALUES (%s, 100, 'NGN', 'sandbox', %s, %s, "
                  "now() - %s * interval '1 second') RETURNING id",
                  (tenant, sub_status.split("_")[0], sub_status,
                   age_s))[0][0]


def delivery(db, state, age_s):
    tenant = db.sql("SELECT id FROM tenants LIMIT 1")[0][0]
    ev = db.sql("INSERT INTO webhook_events (msg_id, tenant_id, event_type, "
                "payload) VALUES (%s, %s, 'payout.updated', '{}') "
                "RETURNING id", ("msg_" + uuidlib.uuid4().hex, tenant))[0][0]
    db.sql("INSERT INTO webhook_deliveries (event_id, url, state, "
           "created_at) VALUES (%s, 'https://example.com/h', %s, "
           "now() - %s * interval '1 second')", (ev, state, age_s))


def test_healthy(db):
    rc, lines, out = status(db)
    assert rc == 0, out.stdout + out.stderr
    assert lines["database"] == "reachable"
    assert lines["migrations"] == "applied"
    assert lines["webhook backlog"] == "0 pending"
    assert lines["oldest pending"] == "0 s"
    assert lines["stuck payouts"].startswith("0 ")
    assert lines["dead deliveries"] == "0"
    assert lines["status"] == "ok"


def test_backlog_age(db):
    delivery(db, "pending", 30)
    rc, lines, _out = status(db)
    assert rc == 0 and lines["webhook backlog"] == "1 pending"
    delivery(db, "pending", 400)
    rc, lines, _out = status(db)
    assert rc == 1
    assert lines["oldest pending"].startswith("400 s (older than")
    assert lines["status"] == "needs attention"
    rc, _lines, _out = status(db, "--max-backlog-age", "1000")
    assert rc == 0
    rc, _lines, _out = status(db, "--max-backlog-age=100")
    assert rc == 1


def test_dead_delivery(db):
    delivery(db, "delivered", 10)
    assert status(db)[0] == 0
    delivery(db, "dead", 10)
    rc, lines, _out = status(db)
    assert rc == 1 and lines["dead deliveries"] == "1"


def test_stuck_payouts(db):
    payout(db, 10)
    payout(db, 100000, "pending_staged")      # never sent: not stuck
    payout(db, 100000, "success")
    assert status(db)[0] == 0
    payout(db, 100000, "pending_promise")
    rc, lines, _out = status(db)
    assert rc == 1 and lines["stuck payouts"] == "1 (pending past 86400 s)"
    assert status(db, "--window", "200000")[0] == 0
    rc, lines, _out = status(db, "--window", "5")
    assert lines["stuck payouts"].startswith("2 ")


def test_pending_migrations(db):
    db.sql("DELETE FROM schema_functions WHERE name = 'metrics.sql'")
    rc, lines, _out = status(db)
    assert rc == 1
    assert lines["migrations"].startswith("1 pending")
    payoutctl(db, "migrate")
    assert status(db)[0] == 0


def test_no_database(db):
    db.stop()
    rc, lines, out = status(db)
    assert rc == 2, out.stdout + out.stderr
    assert lines["database"] == "unreachable"
    assert "cannot connect" in out.stderr
    db.start()


def test_usage(db):
    for args in (["--max-backlog-age", "soon"], ["--window"],
                 ["--nope"], ["--max-backlog-age", "-1"]):
        out = payoutctl(db, "status", *args, check=False)
        assert out.returncode == 2, args
