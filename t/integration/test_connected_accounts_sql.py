"""schema/010: connected-account recipients, a recipient's country and a
payout's next_action, in SQL.  The recipient functions take account_id
and country as trailing parameters with defaults, so a call with the
former arguments still finds exactly one function; the API's JSON shows
the new fields (null when unset, like every optional field)."""

import os
import uuid

import psycopg2
import pytest

from conftest import payoutctl

RECIPIENT_ARGS = ("%s, false, 'sandbox', %s, %s, 'ACME GMBH', NULL, NULL, "
                  "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, %s, NULL")


@pytest.fixture
def tenant_id(pg):
    name = "t-" + uuid.uuid4().hex[:12]
    payoutctl(pg, "tenant", "create", name)
    return pg.sql("SELECT id FROM tenants WHERE name = %s", (name,))[0][0]


def recipient_create(pg, tenant_id, rtype, extra=""):
    outcome, body = pg.sql(
        "SELECT outcome, body FROM payout_recipient_create("
        + RECIPIENT_ARGS + extra + ")",
        (tenant_id, rtype, os.urandom(32), "k-" + uuid.uuid4().hex))[0]
    return outcome, body


def test_former_call_still_works(pg, tenant_id):
    outcome, body = recipient_create(pg, tenant_id, "bank_account")
    assert outcome == "created"
    assert body["account_id"] is None and body["country"] is None


def test_connected_account_with_country(pg, tenant_id):
    outcome, body = recipient_create(pg, tenant_id, "connected_account",
                                     ", 'acct_1Nv0FGQ9RKHgCVdK', 'DE'")
    assert outcome == "created"
    assert body["recipient_type"] == "connected_account"
    assert body["account_id"] == "acct_1Nv0FGQ9RKHgCVdK"
    assert body["country"] == "DE"
    assert pg.sql("SELECT account_id, country FROM recipients "
                  "WHERE uuid = %s", (body["uuid"],)) == \
        [("acct_1Nv0FGQ9RKHgCVdK", "DE")]


def test_named_trailing_parameters(pg, tenant_id):
    outcome, body = recipient_create(pg, tenant_id, "bank_account",
                                     ", p_country => 'US'")
    assert outcome == "created"
    assert body["country"] == "US" and body["account_id"] is None


def test_unknown_recipient_type_still_refused(pg, tenant_id):
    with pytest.raises(psycopg2.errors.CheckViolation):
        recipient_create(pg, tenant_id, "wallet")


def test_payout_create_inline_and_instruction(pg, tenant_id):
    """payout_create() with the former arguments and with the new ones;
    payout_instruction() returns what a connector needs; the payout's JSON
    shows next_action."""
    base = ("SELECT outcome, payout_id, recipient_uuid FROM payout_create("
            "%s, false, NULL, 'h', 1000, 'EUR', 'sandbox', 'n', NULL, NULL, "
            "NULL, true, NULL, %s, %s, 'ACME', NULL, NULL, NULL, NULL, "
            "NULL, NULL, NULL, NULL, NULL, NULL")
    outcome, _, _ = pg.sql(base + ")", (tenant_id, "bank_account",
                                        os.urandom(32)))[0]
    assert outcome == "created"

    outcome, pid, ruuid = pg.sql(base + ", 'acct_123', 'FR')",
                                 (tenant_id, "connected_account",
                                  os.urandom(32)))[0]
    assert outcome == "created"
    cols = pg.sql("SELECT recipient_type, recipient_uuid, "
                  "gateway_recipient_code, account_id, country "
                  "FROM payout_instruction(%s, %s)", (tenant_id, pid))
    assert cols == [("connected_account", ruuid, None, "acct_123", "FR")]

    j = pg.sql("SELECT payout_json(p) FROM payouts p WHERE id = %s",
               (pid,))[0][0]
    assert "next_action" in j and j["next_action"] is None
    pg.sql("UPDATE payouts SET next_action = 'otp_required' WHERE id = %s",
           (pid,))
    j = pg.sql("SELECT payout_json(p) FROM payouts p WHERE id = %s",
               (pid,))[0][0]
    assert j["next_action"] == {"type": "otp_required"}
    # 014: a redirect carries its URL
    pg.sql("UPDATE payouts SET next_action = 'redirect', "
           "next_action_url = 'https://pay.example/form?x=1' WHERE id = %s",
           (pid,))
    j = pg.sql("SELECT payout_json(p) FROM payouts p WHERE id = %s",
               (pid,))[0][0]
    assert j["next_action"] == {"type": "redirect",
                                "url": "https://pay.example/form?x=1"}
    assert j["recipient"]["account_id"] == "acct_123"


def test_one_function_each(pg):
    """The former signatures are gone: no call is ambiguous."""
    rows = pg.sql("SELECT proname, count(*) FROM pg_proc WHERE proname IN "
                  "('payout_recipient_create', 'payout_recipient_upsert', "
                  "'payout_create', 'payout_instruction') GROUP BY proname")
    assert sorted(rows) == [("payout_create", 1), ("payout_instruction", 1),
                            ("payout_recipient_create", 1),
                            ("payout_recipient_upsert", 1)]
