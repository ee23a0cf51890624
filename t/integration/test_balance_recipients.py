"""Issue 9's recipient_type "balance" end to end: a provider balance
(Mollie's bal_...), its balance_id optional (without it the gateway's own
balance= is used), created through POST /v1/payout-recipients and inline
in POST /v1/payouts, shown by GET, validated (400 naming the field),
deduplicated by fingerprint, and in the list's filters and select.  The
recipient is stored for any gateway, as a connected account is; a
connector that cannot pay a balance refuses it when it is sent."""

import pytest

from payout_helpers import (assert_error, counts, create, get_payout,
                            post_json, sbx)
from test_recipient_fields import PATH, get_recipient, post

assert sbx  # a fixture, used by name

BAL = "bal_gVMhHKqSSRYJyPsuoPNFH"


def balance(**kw):
    body = {"gateway": "sandbox", "recipient_type": "balance",
            "balance_id": BAL}
    body.update(kw)
    return body


def test_balance_recipient(sbx, pg, tenant, http):
    rec = post(http, sbx, tenant, balance(name="Main balance"), 201)
    assert rec["recipient_type"] == "balance"
    assert rec["balance_id"] == BAL
    assert rec["account_id"] is None
    assert rec["bank_account_number"] is None
    assert rec["mobile_money_number"] is None
    got = get_recipient(http, sbx, tenant, rec["uuid"])
    assert got["balance_id"] == BAL and got["recipient_type"] == "balance"
    assert pg.sql("SELECT recipient_type, balance_id, "
                  "account_number_enc IS NULL, mobile_money_number_enc "
                  "IS NULL FROM recipients WHERE uuid = %s",
                  (rec["uuid"],)) == [("balance", BAL, True, True)]

    # recipient_type is implied by balance_id alone
    before = counts(pg, tenant)
    again = post(http, sbx, tenant, {"gateway": "sandbox",
                                     "balance_id": BAL}, 200)
    assert again["uuid"] == rec["uuid"]
    assert again["resource_created"] is False
    assert counts(pg, tenant) == before

    # balance ids are case-sensitive: another balance
    other = post(http, sbx, tenant, balance(balance_id=BAL.lower()), 201)
    assert other["uuid"] != rec["uuid"]


def test_default_balance(sbx, pg, tenant, http):
    """Without balance_id: the gateway's own balance, one recipient."""
    rec = post(http, sbx, tenant, {"gateway": "sandbox",
                                   "recipient_type": "balance"}, 201)
    assert rec["recipient_type"] == "balance"
    assert rec["balance_id"] is None
    again = post(http, sbx, tenant, {"gateway": "sandbox",
                                     "recipient_type": "balance"}, 200)
    assert again["uuid"] == rec["uuid"]
    named = post(http, sbx, tenant, balance(), 201)
    assert named["uuid"] != rec["uuid"]


def test_inline_in_payout(sbx, pg, tenant, http):
    body = {"amount": 1000, "currency": "EUR", "gateway": "sandbox",
            "balance_id": BAL, "stage": True}
    p = create(http, sbx, tenant, body)
    rcp = get_payout(http, sbx, tenant, p["payout_uuid"])["recipient"]
    assert rcp["recipient_type"] == "balance"
    assert rcp["balance_id"] == BAL

    # the stored recipient is the one POST /payout-recipients finds
    rec = post(http, sbx, tenant, balance(), 200)
    assert rec["uuid"] == rcp["uuid"]

    p = create(http, sbx, tenant, {"amount": 1000, "currency": "EUR",
                                   "gateway": "sandbox",
                                   "recipient_type": "balance",
                                   "stage": True})
    rcp = get_payout(http, sbx, tenant, p["payout_uuid"])["recipient"]
    assert rcp["recipient_type"] == "balance"
    assert rcp["balance_id"] is None

    # and by recipient_uuid, like any other
    p = create(http, sbx, tenant, {"amount": 1000, "currency": "EUR",
                                   "gateway": "sandbox", "stage": True,
                                   "recipient_uuid": rec["uuid"]})
    assert p["recipient_uuid"] == rec["uuid"]


def test_sandbox_has_no_balances(sbx, pg, tenant, http):
    """Accepted and stored, but the sandbox neither enrolls nor pays a
    balance: enrollment answers 422 not_supported naming the type."""
    rec = post(http, sbx, tenant, balance(), 201)
    r = post_json(http, sbx, tenant, PATH + "/" + rec["uuid"] + "/accounts",
                  {"currency": "EUR"})
    err = assert_error(r, 422, "not_supported")
    assert "balance" in err["message"], err

    # sent, the sandbox refuses it as it refuses any destination it lacks
    r = post_json(http, sbx, tenant, "/v1/payouts",
                  {"amount": 1000, "currency": "EUR", "gateway": "sandbox",
                   "recipient_uuid": rec["uuid"]})
    assert r.status_code == 400, r.text
    body = r.json()["error"]
    assert body["code"] == "gateway_rejected", body
    assert body["sub_status"] == "canceled_rejected", body


BAD = [
    ("balance_prefix", balance(balance_id="acct_1"), "balance_id"),
    ("balance_empty", balance(balance_id="bal_"), "balance_id"),
    ("balance_dash", balance(balance_id="bal_1-2"), "balance_id"),
    ("balance_type", balance(balance_id=7), "balance_id"),
    ("balance_long", balance(balance_id="bal_" + "1" * 65), "balance_id"),
    ("balance_with_bank", balance(bank_code="058"), "bank_code"),
    ("balance_with_account", balance(account_id="acct_1"), "account_id"),
    ("balance_with_mobile", {"gateway": "sandbox",
                             "mobile_money_number": "233241234567",
                             "balance_id": BAL}, "mobile_money_number"),
    ("balance_id_typed_bank", {"gateway": "sandbox",
                               "recipient_type": "bank_account",
                               "balance_id": BAL}, "recipient_type"),
    ("type_unknown", balance(recipient_type="balances"), "recipient_type"),
]


@pytest.mark.parametrize("name,body,field", BAD, ids=[c[0] for c in BAD])
def test_bad_values(sbx, pg, tenant, http, name, body, field):
    before = counts(pg, tenant)
    r = post_json(http, sbx, tenant, PATH, body)
    assert_error(r, 400, None, field)
    payout = dict(body, amount=100, currency="EUR")
    r = post_json(http, sbx, tenant, "/v1/payouts", payout)
    assert_error(r, 400, None, field)
    assert counts(pg, tenant) == before


def test_list_filter_and_select(sbx, pg, tenant, http):
    b = post(http, sbx, tenant, balance(), 201)
    post(http, sbx, tenant, {"gateway": "sandbox", "account_id": "acct_1"},
         201)

    r = http.get(sbx.url(PATH), headers=tenant.headers,
                 params={"select": "uuid,recipient_type,balance_id",
                         "filter.recipient_type": "$eq:balance"})
    assert r.status_code == 200, r.text
    assert r.json()["data"] == [{"uuid": b["uuid"],
                                 "recipient_type": "balance",
                                 "balance_id": BAL}]

    r = http.get(sbx.url(PATH), headers=tenant.headers,
                 params={"filter.balance_id": "$eq:" + BAL,
                         "select": "uuid"})
    assert r.status_code == 200, r.text
    assert r.json()["data"] == [{"uuid": b["uuid"]}]
