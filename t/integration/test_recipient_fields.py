"""Issue 8's recipient fields end to end: recipient_type
connected_account with account_id, and the optional account_id (the
connected account that owns a bank account) and country, created through
POST /v1/payout-recipients and inline in POST /v1/payouts, shown by GET,
validated (400 naming the field), deduplicated by fingerprint, and in the
list's filters and select."""

import pytest

from payout_helpers import (assert_error, bank, counts, create, get_payout,
                            post_json, sbx)

assert sbx  # a fixture, used by name

PATH = "/v1/payout-recipients"
ACCT = "acct_1Nv0FGQ9RKHgCVdK"


def connected(**kw):
    body = {"gateway": "sandbox", "recipient_type": "connected_account",
            "account_id": ACCT}
    body.update(kw)
    return body


def bank_recipient(**kw):
    body = {"gateway": "sandbox", "bank_account_number": "0123456789",
            "bank_account_name": "JOHN SELLER", "bank_code": "058"}
    body.update(kw)
    return body


def post(http, ngx, tenant, body, status):
    r = post_json(http, ngx, tenant, PATH, body)
    assert r.status_code == status, r.text
    return r.json()


def get_recipient(http, ngx, tenant, uuid):
    r = http.get(ngx.url(PATH + "/" + uuid), headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_connected_account_recipient(sbx, pg, tenant, http):
    rec = post(http, sbx, tenant, connected(country="US", name="Shop"), 201)
    assert rec["recipient_type"] == "connected_account"
    assert rec["account_id"] == ACCT and rec["country"] == "US"
    assert rec["bank_account_number"] is None
    assert rec["mobile_money_number"] is None
    assert rec["gateway_recipient_code"] is None
    got = get_recipient(http, sbx, tenant, rec["uuid"])
    assert got["account_id"] == ACCT and got["country"] == "US"
    assert pg.sql("SELECT recipient_type, account_id, country, "
                  "account_number_enc IS NULL, mobile_money_number_enc "
                  "IS NULL FROM recipients WHERE uuid = %s",
                  (rec["uuid"],)) == [("connected_account", ACCT, "US",
                                       True, True)]

    # recipient_type is implied by account_id alone
    before = counts(pg, tenant)
    again = post(http, sbx, tenant, {"gateway": "sandbox",
                                     "account_id": ACCT}, 200)
    assert again["uuid"] == rec["uuid"]
    assert again["resource_created"] is False
    assert counts(pg, tenant) == before

    # connected account ids are case-sensitive: another account
    other = post(http, sbx, tenant, connected(account_id=ACCT.lower()), 201)
    assert other["uuid"] != rec["uuid"]


def test_bank_recipient_with_owner_and_country(sbx, pg, tenant, http):
    plain = post(http, sbx, tenant, bank_recipient(), 201)
    assert plain["account_id"] is None and plain["country"] is None

    owned = post(http, sbx, tenant,
                 bank_recipient(account_id=ACCT, country="GB"), 201)
    assert owned["uuid"] != plain["uuid"]
    assert owned["recipient_type"] == "bank_account"
    assert owned["account_id"] == ACCT and owned["country"] == "GB"
    assert owned["bank_account_number"] == "******6789"
    got = get_recipient(http, sbx, tenant, owned["uuid"])
    assert got["account_id"] == ACCT and got["country"] == "GB"

    # the same account held by the same connected account: reused
    again = post(http, sbx, tenant, bank_recipient(account_id=ACCT), 200)
    assert again["uuid"] == owned["uuid"]

    # country alone does not make another destination: the first is reused
    again = post(http, sbx, tenant, bank_recipient(country="NG"), 200)
    assert again["uuid"] == plain["uuid"]


def test_connected_differs_from_bank(sbx, pg, tenant, http):
    c = post(http, sbx, tenant, connected(), 201)
    b = post(http, sbx, tenant, bank_recipient(account_id=ACCT), 201)
    assert c["uuid"] != b["uuid"]


def test_idempotency_key(sbx, pg, tenant, http):
    rec = post(http, sbx, tenant, connected(idempotency_key="ca-1"), 201)
    again = post(http, sbx, tenant, connected(idempotency_key="ca-1"), 200)
    assert again["uuid"] == rec["uuid"]
    r = post_json(http, sbx, tenant, PATH,
                  connected(account_id="acct_other", idempotency_key="ca-1"))
    assert_error(r, 409, "idempotency_conflict", "idempotency_key")


def test_inline_in_payout(sbx, pg, tenant, http):
    body = {"amount": 1000, "currency": "USD", "gateway": "sandbox",
            "account_id": ACCT, "country": "US", "stage": True}
    p = create(http, sbx, tenant, body)
    payout = get_payout(http, sbx, tenant, p["payout_uuid"])
    rcp = payout["recipient"]
    assert rcp["recipient_type"] == "connected_account"
    assert rcp["account_id"] == ACCT and rcp["country"] == "US"

    # the stored recipient is the one POST /payout-recipients finds
    rec = post(http, sbx, tenant, connected(), 200)
    assert rec["uuid"] == rcp["uuid"]

    p = create(http, sbx, tenant,
               bank(account_id=ACCT, country="NG", stage=True))
    rcp = get_payout(http, sbx, tenant, p["payout_uuid"])["recipient"]
    assert rcp["recipient_type"] == "bank_account"
    assert rcp["account_id"] == ACCT and rcp["country"] == "NG"


BAD = [
    ("country_lower", bank_recipient(country="ng"), "country"),
    ("country_long", bank_recipient(country="NGA"), "country"),
    ("country_type", bank_recipient(country=566), "country"),
    ("account_prefix", connected(account_id="ba_1"), "account_id"),
    ("account_empty", connected(account_id="acct_"), "account_id"),
    ("account_type", connected(account_id=7), "account_id"),
    ("connected_without_id", {"gateway": "sandbox",
                              "recipient_type": "connected_account"},
     "account_id"),
    ("mobile_with_id", {"gateway": "sandbox",
                        "mobile_money_number": "233241234567",
                        "account_id": ACCT}, "account_id"),
]


@pytest.mark.parametrize("name,body,field", BAD, ids=[c[0] for c in BAD])
def test_bad_values(sbx, pg, tenant, http, name, body, field):
    before = counts(pg, tenant)
    r = post_json(http, sbx, tenant, PATH, body)
    assert_error(r, 400, None, field)
    payout = dict(body, amount=100, currency="NGN")
    r = post_json(http, sbx, tenant, "/v1/payouts", payout)
    assert_error(r, 400, None, field)
    assert counts(pg, tenant) == before


def test_list_filter_and_select(sbx, pg, tenant, http):
    c = post(http, sbx, tenant, connected(country="US"), 201)
    post(http, sbx, tenant, bank_recipient(country="NG"), 201)

    r = http.get(sbx.url(PATH), headers=tenant.headers,
                 params={"select": "uuid,account_id,country",
                         "filter.country": "$eq:US"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["data"] == [{"uuid": c["uuid"], "account_id": ACCT,
                             "country": "US"}]

    r = http.get(sbx.url(PATH), headers=tenant.headers,
                 params={"filter.account_id": "$eq:" + ACCT,
                         "select": "uuid"})
    assert r.status_code == 200, r.text
    assert r.json()["data"] == [{"uuid": c["uuid"]}]
