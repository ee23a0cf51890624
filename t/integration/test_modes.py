"""Test and live mode kept apart (issue 13, item 1).

One tenant with a test key and a live key.  A key sees and touches only
resources of its own mode: the other mode's payouts, recipients,
deliveries and endpoints answer 404 on every route, lists hold only the
key's mode, idempotency keys and recipient fingerprints are per mode, a
payout's events go to the endpoints of its mode, and a gateway of the
other mode is 400 gateway_mode_mismatch.

The only connector, the sandbox, is test mode only, so no gateway can be
live here.  Live rows are made as an existing database holds them: a
payout or recipient made through the API with the test key, then marked
live in PostgreSQL (as a live key paying through the sandbox made them
before migration 006), or made by the SQL functions the module calls,
with p_livemode true.  A live key on a live gateway cannot be shown
working, only the refusals around it.
"""

import os
import shutil
import tempfile
import time
import uuid as uuidlib

import pytest

from conftest import (ROOT, Nginx, Postgres, Tenant, own_database,
                      payoutctl)
from payout_helpers import (assert_error, bank, counts, create, get_payout,
                            post_json, sandbox_transfers, wait_for)


# -- the environment: a private database, one sandbox nginx -----------------

@pytest.fixture(scope="module")
def env():
    db, _headers = own_database()
    ngx = Nginx(db, sandbox=True, gateway_timeout="1s",
                webhook_delay="200ms", reconcile_grace="60s").start()
    yield db, ngx
    problems = ngx.destroy()
    db.destroy()
    assert not problems, "nginx error log:\n" + "\n".join(problems)


class Modes:
    """A tenant with a test key (.test) and a live key (.live)."""

    def __init__(self, db, ngx):
        self.db = db
        self.ngx = ngx
        name = "m-" + uuidlib.uuid4().hex[:12]
        payoutctl(db, "tenant", "create", name)
        keys = {}
        for mode in ("test", "live"):
            keys[mode] = payoutctl(db, "key", "create", "--tenant", name,
                                   "--mode", mode).stdout.strip()
        self.test = Tenant(db, name, keys["test"], "test")
        self.live = Tenant(db, name, keys["live"], "live")
        self.id = self.test.id


@pytest.fixture
def m(env):
    return Modes(*env)


ACCOUNT_R = "8123456780"


def account():
    return "9%09d" % (uuidlib.uuid4().int % 10 ** 9)


def make_live(db, payout_uuid=None, recipient_uuid=None):
    """Marks a payout (and its recipient) or a recipient live."""
    if payout_uuid:
        db.sql("UPDATE recipients SET livemode = true WHERE id = "
               "(SELECT recipient_id FROM payouts WHERE uuid = %s)",
               (payout_uuid,))
        db.sql("UPDATE payouts SET livemode = true WHERE uuid = %s",
               (payout_uuid,))
    if recipient_uuid:
        db.sql("UPDATE recipients SET livemode = true WHERE uuid = %s",
               (recipient_uuid,))


def staged(http, m, **kw):
    """A staged test payout through the API, to an account of its own."""
    out = create(http, m.ngx, m.test, bank(account(), stage=True, **kw))
    assert out["status"] == "pending_staged", out
    return out["payout_uuid"]


def live_staged(http, m, **kw):
    u = staged(http, m, **kw)
    make_live(m.db, payout_uuid=u)
    return u


def row(db, u):
    return db.sql("SELECT livemode, sub_status, updated_at FROM payouts "
                  "WHERE uuid = %s", (u,))[0]


def sql_payout_create(db, tenant_id, livemode, idempotency_key=None,
                      recipient_uuid=None, request_hash=b"hash"):
    """payout_create() as the module calls it; its outcome and uuid."""
    inline = recipient_uuid is None
    return db.sql(
        "SELECT outcome, payout_uuid::text FROM payout_create(%s, %s, %s, "
        "%s, 1000, 'NGN', 'sandbox', NULL, NULL, NULL, NULL, true, %s, "
        "%s, %s, NULL, NULL, NULL, '058', NULL, 'JOHN SELLER', %s, '6789', "
        "NULL, NULL, NULL)",
        (tenant_id, livemode, idempotency_key, request_hash, recipient_uuid,
         "bank_account" if inline else None,
         os.urandom(32) if inline else None,
         b"sealed" if inline else None))[0]


