"""POST/GET /v1/payout-recipients (SPEC §5, seed 004's one-of rules,
create-or-reuse by fingerprint), payouts to a stored recipient, and
encryption at rest of account and wallet numbers (SPEC §11)."""

import json
import os
import uuid

import pytest

from payout_helpers import (ACCOUNT, MOBILE, assert_error, bank, counts,
                            create, get_payout, mobile, post_json,
                            sandbox_nginx, sbx, wait_status)

assert sbx  # a fixture, used by name

PATH = "/v1/payout-recipients"


def bank_recipient(account=ACCOUNT, **kw):
    body = {"gateway": "sandbox", "bank_account_number": account,
            "bank_account_name": "JOHN SELLER", "bank_code": "058",
            "bank_name": "Guaranty Trust Bank"}
    body.update(kw)
    return body


def mobile_recipient(number=MOBILE, **kw):
    body = {"gateway": "sandbox", "mobile_money_number": number,
            "mobile_money_provider": "MTN"}
    body.update(kw)
    return body


def post_recipient(http, ngx, tenant, body, status):
    r = post_json(http, ngx, tenant, PATH, body)
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/json"
    return r.json()


def test_create_bank_recipient(sbx, pg, tenant, http):
    rec = post_recipient(http, sbx, tenant,
                         bank_recipient(name="John", email="j@example.com",
                                        phone="+234 801 234 5678",
                                        metadata={"seller": 1042}), 201)
    assert rec["resource_created"] is True
    assert str(uuid.UUID(rec["uuid"])) == rec["uuid"]
    assert rec["tenant_id"] == tenant.id
    assert rec["gateway"] == "sandbox"
    assert rec["recipient_type"] == "bank_account"
    assert rec["bank_account_number"] == "******6789"
    assert rec["bank_account_name"] == "JOHN SELLER"
    assert rec["bank_code"] == "058"
    assert rec["bank_name"] == "Guaranty Trust Bank"
    assert rec["mobile_money_number"] is None
    assert rec["name"] == "John" and rec["email"] == "j@example.com"
    assert rec["metadata"] == {"seller": 1042}
    assert ACCOUNT not in json.dumps(rec)

    # the same destination again: reused, not duplicated
    before = counts(pg, tenant)
    again = post_recipient(http, sbx, tenant, bank_recipient(), 200)
    assert again["resource_created"] is False
    assert again["uuid"] == rec["uuid"]
    # written with separators: the same normalised account
    again = post_recipient(http, sbx, tenant,
                           bank_recipient("0123-456 789"), 200)
    assert again["uuid"] == rec["uuid"]
    assert counts(pg, tenant) == before

    # another account is another recipient
    other = post_recipient(http, sbx, tenant, bank_recipient("1111222233"),
                           201)
    assert other["uuid"] != rec["uuid"]
    assert other["bank_account_number"] == "******2233"


def test_create_mobile_recipient(sbx, pg, tenant, http):
    rec = post_recipient(http, sbx, tenant, mobile_recipient(), 201)
    assert rec["resource_created"] is True
    assert rec["recipient_type"] == "mobile_money"
    assert rec["mobile_money_number"] == "******4567"
    assert rec["mobile_money_provider"] == "MTN"
    assert rec["bank_account_number"] is None
    assert MOBILE not in json.dumps(rec)

    again = post_recipient(http, sbx, tenant,
                           mobile_recipient("+233 24 123 4567"), 200)
    assert again["uuid"] == rec["uuid"]
    assert again["resource_created"] is False

    # provider is optional
    bare = post_recipient(http, sbx, tenant,
                          {"gateway": "sandbox",
                           "mobile_money_number": "233200000001"}, 201)
    assert bare["mobile_money_provider"] is None


def test_recipients_are_per_tenant(sbx, tenant, tenant_factory, http):
    a = post_recipient(http, sbx, tenant, bank_recipient(), 201)
    b = post_recipient(http, sbx, tenant_factory(), bank_recipient(), 201)
    assert a["uuid"] != b["uuid"]


