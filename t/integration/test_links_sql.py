"""sql/functions/links.sql: a payout link is claimed once.  Two
concurrent claims of one link make exactly one payout (the link's row
lock orders them; the second finds the first's payout), a link past its
expiry or canceled makes none, and the claimed payout is
payout_create()'s own, with the link's amount, webhook_urls and secret
and an idempotency key derived from the link."""

import hashlib
import os
import threading
import uuid

import psycopg2
import psycopg2.extras
import pytest

from conftest import payoutctl

CLAIM = ("SELECT outcome, payout_id, payout_uuid, tenant_id "
         "FROM payout_link_claim(p_token_hash => %s, "
         "p_type => 'bank_account', p_fingerprint => %s, p_name => 'ADA', "
         "p_email => NULL, p_phone => NULL, p_bank_code => '058', "
         "p_bank_name => NULL, p_bank_account_name => 'ADA L', "
         "p_account_enc => '\\x00'::bytea, p_account_last4 => '6789', "
         "p_mm_provider => NULL, p_mm_enc => NULL, p_mm_last4 => NULL, "
         "p_country => NULL)")


@pytest.fixture
def tenant_id(pg):
    name = "t-" + uuid.uuid4().hex[:12]
    payoutctl(pg, "tenant", "create", name)
    return pg.sql("SELECT id FROM tenants WHERE name = %s", (name,))[0][0]


def link_create(pg, tenant_id, expires="now() + interval '1 day'",
                key=None, urls=None, methods="{bank_account}"):
    token = os.urandom(32)
    th = hashlib.sha256(token).digest()
    outcome, body = pg.sql(
        "SELECT outcome, body FROM payout_link_create("
        "p_tenant => %s, p_livemode => false, p_idempotency_key => %s, "
        "p_request_hash => '\\x01'::bytea, p_token_hash => %s, "
        "p_amount => 250000, p_currency => 'NGN', p_gateway => 'sandbox', "
        "p_expires_at => " + expires + ", p_name => 'Ada', "
        "p_email => NULL, p_phone => NULL, p_methods => %s, "
        "p_narration => 'May invoice', p_metadata => '{\"a\": 1}', "
        "p_webhook_urls => %s, p_webhook_secret_enc => '\\xaa'::bytea)",
        (tenant_id, key, th, methods,
         psycopg2.extras.Json(urls) if urls else None))[0]
    return outcome, body, th


def claim(pg, th):
    return pg.sql(CLAIM, (th, os.urandom(32)))[0]


def test_claim_once_inherits_the_link(pg, tenant_id):
    _, body, th = link_create(pg, tenant_id, urls=["http://h/x"])
    outcome, pid, puuid, tid = claim(pg, th)
    assert outcome == "created" and tid == tenant_id
    row = pg.sql("SELECT amount, currency, gateway, narration, metadata, "
                 "webhook_urls, webhook_secret_enc, idempotency_key, "
                 "link_id, sub_status FROM payouts WHERE id = %s", (pid,))[0]
    assert row[:6] == (250000, "NGN", "sandbox", "May invoice", {"a": 1},
                       ["http://h/x"])
    assert bytes(row[6]) == b"\xaa"
    assert row[7] == "link:" + body["link_uuid"]
    assert row[9] == "pending_created"
    assert pg.sql("SELECT status, payout_id FROM payout_links "
                  "WHERE token_hash = %s", (th,))[0] == ("claimed", pid)
    assert pg.sql("SELECT source FROM payout_events WHERE payout_id = %s",
                  (pid,)) == [("link",)]
    # the payout's own event and the link's, both to the link's URL
    events = pg.sql("SELECT e.event_type, d.url FROM webhook_events e "
                    "JOIN webhook_deliveries d ON d.event_id = e.id "
                    "WHERE e.payout_id = %s OR e.link_id = %s ORDER BY e.id",
                    (pid, body["id"]))
    assert events == [("payout.pending_created", "http://h/x"),
                      ("payout_link.claimed", "http://h/x")]

    # a second claim of the same link: its payout, nothing new
    assert claim(pg, th) == ("existing", pid, puuid, tenant_id)
    assert pg.sql("SELECT count(*) FROM payouts WHERE link_id = %s",
                  (body["id"],)) == [(1,)]