def sql_recipient_create(db, recipient_uuid, livemode, idempotency_key):
    """payout_recipient_create() with the details of a stored recipient,
    in the given mode: its outcome and the recipient's livemode."""
    return db.sql(
        "SELECT c.outcome, (c.body->>'livemode')::boolean, c.body->>'uuid' "
        "FROM recipients r, payout_recipient_create(r.tenant_id, %s, "
        "r.gateway, r.recipient_type, r.fingerprint, r.name, r.email, "
        "r.phone, r.bank_code, r.bank_name, r.bank_account_name, "
        "r.account_number_enc, r.account_number_last4, "
        "r.mobile_money_provider, r.mobile_money_number_enc, "
        "r.mobile_money_last4, %s, r.metadata) c WHERE r.uuid = %s",
        (livemode, idempotency_key, recipient_uuid))[0]


def recipient(http, m, body=None, status=201):
    body = body or bank_recipient()
    r = post_json(http, m.ngx, m.test, "/v1/payout-recipients", body)
    assert r.status_code == status, r.text
    return r.json()


def bank_recipient(number=None, **kw):
    body = {"gateway": "sandbox", "bank_account_number": number or account(),
            "bank_account_name": "JOHN SELLER", "bank_code": "058"}
    body.update(kw)
    return body