def test_recipient_idempotency_key(sbx, pg, tenant, http):
    body = bank_recipient(idempotency_key="rcpt-1")
    first = post_recipient(http, sbx, tenant, body, 201)
    again = post_recipient(http, sbx, tenant, body, 200)
    assert again["uuid"] == first["uuid"]
    assert again["resource_created"] is False
    assert again["idempotency_key"] == "rcpt-1"

    before = counts(pg, tenant)
    for changed in (bank_recipient("9998887776", idempotency_key="rcpt-1"),
                    mobile_recipient(idempotency_key="rcpt-1")):
        r = post_json(http, sbx, tenant, PATH, changed)
        assert_error(r, 409, "idempotency_conflict", "idempotency_key")
    assert counts(pg, tenant) == before


BAD = [
    ("missing_gateway", {k: v for k, v in bank_recipient().items()
                         if k != "gateway"}, "missing_parameter", "gateway"),
    ("unknown_gateway", bank_recipient(gateway="nope"), "unknown_gateway",
     "gateway"),
    ("partial_bank", {"gateway": "sandbox",
                      "bank_account_number": ACCOUNT, "bank_code": "058"},
     "missing_parameter", "bank_account_name"),
    ("bank_name_only", {"gateway": "sandbox", "bank_name": "GTB"},
     "missing_parameter", "bank_account_number"),
    ("bank_and_mobile", bank_recipient(mobile_money_number=MOBILE),
     "conflicting_parameters", "mobile_money_number"),
    ("mobile_and_bank", mobile_recipient(bank_account_name="X"),
     "conflicting_parameters", "bank_account_name"),
    ("nothing", {"gateway": "sandbox"}, "missing_parameter",
     "bank_account_number"),
    ("recipient_uuid_not_a_field",
     dict(bank_recipient(), recipient_uuid=str(uuid.uuid4())),
     "unknown_parameter", "recipient_uuid"),
    ("amount_not_a_field", dict(bank_recipient(), amount=5),
     "unknown_parameter", "amount"),
    ("bad_mobile", mobile_recipient("12"), "invalid_parameter",
     "mobile_money_number"),
    ("bad_bank_code", bank_recipient(bank_code="0"), "invalid_parameter",
     "bank_code"),
    ("metadata_nested", bank_recipient(metadata={"a": [1]}),
     "invalid_parameter", "metadata"),
]


@pytest.mark.parametrize("body,code,field", [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])
def test_invalid_recipient_is_400(sbx, pg, tenant, http, body, code, field):
    before = counts(pg, tenant)
    r = post_json(http, sbx, tenant, PATH, body)
    assert_error(r, 400, code, field)
    assert counts(pg, tenant) == before


def test_recipient_transport_errors(sbx, pg, tenant, http):
    before = counts(pg, tenant)
    r = post_json(http, sbx, tenant, PATH, b'{"gateway": "sandbox",')
    assert_error(r, 400, "invalid_json")
    r = post_json(http, sbx, tenant, PATH,
                  b'{"gateway": "sandbox", "gateway": "sandbox"}')
    assert_error(r, 400, "invalid_json")
    r = http.post(sbx.url(PATH), data=json.dumps(bank_recipient()),
                  headers=dict(tenant.headers,
                               **{"Content-Type": "text/plain"}))
    assert_error(r, 415)
    r = post_json(http, sbx, None, PATH, bank_recipient())
    assert_error(r, 401)
    assert counts(pg, tenant) == before