def test_two_concurrent_claims_make_one_payout(pg, tenant_id):
    _, body, th = link_create(pg, tenant_id)
    first = pg.connect(autocommit=False)
    second = pg.connect(autocommit=True)
    results = []
    try:
        with first.cursor() as cur:
            cur.execute(CLAIM, (th, os.urandom(32)))
            results.append(cur.fetchone())

        # the second waits on the link's lock until the first commits
        def run():
            with second.cursor() as cur:
                cur.execute(CLAIM, (th, os.urandom(32)))
                results.append(cur.fetchone())

        t = threading.Thread(target=run)
        t.start()
        t.join(0.5)
        assert t.is_alive(), "the second claim did not wait for the lock"
        first.commit()
        t.join(10)
    finally:
        first.close()
        second.close()

    assert [r[0] for r in results] == ["created", "existing"]
    assert results[0][1:] == results[1][1:]
    assert pg.sql("SELECT count(*) FROM payouts WHERE link_id = %s",
                  (body["id"],)) == [(1,)]


def test_many_racing_claims(pg, tenant_id):
    _, body, th = link_create(pg, tenant_id)
    barrier = threading.Barrier(6)
    outcomes = []

    def run():
        conn = pg.connect()
        try:
            barrier.wait()
            with conn.cursor() as cur:
                cur.execute(CLAIM, (th, os.urandom(32)))
                outcomes.append(cur.fetchone()[0])
        finally:
            conn.close()

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(outcomes) == ["created"] + ["existing"] * 5
    assert pg.sql("SELECT count(*) FROM payouts WHERE link_id = %s",
                  (body["id"],)) == [(1,)]


def test_expired_link_is_not_claimed(pg, tenant_id):
    _, body, th = link_create(pg, tenant_id,
                              expires="now() - interval '1 second'",
                              urls=["http://h/e"])
    assert body["status"] == "expired"
    assert claim(pg, th) == ("expired", None, None, tenant_id)
    assert pg.sql("SELECT status, expired_at IS NOT NULL, payout_id "
                  "FROM payout_links WHERE id = %s", (body["id"],)) == \
        [("expired", True, None)]
    # marked by the claim, once: one payout_link.expired
    assert pg.sql("SELECT event_type FROM webhook_events "
                  "WHERE link_id = %s", (body["id"],)) == \
        [("payout_link.expired",)]
    assert claim(pg, th)[0] == "expired"
    assert pg.sql("SELECT count(*) FROM webhook_events WHERE link_id = %s",
                  (body["id"],)) == [(1,)]
    assert pg.sql("SELECT count(*) FROM payouts WHERE link_id = %s",
                  (body["id"],)) == [(0,)]


def test_canceled_link_is_not_claimed(pg, tenant_id):
    _, body, th = link_create(pg, tenant_id)
    assert pg.sql("SELECT outcome FROM payout_link_cancel(%s, false, %s)",
                  (tenant_id, body["link_uuid"])) == [("canceled",)]
    assert claim(pg, th) == ("canceled", None, None, tenant_id)
    assert pg.sql("SELECT outcome FROM payout_link_cancel(%s, false, %s)",
                  (tenant_id, body["link_uuid"])) == [("already_canceled",)]


def test_cancel_of_a_claimed_link(pg, tenant_id):
    _, body, th = link_create(pg, tenant_id)
    claim(pg, th)
    assert pg.sql("SELECT outcome FROM payout_link_cancel(%s, false, %s)",
                  (tenant_id, body["link_uuid"])) == [("claimed",)]