def listed(http, m, tenant, path):
    r = http.get(m.ngx.url(path + "?limit=100"), headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()


# -- payouts: read, status, cancel, transfer, list ---------------------------

@pytest.mark.parametrize("direction", ["test_key_live_payout",
                                       "live_key_test_payout"])
def test_the_other_modes_payout_is_not_found(m, http, direction):
    if direction == "test_key_live_payout":
        u, key = live_staged(http, m), m.test
    else:
        u, key = staged(http, m), m.live
    before = row(m.db, u)
    base = "/v1/payouts/" + u

    r = http.get(m.ngx.url(base), headers=key.headers)
    assert_error(r, 404, "not_found")
    r = http.get(m.ngx.url(base + "/status"), headers=key.headers)
    assert_error(r, 404, "not_found")
    r = post_json(http, m.ngx, key, base + "/cancel", {})
    assert_error(r, 404, "not_found")
    r = post_json(http, m.ngx, key, base + "/transfer", {})
    assert_error(r, 404, "not_found")

    # nothing moved, nothing reached the provider
    assert row(m.db, u) == before
    assert sandbox_transfers(m.db, u) == []


def test_each_key_reads_its_own_modes_payout(m, http):
    t, lv = staged(http, m), live_staged(http, m)
    assert get_payout(http, m.ngx, m.test, t)["livemode"] is False
    # a live row from before 006 stays readable by the live key
    assert get_payout(http, m.ngx, m.live, lv)["livemode"] is True


def test_lists_hold_only_the_keys_mode(m, http):
    t, lv = staged(http, m), live_staged(http, m)
    tr = recipient(http, m)["uuid"]
    lr = recipient(http, m)["uuid"]
    make_live(m.db, recipient_uuid=lr)

    for key, mine, other in ((m.test, t, lv), (m.live, lv, t)):
        body = listed(http, m, key, "/v1/payouts")
        uuids = {p["uuid"] for p in body["data"]}
        assert mine in uuids and other not in uuids, (key.mode, uuids)
        assert {p["livemode"] for p in body["data"]} == {key.mode == "live"}
        assert body["meta"]["totalItems"] == len(body["data"])

    t_recipients = {r["uuid"] for r in
                    listed(http, m, m.test, "/v1/payout-recipients")["data"]}
    l_recipients = {r["uuid"] for r in
                    listed(http, m, m.live, "/v1/payout-recipients")["data"]}
    assert tr in t_recipients and lr not in t_recipients
    assert lr in l_recipients and tr not in l_recipients
    assert not t_recipients & l_recipients


def test_a_test_key_cannot_transfer_a_live_staged_payout(m, http):
    u = live_staged(http, m)
    r = post_json(http, m.ngx, m.test, "/v1/payouts/%s/transfer" % u, {})
    assert_error(r, 404, "not_found")
    assert row(m.db, u)[1] == "pending_staged"
    assert sandbox_transfers(m.db, u) == []


# -- gateways of the other mode ---------------------------------------------

def test_a_live_key_cannot_pay_through_the_sandbox(m, http):
    before = counts(m.db, m.live)
    for body in (bank(account()), bank(account(), stage=True),
                 bank(account(), idempotency_key="live-1")):
        r = post_json(http, m.ngx, m.live, "/v1/payouts", body)
        assert_error(r, 400, "gateway_mode_mismatch", "gateway")
    r = post_json(http, m.ngx, m.live, "/v1/payout-recipients",
                  bank_recipient())
    assert_error(r, 400, "gateway_mode_mismatch", "gateway")
    assert counts(m.db, m.live) == before


def test_a_live_staged_sandbox_payout_is_not_transferred(m, http):
    """A live payout staged through the sandbox before 006: its own live
    key cannot send it (nor ask or cancel through the sandbox)."""
    u = live_staged(http, m)
    before = row(m.db, u)
    base = "/v1/payouts/" + u

    r = post_json(http, m.ngx, m.live, base + "/transfer", {})
    assert_error(r, 400, "gateway_mode_mismatch", "gateway")
    r = http.get(m.ngx.url(base + "/status"), headers=m.live.headers)
    assert_error(r, 400, "gateway_mode_mismatch", "gateway")
    r = post_json(http, m.ngx, m.live, base + "/cancel", {})
    assert_error(r, 400, "gateway_mode_mismatch", "gateway")

    assert row(m.db, u) == before
    assert sandbox_transfers(m.db, u) == []


def test_a_live_payout_is_never_sent_through_the_sandbox(m, http):
    """The reconciler asks about pending_created payouts and resends them;
    one of the other mode than its gateway is never even claimed."""
    u = staged(http, m)
    m.db.sql("UPDATE payouts SET livemode = true, "
             "sub_status = 'pending_created', next_check_at = now() "
             "WHERE uuid = %s", (u,))
    # several rounds of the reconciler (payout_reconcile_interval 300ms)
    time.sleep(2)
    assert m.db.sql("SELECT provider_attempts FROM payouts WHERE uuid = %s",
                    (u,))[0][0] == 0
    assert sandbox_transfers(m.db, u) == []
    assert row(m.db, u)[1] == "pending_created"


# -- idempotency keys, per mode ----------------------------------------------

def test_a_test_key_does_not_replay_a_live_idempotency_key(m, http):
    body = bank(account(), stage=True, idempotency_key="same-key")
    first = create(http, m.ngx, m.test, body)
    make_live(m.db, payout_uuid=first["payout_uuid"])

    again = create(http, m.ngx, m.test, body)
    assert again["resource_created"] is True, again
    assert again["payout_uuid"] != first["payout_uuid"]
    # and with another body it is no conflict either
    other = create(http, m.ngx, m.test, dict(body, amount=2000),
                   status=409)
    assert other["error"]["code"] == "idempotency_conflict"
    rows = m.db.sql("SELECT livemode FROM payouts WHERE tenant_id = %s "
                    "AND idempotency_key = 'same-key' ORDER BY id", (m.id,))
    assert rows == [(True,), (False,)]


def test_a_live_create_does_not_replay_a_test_idempotency_key(m, http):
    first = create(http, m.ngx, m.test,
                   bank(account(), stage=True, idempotency_key="k-2"))
    outcome, u = sql_payout_create(m.db, m.id, True, "k-2")
    assert outcome == "created"
    assert u != first["payout_uuid"]
    # the live one is now replayed in live mode only
    assert sql_payout_create(m.db, m.id, True, "k-2") == ("existing", u)
    again = create(http, m.ngx, m.test,
                   bank(account(), stage=True, idempotency_key="k-2"),
                   status=409)
    assert again["error"]["code"] == "idempotency_conflict"


# -- recipients ---------------------------------------------------------------

@pytest.mark.parametrize("direction", ["test_key_live_recipient",
                                       "live_key_test_recipient"])
def test_the_other_modes_recipient_is_not_found(m, http, direction):
    rc = recipient(http, m)["uuid"]
    key = m.live
    if direction == "test_key_live_recipient":
        make_live(m.db, recipient_uuid=rc)
        key = m.test
    r = http.get(m.ngx.url("/v1/payout-recipients/" + rc),
                 headers=key.headers)
    assert_error(r, 404, "not_found")


def test_a_test_payout_cannot_use_a_live_recipient(m, http):
    rc = recipient(http, m)["uuid"]
    make_live(m.db, recipient_uuid=rc)
    before = counts(m.db, m.test)
    r = post_json(http, m.ngx, m.test, "/v1/payouts",
                  {"amount": 1000, "currency": "NGN", "gateway": "sandbox",
                   "recipient_uuid": rc})
    assert_error(r, 400, "recipient_not_found", "recipient_uuid")
    assert counts(m.db, m.test) == before


def test_a_live_payout_cannot_use_a_test_recipient(m, http):
    rc = recipient(http, m)["uuid"]
    assert sql_payout_create(m.db, m.id, True, recipient_uuid=rc) \
        == ("recipient_not_found", None)


def test_a_test_key_never_reuses_a_live_recipient(m, http):
    """Create-or-reuse by fingerprint, and the recipient idempotency key,
    stay within the mode."""
    body = bank_recipient()
    live = recipient(http, m, body)
    make_live(m.db, recipient_uuid=live["uuid"])
    fresh = recipient(http, m, body, status=201)
    assert fresh["uuid"] != live["uuid"] and fresh["livemode"] is False

    body = bank_recipient(idempotency_key="rk-1")
    live = recipient(http, m, body)
    make_live(m.db, recipient_uuid=live["uuid"])
    fresh = recipient(http, m, body, status=201)
    assert fresh["uuid"] != live["uuid"] and fresh["livemode"] is False

    # and an inline recipient of a test payout is a test one
    live = recipient(http, m, bank_recipient(ACCOUNT_R))
    make_live(m.db, recipient_uuid=live["uuid"])
    out = create(http, m.ngx, m.test, bank(ACCOUNT_R, stage=True))
    assert out["recipient_uuid"] != live["uuid"]


def test_a_live_recipient_never_reuses_a_test_one(m, http):
    test = recipient(http, m)
    outcome, livemode, u = sql_recipient_create(m.db, test["uuid"], True,
                                                None)
    assert (outcome, livemode) == ("created", True) and u != test["uuid"]

    test = recipient(http, m, bank_recipient(idempotency_key="rk-2"))
    outcome, livemode, u = sql_recipient_create(m.db, test["uuid"], True,
                                                "rk-2")
    assert (outcome, livemode) == ("created", True) and u != test["uuid"]


# -- webhook deliveries and endpoints ------------------------------------------

def delivery_of(db, u):
    return db.sql("SELECT d.id FROM webhook_deliveries d JOIN payouts p "
                  "ON p.id = d.payout_id WHERE p.uuid = %s ORDER BY d.id "
                  "LIMIT 1", (u,))[0][0]


@pytest.mark.parametrize("direction", ["test_key_live_payout",
                                       "live_key_test_payout"])
def test_the_other_modes_deliveries_are_not_found(m, http, direction):
    hook = ["http://127.0.0.1:9/hook"]
    if direction == "test_key_live_payout":
        u, key = live_staged(http, m, webhook_urls=hook), m.test
    else:
        u, key = staged(http, m, webhook_urls=hook), m.live
    d = delivery_of(m.db, u)
    n = m.db.sql("SELECT count(*) FROM webhook_deliveries")[0][0]

    r = http.get(m.ngx.url("/v1/payouts/%s/webhooks" % u),
                 headers=key.headers)
    assert_error(r, 404, "not_found")
    r = post_json(http, m.ngx, key,
                  "/v1/payouts/%s/webhooks/%d/redeliver" % (u, d), {})
    assert_error(r, 404, "not_found")
    assert m.db.sql("SELECT count(*) FROM webhook_deliveries")[0][0] == n

    # the payout's own mode sees them
    own = m.live if key is m.test else m.test
    r = http.get(m.ngx.url("/v1/payouts/%s/webhooks" % u),
                 headers=own.headers)
    assert r.status_code == 200 and r.json()["data"], r.text


def endpoint(http, m, key, url):
    r = post_json(http, m.ngx, key, "/v1/webhook-endpoints", {"url": url})
    assert r.status_code == 201, r.text
    return r.json()


def test_endpoints_belong_to_a_mode(m, http):
    et = endpoint(http, m, m.test, "http://127.0.0.1:9/test")
    el = endpoint(http, m, m.live, "http://127.0.0.1:9/live")

    for key, mine in ((m.test, et), (m.live, el)):
        r = http.get(m.ngx.url("/v1/webhook-endpoints"), headers=key.headers)
        assert r.status_code == 200, r.text
        assert [e["id"] for e in r.json()["data"]] == [mine["id"]]
    assert (et["livemode"], el["livemode"]) == (False, True)

    for key, other in ((m.test, el), (m.live, et)):
        path = "/v1/webhook-endpoints/%d" % other["id"]
        r = post_json(http, m.ngx, key, path + "/rotate", {})
        assert_error(r, 404, "not_found")
        r = http.delete(m.ngx.url(path), headers=key.headers)
        assert_error(r, 404, "not_found")

    rows = m.db.sql("SELECT id, secret_enc, disabled_at FROM "
                    "webhook_endpoints WHERE tenant_id = %s ORDER BY id",
                    (m.id,))
    assert [r[2] for r in rows] == [None, None]

    r = post_json(http, m.ngx, m.live,
                  "/v1/webhook-endpoints/%d/rotate" % el["id"], {})
    assert r.status_code == 200 and r.json()["secret"] != el["secret"]


def test_events_go_to_the_endpoints_of_the_payouts_mode(m, http):
    et = endpoint(http, m, m.test, "http://127.0.0.1:9/test")
    el = endpoint(http, m, m.live, "http://127.0.0.1:9/live")

    def endpoints_of(u, after=0):
        return {r[0] for r in m.db.sql(
            "SELECT d.endpoint_id FROM webhook_deliveries d JOIN payouts p "
            "ON p.id = d.payout_id WHERE p.uuid = %s AND d.id > %s",
            (u, after))}

    t = staged(http, m)
    assert endpoints_of(t) == {et["id"]}

    # a live payout's transition, as the module applies it
    lv = staged(http, m)
    make_live(m.db, payout_uuid=lv)
    last = m.db.sql("SELECT max(id) FROM webhook_deliveries")[0][0]
    m.db.sql("SELECT payout_transition(p.id, '{pending_staged}', "
             "'canceled_voided', 'api', NULL, 'voided', NULL) "
             "FROM payouts p WHERE p.uuid = %s", (lv,))
    assert endpoints_of(lv, last) == {el["id"]}


# -- configuration -------------------------------------------------------------

def nginx_t(db, gateway_line):
    ngx = Nginx(db, http=gateway_line)
    try:
        return ngx.check_config()
    finally:
        shutil.rmtree(ngx.dir, ignore_errors=True)


@pytest.mark.parametrize("mode,ok", [("", True), ("mode=test", True),
                                     ("mode=live", False),
                                     ("mode=both", False)])
def test_the_sandbox_gateway_is_test_mode_only(env, mode, ok):
    db, _ngx = env
    out = nginx_t(db, "payout_gateway sbx connector=sandbox %s "
                      "url=http://127.0.0.1:1/sandbox;" % mode)
    assert (out.returncode == 0) == ok, out.stderr
    if mode == "mode=live":
        assert "test mode only" in out.stderr, out.stderr
    if mode == "mode=both":
        assert "has an invalid mode" in out.stderr, out.stderr


@pytest.mark.parametrize("params,message", [
    ("connector=wise mode=test",
     'unknown connector "wise", known: sandbox'),
    ("connector=sandbox account=acct_1", 'invalid parameter "account=..."'),
])
def test_a_connector_or_setting_nobody_knows_is_refused(env, params,
                                                        message):
    db, _ngx = env
    out = nginx_t(db, "payout_gateway sbx %s url=http://127.0.0.1:1/x;"
                      % params)
    assert out.returncode != 0, out.stderr
    assert "[emerg]" in out.stderr, out.stderr
    assert message in out.stderr, out.stderr


# -- migration 006 on an existing database ------------------------------------

def test_migration_keeps_existing_rows_and_endpoints():
    """A database at 005 with rows of both modes: after 006 its rows keep
    their mode, and every endpoint still gets the events of each mode it
    got them for before."""
    old = tempfile.mkdtemp(prefix="payout-sql-")
    try:
        # the old layout (sql/NNN_*.sql up to 009), kept as test data
        old_sql = os.path.join(ROOT, "t", "fixtures", "old_sql")
        for f in sorted(os.listdir(old_sql)):
            if f < "006":
                shutil.copy(os.path.join(old_sql, f), old)
        pg = _migrated_to(old)
        try:
            _check_migration(pg)
        finally:
            pg.destroy()
    finally:
        shutil.rmtree(old, ignore_errors=True)


def _migrated_to(sql_dir):
    pg = Postgres()
    pg.start()
    payoutctl(pg, "--migrations", sql_dir, "migrate")
    return pg


def _check_migration(pg):
    tenants = {}
    for name, modes in (("only-test", ("test",)), ("only-live", ("live",)),
                        ("both", ("test", "live"))):
        payoutctl(pg, "tenant", "create", name)
        for mode in modes:
            payoutctl(pg, "key", "create", "--tenant", name, "--mode", mode)
        tid = pg.sql("SELECT id FROM tenants WHERE name = %s", (name,))[0][0]
        tenants[name] = tid
        pg.sql("INSERT INTO webhook_endpoints (tenant_id, url, secret_enc) "
               "VALUES (%s, %s, 'sec')", (tid, "http://x/" + name))
    tid = tenants["both"]
    pg.sql("INSERT INTO payouts (tenant_id, livemode, amount, currency, "
           "gateway, status, sub_status, idempotency_key, request_hash) "
           "VALUES (%s, true, 1, 'NGN', 'sandbox', 'pending', "
           "'pending_staged', 'old-live', 'hash')", (tid,))

    payoutctl(pg, "migrate")

    eps = pg.sql("SELECT t.name, e.livemode, e.url, e.secret_enc "
                 "FROM webhook_endpoints e JOIN tenants t "
                 "ON t.id = e.tenant_id ORDER BY t.name, e.livemode")
    assert [(n, lm) for n, lm, _u, _s in eps] == [
        ("both", False), ("both", True), ("only-live", True),
        ("only-test", False)]
    assert eps[0][2:] == eps[1][2:]     # the live twin: same URL, secret

    # the old live payout keeps its mode and key; the same key in test
    # mode is another payout
    assert pg.sql("SELECT livemode FROM payouts WHERE idempotency_key = "
                  "'old-live'") == [(True,)]
    assert sql_payout_create(pg, tid, False, "old-live")[0] == "created"
    assert sql_payout_create(pg, tid, True, "old-live")[0] == "existing"