def test_get_and_list_recipients(sbx, tenant, tenant_factory, http):
    a = post_recipient(http, sbx, tenant, bank_recipient(), 201)
    b = post_recipient(http, sbx, tenant, mobile_recipient(), 201)

    r = http.get(sbx.url(PATH + "/" + a["uuid"]), headers=tenant.headers)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["uuid"] == a["uuid"]
    assert got["bank_account_number"] == "******6789"
    assert got["tenant_id"] == tenant.id
    assert "resource_created" not in got

    r = http.get(sbx.url(PATH), headers=tenant.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"data", "meta", "links"}
    assert [x["uuid"] for x in body["data"]] == [b["uuid"], a["uuid"]]
    assert body["meta"]["totalItems"] == 2
    text = json.dumps(body)
    assert ACCOUNT not in text and MOBILE not in text

    r = http.get(sbx.url(PATH + "?filter.recipient_type=$eq:mobile_money"),
                 headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert [x["uuid"] for x in r.json()["data"]] == [b["uuid"]]
    r = http.get(sbx.url(PATH + "?filter.amount=$eq:1"),
                 headers=tenant.headers)
    assert_error(r, 400, "unknown_parameter", "filter.amount")

    r = http.get(sbx.url(PATH + "/nope"), headers=tenant.headers)
    assert_error(r, 400, field="uuid")
    r = http.get(sbx.url(PATH + "/%s" % uuid.uuid4()),
                 headers=tenant.headers)
    assert_error(r, 404, "not_found")

    other = tenant_factory()
    r = http.get(sbx.url(PATH + "/" + a["uuid"]), headers=other.headers)
    assert_error(r, 404, "not_found")
    r = http.get(sbx.url(PATH), headers=other.headers)
    assert r.status_code == 200 and r.json()["data"] == []

    r = http.get(sbx.url(PATH))
    assert_error(r, 401)


def test_payout_to_stored_recipient(sbx, pg, tenant, http):
    rec = post_recipient(http, sbx, tenant, bank_recipient(), 201)
    before = counts(pg, tenant)
    out = create(http, sbx, tenant, {"amount": 5000, "currency": "NGN",
                                     "gateway": "sandbox",
                                     "recipient_uuid": rec["uuid"]})
    assert out["recipient_uuid"] == rec["uuid"]
    assert out["status"] == "pending_promise"
    after = counts(pg, tenant)
    assert after["recipients"] == before["recipients"]
    assert after["payouts"] == before["payouts"] + 1
    p = wait_status(http, sbx, tenant, out["payout_uuid"], "success")
    assert p["recipient"]["uuid"] == rec["uuid"]

    # upper-case UUID: the same recipient
    out = create(http, sbx, tenant, {"amount": 5000, "currency": "NGN",
                                     "gateway": "sandbox", "stage": True,
                                     "recipient_uuid": rec["uuid"].upper()})
    assert out["recipient_uuid"] == rec["uuid"]

    # inline details of the same destination reuse the stored recipient
    out = create(http, sbx, tenant, bank(stage=True))
    assert out["recipient_uuid"] == rec["uuid"]
    assert counts(pg, tenant)["recipients"] == before["recipients"]


def test_payout_to_mobile_recipient(sbx, tenant, http):
    rec = post_recipient(http, sbx, tenant, mobile_recipient(), 201)
    out = create(http, sbx, tenant, {"amount": 700, "currency": "GHS",
                                     "gateway": "sandbox",
                                     "recipient_uuid": rec["uuid"]})
    assert out["status"] == "pending_promise"
    wait_status(http, sbx, tenant, out["payout_uuid"], "success")
    # and the inline form finds it
    out = create(http, sbx, tenant, mobile(stage=True))
    assert out["recipient_uuid"] == rec["uuid"]


def test_recipient_of_another_tenant(sbx, pg, tenant, tenant_factory, http):
    other = tenant_factory()
    rec = post_recipient(http, sbx, other, bank_recipient(), 201)
    before = counts(pg, tenant)
    r = post_json(http, sbx, tenant, "/v1/payouts",
                  {"amount": 5000, "currency": "NGN", "gateway": "sandbox",
                   "recipient_uuid": rec["uuid"]})
    assert_error(r, 400, "recipient_not_found", "recipient_uuid")
    r = post_json(http, sbx, tenant, "/v1/payouts",
                  {"amount": 5000, "currency": "NGN", "gateway": "sandbox",
                   "recipient_uuid": str(uuid.uuid4())})
    assert_error(r, 400, "recipient_not_found", "recipient_uuid")
    assert counts(pg, tenant) == before


def test_recipient_gateway_mismatch(nginx_factory, pg, tenant, http):
    ngx = sandbox_nginx(nginx_factory,
                        http="payout_gateway sandbox2 connector=sandbox "
                             "url=http://127.0.0.1:1/none timeout=1s;")
    rec = post_recipient(http, ngx, tenant, bank_recipient(), 201)
    before = counts(pg, tenant)
    r = post_json(http, ngx, tenant, "/v1/payouts",
                  {"amount": 5000, "currency": "NGN", "gateway": "sandbox2",
                   "recipient_uuid": rec["uuid"]})
    assert_error(r, 400, "recipient_gateway_mismatch", "gateway")
    assert counts(pg, tenant) == before


# 7. encryption at rest --

def all_rows_as_text(pg):
    """Every row of every table in the public schema, as JSON text."""
    tables = [t for (t,) in pg.sql(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")]
    out = {}
    for t in tables:
        rows = pg.sql('SELECT row_to_json(x)::text FROM "%s" x' % t)
        out[t] = "\n".join(r[0] for r in rows)
    return out


WHSEC = "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"     # 24 bytes


def test_numbers_encrypted_at_rest(sbx, pg, tenant, http):
    post_recipient(http, sbx, tenant, bank_recipient(), 201)
    post_recipient(http, sbx, tenant, mobile_recipient(), 201)
    a = create(http, sbx, tenant, bank(amount=111))
    b = create(http, sbx, tenant, mobile(amount=222, webhook_secret=WHSEC,
                                         webhook_urls=["https://x.test/h"]))
    create(http, sbx, tenant, bank(stage=True, amount=333))
    wait_status(http, sbx, tenant, a["payout_uuid"], "success")
    wait_status(http, sbx, tenant, b["payout_uuid"], "success")

    # the stored ciphertexts decrypt to nothing readable here
    rows = pg.sql("SELECT account_number_enc, account_number_last4, "
                  "mobile_money_number_enc, mobile_money_last4 "
                  "FROM recipients WHERE tenant_id = %s", (tenant.id,))
    assert len(rows) == 2
    for acc, acc4, mm, mm4 in rows:
        assert (acc is None) != (mm is None)
        if acc is not None:
            assert acc4 == "6789" and len(bytes(acc)) > len(ACCOUNT)
        else:
            assert mm4 == "4567" and len(bytes(mm)) > len(MOBILE)

    needles = {}
    for plain in (ACCOUNT, MOBILE, WHSEC):
        needles[plain] = plain
        needles[plain + " (bytea)"] = plain.encode().hex()
    dump = all_rows_as_text(pg)
    assert "recipients" in dump and "payouts" in dump
    for table, text in dump.items():
        for name, needle in needles.items():
            assert needle not in text, \
                "%s appears in table %s" % (name, table)

    # nor in nginx's error log (info level)
    with open(sbx.error_log, errors="replace") as f:
        log = f.read()
    for plain in (ACCOUNT, MOBILE):
        assert plain not in log, "%s appears in the error log" % plain
    access = os.path.join(os.path.dirname(sbx.error_log), "access.log")
    if os.path.exists(access):
        with open(access, errors="replace") as f:
            text = f.read()
        for plain in (ACCOUNT, MOBILE):
            assert plain not in text
    assert get_payout(http, sbx, tenant, a["payout_uuid"])["recipient"][
        "bank_account_number"] == "******6789"


# issue 8: account_id and country are stored now; the recipient and the
# inline payout recipient keep them (t/integration/test_recipient_fields.py)
STORED = [
    ("connected", {"gateway": "sandbox", "account_id": "acct_1"},
     "account_id"),
    ("bank_owner", bank_recipient(account_id="acct_1"), "account_id"),
    ("country", bank_recipient(country="NG"), "country"),
]


@pytest.mark.parametrize("name,body,field", STORED,
                         ids=[c[0] for c in STORED])
def test_issue8_fields_stored(sbx, pg, tenant, http, name, body, field):
    rec = post_recipient(http, sbx, tenant, body, 201)
    assert rec[field] == body[field]
    payout = dict(body, amount=100, currency="NGN", stage=True)
    r = post_json(http, sbx, tenant, "/v1/payouts", payout)
    assert r.status_code == 201, r.text
    got = get_payout(http, sbx, tenant, r.json()["payout_uuid"])
    assert got["recipient"]["uuid"] == rec["uuid"]


def test_issue8_fields_validated(sbx, pg, tenant, http):
    r = post_json(http, sbx, tenant, PATH, bank_recipient(country="ng"))
    assert_error(r, 400, "invalid_parameter", "country")
    r = post_json(http, sbx, tenant, PATH,
                  {"gateway": "sandbox", "account_id": "ba_1"})
    assert_error(r, 400, "invalid_parameter", "account_id")