def test_unknown_token(pg):
    assert claim(pg, os.urandom(32)) == ("not_found", None, None, None)
    assert pg.sql("SELECT * FROM payout_link_page(%s)",
                  (os.urandom(32),)) == []


def test_method_the_link_does_not_take(pg, tenant_id):
    _, body, th = link_create(pg, tenant_id, methods="{mobile_money}")
    with pytest.raises(psycopg2.errors.CheckViolation):
        claim(pg, th)
    assert pg.sql("SELECT status FROM payout_links WHERE id = %s",
                  (body["id"],)) == [("open",)]
    assert pg.sql("SELECT count(*) FROM payouts WHERE link_id = %s",
                  (body["id"],)) == [(0,)]


def test_key_taken_by_hand_is_not_adopted(pg, tenant_id):
    _, body, th = link_create(pg, tenant_id)
    pg.sql("SELECT payout_create(p_tenant => %s, p_livemode => false, "
           "p_idempotency_key => %s, p_request_hash => '\\x02'::bytea, "
           "p_amount => 1, p_currency => 'NGN', p_gateway => 'sandbox', "
           "p_narration => NULL, p_metadata => NULL, p_webhook_urls => NULL, "
           "p_webhook_secret_enc => NULL, p_stage => true, "
           "p_recipient_uuid => NULL, p_type => 'bank_account', "
           "p_fingerprint => %s, p_name => 'X', p_email => NULL, "
           "p_phone => NULL, p_bank_code => NULL, p_bank_name => NULL, "
           "p_bank_account_name => NULL, p_account_enc => NULL, "
           "p_account_last4 => NULL, p_mm_provider => NULL, "
           "p_mm_enc => NULL, p_mm_last4 => NULL)",
           (tenant_id, "link:" + body["link_uuid"], os.urandom(32)))
    with pytest.raises(psycopg2.errors.UniqueViolation):
        claim(pg, th)
    assert pg.sql("SELECT status FROM payout_links WHERE id = %s",
                  (body["id"],)) == [("open",)]


def test_page_shows_the_link_and_its_payout(pg, tenant_id):
    pg.sql("UPDATE tenants SET display_name = 'Acme Ltd' WHERE id = %s",
           (tenant_id,))
    _, body, th = link_create(pg, tenant_id)
    row = pg.sql("SELECT link_uuid::text, status, display_name, amount, "
                 "currency, methods, payout_uuid FROM payout_link_page(%s)",
                 (th,))[0]
    assert row == (body["link_uuid"], "open", "Acme Ltd", 250000, "NGN",
                   ["bank_account"], None)
    _, _, puuid, _ = claim(pg, th)
    row = pg.sql("SELECT status, payout_uuid, payout_status, "
                 "payout_sub_status FROM payout_link_page(%s)", (th,))[0]
    assert row == ("claimed", puuid, "pending", "pending_created")


def test_idempotent_create(pg, tenant_id):
    key = "k-" + uuid.uuid4().hex
    o1, b1, _ = link_create(pg, tenant_id, key=key)
    o2, b2, _ = link_create(pg, tenant_id, key=key)
    assert (o1, o2) == ("created", "existing")
    assert b1["link_uuid"] == b2["link_uuid"]
    assert pg.sql("SELECT count(*) FROM payout_links WHERE "
                  "idempotency_key = %s", (key,)) == [(1,)]


def test_expiry_job(pg, tenant_id):
    _, body, th = link_create(pg, tenant_id,
                              expires="now() - interval '1 second'")
    assert pg.sql("SELECT status FROM payout_links WHERE id = %s",
                  (body["id"],)) == [("open",)]
    assert pg.sql("SELECT payout_link_expire_due(1000)")[0][0] >= 1
    assert pg.sql("SELECT status FROM payout_links WHERE id = %s",
                  (body["id"],)) == [("expired",)]
    assert pg.sql("SELECT event_type FROM webhook_events "
                  "WHERE link_id = %s", (body["id"],)) == \
        [("payout_link.expired",)]
