"""POST /v1/payouts and friends (SPEC §5, §6; seed 004): create, the
validation of its body, staging, transfer, cancel, GET one, live status,
idempotency, the webhook outbox, and the list's filter grammar."""

import json
import threading
import uuid
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from payout_helpers import (ACCOUNT, SEED_EXAMPLE, assert_error,
                            assert_history, bank, counts, create, get_payout,
                            mobile, payout_row, post_json, sandbox_nginx,
                            sandbox_transfers, sbx, wait_for,
                            wait_status)

assert sbx  # a fixture, used by name

UUID_FIELDS = ("payout_uuid", "recipient_uuid")


def is_uuid(s):
    return isinstance(s, str) and str(uuid.UUID(s)) == s


# 1. seed 004's example --

def test_seed_example_creates_and_succeeds(sbx, pg, tenant, http):
    out = create(http, sbx, tenant, SEED_EXAMPLE)

    assert set(out) >= {"payout_uuid", "recipient_uuid", "status",
                        "gateway_payout_id", "resource_created"}
    for name in UUID_FIELDS:
        assert is_uuid(out[name]), out
    assert out["status"] == "pending_promise", out
    assert isinstance(out["gateway_payout_id"], str) \
        and out["gateway_payout_id"], out
    assert out["resource_created"] is True

    # the sandbox's webhook, about 200ms later, makes it a success
    p = wait_status(http, sbx, tenant, out["payout_uuid"], "success")
    assert p["status"] == "success"
    assert p["uuid"] == out["payout_uuid"]
    assert p["recipient_uuid"] == out["recipient_uuid"]
    assert p["amount"] == 250000 and p["currency"] == "NGN"
    assert p["gateway"] == "sandbox"
    assert p["narration"] == "Weekly seller settlement"
    assert p["idempotency_key"] == "settlement-seller-1042-week-15"
    assert p["webhook_urls"] == ["https://your-domain.com/webhooks/payouts"]
    assert p["gateway_payout_id"] == out["gateway_payout_id"]
    assert p["tenant_id"] == tenant.id
    assert p["recipient"]["bank_account_number"] == "******6789"
    assert "webhook_secret" not in p
    assert "your-webhook-secret" not in json.dumps(p)
    assert_history(pg, out["payout_uuid"],
                   must_include=("pending_created", "pending_promise"),
                   ends="success")

    # the webhook secret is stored encrypted
    enc = pg.sql("SELECT webhook_secret_enc FROM payouts WHERE uuid = %s",
                 (out["payout_uuid"],))[0][0]
    assert enc is not None and b"your-webhook-secret" not in bytes(enc)


def test_mobile_money_inline(sbx, tenant, http):
    out = create(http, sbx, tenant, mobile())
    assert out["status"] == "pending_promise"
    p = get_payout(http, sbx, tenant, out["payout_uuid"])
    r = p["recipient"]
    assert r["recipient_type"] == "mobile_money"
    assert r["mobile_money_number"] == "******4567"
    assert r["mobile_money_provider"] == "MTN"
    assert r["bank_account_number"] is None


# 2. validation --

def without(body, *names):
    return {k: v for k, v in body.items() if k not in names}


BAD_BODIES = [
    ("missing_amount", without(bank(), "amount"), "missing_parameter",
     "amount"),
    ("missing_currency", without(bank(), "currency"), "missing_parameter",
     "currency"),
    ("missing_gateway", without(bank(), "gateway"), "missing_parameter",
     "gateway"),
    ("amount_0", bank(amount=0), "invalid_parameter", "amount"),
    ("amount_neg", bank(amount=-1), "invalid_parameter", "amount"),
    ("amount_decimal", bank(amount=1.5), "invalid_parameter", "amount"),
    ("amount_string", bank(amount="100"), "invalid_parameter", "amount"),
    ("amount_bool", bank(amount=True), "invalid_parameter", "amount"),
    ("amount_huge", bank(amount=10 ** 18), "invalid_parameter", "amount"),
    ("currency_XXX", bank(currency="XXX"), "invalid_parameter", "currency"),
    ("currency_ZZZ", bank(currency="ZZZ"), "invalid_parameter", "currency"),
    ("currency_long", bank(currency="NGNN"), "invalid_parameter",
     "currency"),
    ("unknown_gateway", bank(gateway="nope"), "unknown_gateway", "gateway"),
    ("partial_bank_no_code", without(bank(), "bank_code"),
     "missing_parameter", "bank_code"),
    ("partial_bank_only_number",
     without(bank(), "bank_code", "bank_account_name"),
     "missing_parameter", "bank_account_name"),
    ("partial_bank_only_name", without(bank(), "bank_account_number",
                                       "bank_code"),
     "missing_parameter", "bank_account_number"),
    ("bank_and_mobile", bank(mobile_money_number="233241234567"),
     "conflicting_parameters", "mobile_money_number"),
    ("mobile_and_bank_field", mobile(bank_code="058"),
     "conflicting_parameters", "bank_code"),
    ("no_recipient", {"amount": 1000, "currency": "NGN",
                      "gateway": "sandbox"},
     "missing_parameter", "recipient_uuid"),
    ("provider_only", {"amount": 1000, "currency": "NGN",
                       "gateway": "sandbox", "mobile_money_provider": "MTN"},
     "missing_parameter", "mobile_money_number"),
    ("uuid_and_details", bank(recipient_uuid=str(uuid.uuid4())),
     "conflicting_parameters", "bank_account_number"),
    ("bad_recipient_uuid", {"amount": 1000, "currency": "NGN",
                            "gateway": "sandbox",
                            "recipient_uuid": "not-a-uuid"},
     "invalid_parameter", "recipient_uuid"),
    ("unknown_field", dict(bank(), amonut=5), "unknown_parameter", "amonut"),
    ("metadata_nested", bank(metadata={"a": {"b": 1}}), "invalid_parameter",
     "metadata"),
    ("metadata_array", bank(metadata=[1, 2]), "invalid_parameter",
     "metadata"),
    ("webhook_urls_not_urls", bank(webhook_urls=["not a url"]),
     "invalid_parameter", "webhook_urls"),
    ("webhook_urls_ftp", bank(webhook_urls=["ftp://example.com/x"]),
     "invalid_parameter", "webhook_urls"),
    ("webhook_urls_string", bank(webhook_urls="https://example.com/x"),
     "invalid_parameter", "webhook_urls"),
    ("narration_too_long", bank(narration="x" * 256), "invalid_parameter",
     "narration"),
    ("tenant_mismatch", bank(tenant="other"), "tenant_mismatch", "tenant"),
    ("recipient_type_mismatch", bank(recipient_type="mobile_money"),
     "conflicting_parameters", "recipient_type"),
    ("bad_account_number", bank(account="12"), "invalid_parameter",
     "bank_account_number"),
    ("bad_email", bank(email="nope"), "invalid_parameter", "email"),
    ("stage_not_bool", bank(stage="yes"), "invalid_parameter", "stage"),
    ("idempotency_key_space", bank(idempotency_key="a b"),
     "invalid_parameter", "idempotency_key"),
]


@pytest.mark.parametrize("body,code,field",
                         [b[1:] for b in BAD_BODIES],
                         ids=[b[0] for b in BAD_BODIES])
def test_invalid_create_is_400_and_writes_nothing(sbx, pg, tenant, http,
                                                  body, code, field):
    before = counts(pg, tenant)
    r = post_json(http, sbx, tenant, "/v1/payouts", body)
    assert_error(r, 400, code, field)
    assert counts(pg, tenant) == before


def test_tenant_matching_the_key_is_accepted(sbx, tenant, http):
    out = create(http, sbx, tenant, bank(tenant=tenant.name, stage=True))
    assert out["status"] == "pending_staged"


@pytest.mark.parametrize("raw", [
    b'{"amount": 1000, "currency": "NGN"',
    b'{"amount": 1000, "amount": 2000, "currency": "NGN", '
    b'"gateway": "sandbox", "bank_account_number": "0123456789", '
    b'"bank_account_name": "JOHN SELLER", "bank_code": "058"}',
    b'',
    b'[1, 2]',
    b'"just a string"',
    b'{"amount": 1000, "narration": "\xff\xfe"}',
], ids=["truncated", "duplicate_key", "empty", "array", "string",
        "bad_utf8"])
def test_invalid_json_is_400(sbx, pg, tenant, http, raw):
    before = counts(pg, tenant)
    r = post_json(http, sbx, tenant, "/v1/payouts", raw)
    assert_error(r, 400, "invalid_json")
    assert counts(pg, tenant) == before


RAW_BASE = ('"currency":"NGN","gateway":"sandbox",'
            '"bank_account_number":"0123456789","bank_account_name":"J",'
            '"bank_code":"058"')

RAW_BODIES = [
    ("amount_float_exp", '{"amount":1e3,%s}', "invalid_parameter", "amount"),
    ("amount_float_int", '{"amount":1.0,%s}', "invalid_parameter", "amount"),
    ("amount_null", '{"amount":null,%s}', "missing_parameter", "amount"),
    ("amount_array", '{"amount":[1],%s}', "invalid_parameter", "amount"),
    ("amount_beyond_int64", '{"amount":99999999999999999999,%s}',
     "invalid_json", None),
    ("amount_max_plus_1", '{"amount":1000000000000001,%s}',
     "invalid_parameter", "amount"),
    ("currency_number", '{"amount":1,"currency":566,"gateway":"sandbox",'
     '"bank_account_number":"0123456789","bank_account_name":"J",'
     '"bank_code":"058"}', "invalid_parameter", "currency"),
    ("six_webhook_urls", '{"amount":1,%s,"webhook_urls":["https://e.co/1",'
     '"https://e.co/2","https://e.co/3","https://e.co/4","https://e.co/5",'
     '"https://e.co/6"]}', "invalid_parameter", "webhook_urls"),
    ("javascript_url", '{"amount":1,%s,"webhook_urls":["javascript:x()"]}',
     "invalid_parameter", "webhook_urls"),
    ("narration_control", '{"amount":1,%s,"narration":"a\\u0007b"}',
     "invalid_parameter", "narration"),
    ("narration_nul", '{"amount":1,%s,"narration":"a\\u0000b"}',
     "invalid_json", None),
    ("gateway_upper", '{"amount":1,"currency":"NGN","gateway":"SANDBOX",'
     '"bank_account_number":"0123456789","bank_account_name":"J",'
     '"bank_code":"058"}', "invalid_parameter", "gateway"),
    ("empty_idempotency_key", '{"amount":1,%s,"idempotency_key":""}',
     "invalid_parameter", "idempotency_key"),
    ("empty_mobile_number", '{"amount":1,%s,"mobile_money_number":""}',
     "invalid_parameter", "mobile_money_number"),
]


@pytest.mark.parametrize("raw,code,field", [b[1:] for b in RAW_BODIES],
                         ids=[b[0] for b in RAW_BODIES])
def test_invalid_raw_body_is_400(sbx, pg, tenant, http, raw, code, field):
    body = raw % RAW_BASE if "%s" in raw else raw
    before = counts(pg, tenant)
    r = post_json(http, sbx, tenant, "/v1/payouts", body.encode())
    assert_error(r, 400, code, field)
    assert counts(pg, tenant) == before


def test_max_amount(sbx, tenant, http):
    out = create(http, sbx, tenant, bank(stage=True, amount=10 ** 15))
    assert get_payout(http, sbx, tenant,
                      out["payout_uuid"])["amount"] == 10 ** 15


def test_lower_case_currency_is_normalised_or_refused(sbx, pg, tenant, http):
    r = post_json(http, sbx, tenant, "/v1/payouts",
                  bank(stage=True, currency="ngn"))
    if r.status_code == 400:
        assert_error(r, 400, "invalid_parameter", "currency")
        return
    assert r.status_code == 201, r.text
    p = get_payout(http, sbx, tenant, r.json()["payout_uuid"])
    assert p["currency"] == "NGN"


def test_wrong_content_type_is_415(sbx, pg, tenant, http):
    before = counts(pg, tenant)
    r = http.post(sbx.url("/v1/payouts"), data=json.dumps(bank()),
                  headers=dict(tenant.headers,
                               **{"Content-Type": "text/plain"}))
    assert_error(r, 415, "unsupported_media_type")
    r = http.post(sbx.url("/v1/payouts"), data=json.dumps(bank()),
                  headers=tenant.headers)
    assert_error(r, 415, "unsupported_media_type")
    assert counts(pg, tenant) == before


@pytest.mark.parametrize("auth", [None, "Bearer sk_test_nope",
                                  "Basic Zm9vOmJhcg=="])
def test_no_or_bad_key_is_401(sbx, pg, tenant, http, auth):
    before = counts(pg, tenant)
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = auth
    r = http.post(sbx.url("/v1/payouts"), data=json.dumps(bank()),
                  headers=headers)
    assert_error(r, 401, "unauthorized")
    assert counts(pg, tenant) == before


# 3. staging, transfer, cancel --

def test_stage_sends_nothing_then_transfer(sbx, pg, tenant, http):
    before = counts(pg, tenant)
    out = create(http, sbx, tenant, bank(stage=True, amount=4321))
    assert out["status"] == "pending_staged"
    assert out["resource_created"] is True
    assert out["gateway_payout_id"] is None
    assert is_uuid(out["recipient_uuid"])
    u = out["payout_uuid"]

    # nothing reached the provider
    r = http.get(sbx.url("/sandbox/transfers/" + u))
    assert r.status_code == 404, r.text
    assert sandbox_transfers(pg, u) == []
    after = counts(pg, tenant)
    assert after["sandbox_transfers"] == before["sandbox_transfers"]
    assert after["payouts"] == before["payouts"] + 1

    p = get_payout(http, sbx, tenant, u)
    assert p["status"] == "pending" and p["sub_status"] == "pending_staged"

    r = post_json(http, sbx, tenant, "/v1/payouts/%s/transfer" % u, "")
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["payout_uuid"] == u
    assert t["recipient_uuid"] == out["recipient_uuid"]
    assert t["status"] == "pending_promise"
    assert t["gateway_payout_id"]
    assert t["resource_created"] is True

    # exactly one transfer, for the payout's amount
    r = http.get(sbx.url("/sandbox/transfers/" + u))
    assert r.status_code == 200, r.text
    assert r.json()["amount"] == 4321
    assert len(sandbox_transfers(pg, u)) == 1

    # not staged any more
    r = post_json(http, sbx, tenant, "/v1/payouts/%s/transfer" % u, "")
    assert_error(r, 409)
    assert len(sandbox_transfers(pg, u)) == 1

    wait_status(http, sbx, tenant, u, "success")
    assert_history(pg, u, must_include=("pending_staged", "pending_created",
                                        "pending_promise"), ends="success")


def test_transfer_without_content_type_or_body(sbx, tenant, http):
    u = create(http, sbx, tenant, bank(stage=True))["payout_uuid"]
    r = http.post(sbx.url("/v1/payouts/%s/transfer" % u),
                  headers=tenant.headers)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "pending_promise"


def test_transfer_unknown_or_malformed(sbx, tenant, tenant_factory, http):
    r = post_json(http, sbx, tenant,
                  "/v1/payouts/%s/transfer" % uuid.uuid4(), "")
    assert_error(r, 404, "not_found")
    r = post_json(http, sbx, tenant, "/v1/payouts/nope/transfer", "")
    assert_error(r, 400, field="uuid")

    # another tenant's staged payout is unknown here
    other = tenant_factory()
    u = create(http, sbx, other, bank(stage=True))["payout_uuid"]
    r = post_json(http, sbx, tenant, "/v1/payouts/%s/transfer" % u, "")
    assert_error(r, 404, "not_found")
    r = post_json(http, sbx, tenant, "/v1/payouts/%s/cancel" % u, "")
    assert_error(r, 404, "not_found")


def test_cancel_staged(sbx, pg, tenant, http):
    out = create(http, sbx, tenant, bank(stage=True))
    u = out["payout_uuid"]

    r = post_json(http, sbx, tenant, "/v1/payouts/%s/cancel" % u, "")
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["uuid"] == u
    assert p["status"] == "canceled"
    assert p["sub_status"] == "canceled_voided"
    assert p["tenant_id"] == tenant.id
    assert p["recipient"]["bank_account_number"] == "******6789"
    assert sandbox_transfers(pg, u) == []

    # a second cancel is answered like the first (docs/api.md), and
    # changes nothing; a transfer of a voided payout is 409
    before = counts(pg, tenant)
    row = payout_row(pg, u)
    r = post_json(http, sbx, tenant, "/v1/payouts/%s/cancel" % u, "")
    assert r.status_code == 200, r.text
    assert r.json() == p
    r = post_json(http, sbx, tenant, "/v1/payouts/%s/transfer" % u, "")
    assert_error(r, 409)
    assert counts(pg, tenant) == before
    assert payout_row(pg, u) == row
    assert payout_row(pg, u)["sub_status"] == "canceled_voided"
    assert_history(pg, u, ends="canceled_voided")


def test_cancel_in_flight(sbx, pg, tenant, http):
    out = create(http, sbx, tenant, bank("5550000007"))
    assert out["status"] == "pending_promise"
    u = out["payout_uuid"]

    r = post_json(http, sbx, tenant, "/v1/payouts/%s/cancel" % u, "")
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["sub_status"] == "canceled_voided"
    assert p["status"] == "canceled"
    # the provider confirmed it
    assert [row[0] for row in sandbox_transfers(pg, u)] == ["canceled"]
    assert_history(pg, u, must_include=("pending_promise",),
                   ends="canceled_voided")

    # again: answered like the first, the provider is not asked again
    r = post_json(http, sbx, tenant, "/v1/payouts/%s/cancel" % u, "")
    assert r.status_code == 200, r.text
    assert r.json()["sub_status"] == "canceled_voided"
    assert r.json()["updated_at"] == p["updated_at"]
    assert [row[0] for row in sandbox_transfers(pg, u)] == ["canceled"]
    assert_history(pg, u, must_include=("pending_promise",),
                   ends="canceled_voided")


def test_cancel_succeeded_is_409(sbx, pg, tenant, http):
    u = create(http, sbx, tenant, bank())["payout_uuid"]
    wait_status(http, sbx, tenant, u, "success")
    before = counts(pg, tenant)
    row = payout_row(pg, u)
    r = post_json(http, sbx, tenant, "/v1/payouts/%s/cancel" % u, "")
    assert_error(r, 409)
    assert payout_row(pg, u) == row
    assert counts(pg, tenant) == before


def test_cancel_malformed_uuid(sbx, tenant, http):
    r = post_json(http, sbx, tenant, "/v1/payouts/123/cancel", "")
    assert_error(r, 400, field="uuid")
    r = post_json(http, sbx, tenant,
                  "/v1/payouts/%s/cancel" % uuid.uuid4(), "")
    assert_error(r, 404, "not_found")


# 4. GET one, live status --

def test_get_payout(sbx, tenant, tenant_factory, http):
    out = create(http, sbx, tenant, bank(stage=True, amount=777,
                                         metadata={"order": "A-1", "n": 2},
                                         narration="hello"))
    p = get_payout(http, sbx, tenant, out["payout_uuid"])
    assert p["uuid"] == out["payout_uuid"]
    assert p["tenant_id"] == tenant.id
    assert "tenant" not in p
    assert p["amount"] == 777 and p["currency"] == "NGN"
    assert p["metadata"] == {"order": "A-1", "n": 2}
    assert p["narration"] == "hello"
    assert p["recipient_uuid"] == out["recipient_uuid"]
    rec = p["recipient"]
    assert rec["uuid"] == out["recipient_uuid"]
    assert rec["recipient_type"] == "bank_account"
    assert rec["bank_account_number"] == "******6789"
    assert rec["bank_account_name"] == "JOHN SELLER"
    assert rec["bank_code"] == "058"
    assert ACCOUNT not in json.dumps(p)

    # upper-case UUIDs name the same payout
    r = http.get(sbx.url("/v1/payouts/" + out["payout_uuid"].upper()),
                 headers=tenant.headers)
    assert r.status_code == 200 and r.json()["uuid"] == out["payout_uuid"]

    for bad in ("nope", "1234", out["payout_uuid"][:-1] + "g"):
        r = http.get(sbx.url("/v1/payouts/" + bad), headers=tenant.headers)
        assert_error(r, 400, field="uuid")

    r = http.get(sbx.url("/v1/payouts/%s" % uuid.uuid4()),
                 headers=tenant.headers)
    assert_error(r, 404, "not_found")

    other = tenant_factory()
    r = http.get(sbx.url("/v1/payouts/" + out["payout_uuid"]),
                 headers=other.headers)
    assert_error(r, 404, "not_found")
    r = http.get(sbx.url("/v1/payouts/%s/status" % out["payout_uuid"]),
                 headers=other.headers)
    assert_error(r, 404, "not_found")

    r = http.get(sbx.url("/v1/payouts/" + out["payout_uuid"]))
    assert_error(r, 401)


def check_status_shape(body):
    assert set(body) >= {"code", "response", "error_message"}, body
    code = body["code"]
    assert set(code) == {"type", "success", "code"}, body
    assert isinstance(code["type"], str)
    assert isinstance(code["success"], bool)
    assert isinstance(code["code"], int)
    assert isinstance(body["response"], dict)
    assert body["error_message"] is None \
        or isinstance(body["error_message"], str)


def test_live_status_does_not_touch_the_row(sbx, pg, tenant, http):
    u = create(http, sbx, tenant, bank("5550000007"))["payout_uuid"]
    row = payout_row(pg, u)
    before = counts(pg, tenant)

    r = http.get(sbx.url("/v1/payouts/%s/status" % u),
                 headers=tenant.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    check_status_shape(body)
    assert body["code"] == {"type": "ok", "success": True, "code": 200}
    assert body["error_message"] is None
    assert body["response"]["reference"] == u
    assert body["response"]["status"] == "pending"

    assert payout_row(pg, u) == row
    assert counts(pg, tenant) == before

    # the provider's view changes, the row does not follow it
    pg.sql("UPDATE sandbox_transfers SET status = 'failed' "
           "WHERE reference = %s", (u,))
    r = http.get(sbx.url("/v1/payouts/%s/status" % u),
                 headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert r.json()["response"]["status"] == "failed"
    assert payout_row(pg, u) == row
    assert counts(pg, tenant) == before


def test_live_status_of_a_staged_payout(sbx, pg, tenant, http):
    u = create(http, sbx, tenant, bank(stage=True))["payout_uuid"]
    row = payout_row(pg, u)
    r = http.get(sbx.url("/v1/payouts/%s/status" % u),
                 headers=tenant.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    check_status_shape(body)
    assert body["code"]["success"] is False
    assert body["code"]["code"] == 404
    assert body["error_message"]
    assert payout_row(pg, u) == row

    r = http.get(sbx.url("/v1/payouts/xyz/status"), headers=tenant.headers)
    assert_error(r, 400, field="uuid")
    r = http.get(sbx.url("/v1/payouts/%s/status" % uuid.uuid4()),
                 headers=tenant.headers)
    assert_error(r, 404, "not_found")


def test_status_of_a_payout_on_an_unregistered_gateway(sbx, nginx_factory,
                                                     tenant, http):
    """Seed 004: 400 when the payout's gateway is not registered (here:
    another node sharing the database does not configure it)."""
    u = create(http, sbx, tenant, bank(stage=True))["payout_uuid"]
    other = nginx_factory(http="""
    payout_gateway elsewhere connector=sandbox url=http://127.0.0.1:9/x;
""")
    r = http.get(other.url("/v1/payouts/%s/status" % u),
                 headers=tenant.headers)
    assert_error(r, 400, "unknown_gateway", "gateway")

    # the stored payout is still there for that node
    r = http.get(other.url("/v1/payouts/%s" % u), headers=tenant.headers)
    assert r.status_code == 200
    assert r.json()["gateway"] == "sandbox"


# 5. idempotency --

def test_idempotent_replay(sbx, pg, tenant, http):
    body = bank(idempotency_key="replay-1", amount=1500)
    first = create(http, sbx, tenant, body)
    assert first["resource_created"] is True
    before = counts(pg, tenant)

    # same body, keys in another order: the same request
    again = create(http, sbx, tenant, dict(reversed(list(body.items()))))
    assert again["resource_created"] is False
    assert again["payout_uuid"] == first["payout_uuid"]
    assert again["recipient_uuid"] == first["recipient_uuid"]
    assert again["status"].startswith(("pending", "success"))
    after = counts(pg, tenant)
    assert after["payouts"] == before["payouts"]
    assert after["sandbox_transfers"] == before["sandbox_transfers"]
    assert len(sandbox_transfers(pg, first["payout_uuid"])) == 1


def test_idempotency_conflict(sbx, pg, tenant, http):
    create(http, sbx, tenant, bank(idempotency_key="conflict-1", stage=True))
    before = counts(pg, tenant)
    for changed in (bank(idempotency_key="conflict-1", stage=True,
                         amount=1001),
                    bank(idempotency_key="conflict-1", stage=True,
                         narration="other"),
                    bank("9876543210", idempotency_key="conflict-1",
                         stage=True)):
        r = post_json(http, sbx, tenant, "/v1/payouts", changed)
        assert_error(r, 409, "idempotency_conflict", "idempotency_key")
    assert counts(pg, tenant) == before


def test_idempotency_keys_are_per_tenant(sbx, tenant, tenant_factory, http):
    body = bank(idempotency_key="shared-key", stage=True)
    a = create(http, sbx, tenant, body)
    b = create(http, sbx, tenant_factory(), body)
    assert a["resource_created"] and b["resource_created"]
    assert a["payout_uuid"] != b["payout_uuid"]


def test_concurrent_duplicates_make_one_payout(nginx_factory, pg, tenant):
    import requests

    ngx = sandbox_nginx(nginx_factory, workers=2, pool=4)
    body = json.dumps(bank(idempotency_key="race-%s" % uuid.uuid4().hex,
                           amount=3210))
    headers = dict(tenant.headers, **{"Content-Type": "application/json"})
    barrier = threading.Barrier(32)
    results = [None] * 32

    def worker(i):
        with requests.Session() as s:
            barrier.wait()
            try:
                r = s.post(ngx.url("/v1/payouts"), data=body,
                           headers=headers, timeout=20)
                results[i] = (r.status_code, r.json())
            except Exception as e:           # noqa: BLE001
                results[i] = (None, repr(e))

    threads = [threading.Thread(target=worker, args=(i,))
               for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    statuses = [s for s, _ in results]
    assert statuses == [201] * 32, results
    uuids = {b["payout_uuid"] for _, b in results}
    assert len(uuids) == 1, uuids
    u = uuids.pop()
    assert sum(b["resource_created"] for _, b in results) == 1, results

    assert pg.sql("SELECT count(*) FROM payouts WHERE tenant_id = %s",
                  (tenant.id,))[0][0] == 1
    assert pg.sql("SELECT count(*) FROM recipients WHERE tenant_id = %s",
                  (tenant.id,))[0][0] == 1
    assert len(sandbox_transfers(pg, u)) == 1
    r = requests.get(ngx.url("/sandbox/ledger"), params={"reference": u})
    assert r.status_code == 200, r.text
    assert [t["reference"] for t in r.json()["transfers"]] == [u]
    assert_history(pg, u, must_include=("pending_created",))


def test_concurrent_conflicting_bodies_write_nothing(nginx_factory, pg,
                                                    tenant):
    """One key, eight different destinations at once: one payout, and
    the seven 409s leave nothing behind (no recipient either).

    The test holds a SHARE lock on payouts while the requests arrive, so
    all of them get past the key lookup before any payout row exists:
    the race every time, not once in a while."""
    import requests

    ngx = sandbox_nginx(nginx_factory, workers=2, pool=8)
    key = "race-diff-%s" % uuid.uuid4().hex
    headers = dict(tenant.headers, **{"Content-Type": "application/json"})
    results = []

    def worker(i):
        body = json.dumps(bank("55500%05d" % (i + 10), idempotency_key=key,
                               stage=True))
        with requests.Session() as s:
            r = s.post(ngx.url("/v1/payouts"), data=body, headers=headers,
                       timeout=20)
            results.append((r.status_code, r.json()))

    lock = pg.connect()
    lock.autocommit = False
    try:
        with lock.cursor() as cur:
            cur.execute("LOCK TABLE payouts IN SHARE MODE")
        threads = [threading.Thread(target=worker, args=(i,))
                   for i in range(8)]
        for t in threads:
            t.start()
        wait_for(lambda: pg.sql(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' "
            "AND query LIKE '%%payout_create%%'")[0][0] == 8,
            timeout=5, what="8 creates waiting on the lock")
    finally:
        lock.rollback()
        lock.close()
    for t in threads:
        t.join(30)

    statuses = sorted(s for s, _ in results)
    assert statuses == [201] + [409] * 7, results
    for status, body in results:
        if status == 409:
            assert body["error"]["code"] == "idempotency_conflict"
    assert pg.sql("SELECT count(*) FROM payouts WHERE tenant_id = %s",
                  (tenant.id,))[0][0] == 1
    assert pg.sql("SELECT count(*) FROM recipients WHERE tenant_id = %s",
                  (tenant.id,))[0][0] == 1, \
        "requests answered 409 left recipients behind"


def test_concurrent_transfers_send_once(nginx_factory, pg, tenant, http):
    import requests

    ngx = sandbox_nginx(nginx_factory, workers=2, pool=4)
    u = create(http, ngx, tenant, bank(stage=True))["payout_uuid"]
    barrier = threading.Barrier(8)
    results = []

    def worker():
        with requests.Session() as s:
            barrier.wait()
            r = s.post(ngx.url("/v1/payouts/%s/transfer" % u),
                       headers=tenant.headers, timeout=20)
            results.append(r.status_code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [201] + [409] * 7, results
    assert len(sandbox_transfers(pg, u)) == 1
    assert_history(pg, u, must_include=("pending_staged", "pending_created"))


# 11. the webhook outbox --

def test_outbox_rows_after_create(sbx, pg, tenant, http):
    # loopback ports nothing listens on: whatever delivers the outbox
    # fails fast and leaves the rows alone
    urls = ["http://127.0.0.1:1/hook-a", "http://127.0.0.1:1/hook-b",
            "http://127.0.0.1:1/x?y=1"]
    out = create(http, sbx, tenant, bank(webhook_urls=urls,
                                         webhook_secret="s3cret"))
    u = out["payout_uuid"]
    ev = pg.sql("SELECT e.id, e.event_type, e.payload, e.msg_id "
                "FROM webhook_events e JOIN payouts p ON p.id = e.payout_id "
                "WHERE p.uuid = %s ORDER BY e.id", (u,))
    assert ev, "no outbox event"
    first = ev[0]
    assert first[1] == "payout.pending_created"
    payload = first[2]
    assert payload["webhook_type"] == "payout"
    assert payload["uuid"] == u
    assert payload["status"] == "pending"
    assert payload["sub_status"] == "pending_created"
    assert payload["amount"] == 1000 and payload["currency"] == "NGN"
    assert "s3cret" not in json.dumps(payload)

    deliveries = pg.sql("SELECT url, state FROM webhook_deliveries "
                        "WHERE event_id = %s ORDER BY id", (first[0],))
    assert sorted(d[0] for d in deliveries) == sorted(urls)
    # nothing can have been delivered to a port nobody listens on
    assert all(d[1] != "delivered" for d in deliveries), deliveries

    # every later transition has its own event, each delivered to each URL
    types = [e[1] for e in ev]
    assert types[:2] == ["payout.pending_created", "payout.pending_promise"]
    assert len({e[3] for e in ev}) == len(ev)     # distinct webhook-ids
    for e in ev:
        n = pg.sql("SELECT count(*) FROM webhook_deliveries "
                   "WHERE event_id = %s", (e[0],))[0][0]
        assert n == len(urls)


def test_outbox_without_urls(sbx, pg, tenant, http):
    out = create(http, sbx, tenant, bank(stage=True))
    ev = pg.sql("SELECT e.id, e.event_type FROM webhook_events e "
                "JOIN payouts p ON p.id = e.payout_id WHERE p.uuid = %s",
                (out["payout_uuid"],))
    assert [e[1] for e in ev] == ["payout.pending_staged"]
    assert pg.sql("SELECT count(*) FROM webhook_deliveries "
                  "WHERE event_id = %s", (ev[0][0],))[0][0] == 0


# 8. the list's filter grammar --

DATASET = [
    # key, amount, currency, how
    ("pre-a", 100, "NGN", "staged"),
    ("pre-b", 200, "NGN", "staged"),
    ("pre-c", 300, "USD", "staged"),
    ("x-PRE-d", 400, "NGN", "staged"),
    ("other-e", 500, "GHS", "staged"),
    ("sent-f", 600, "NGN", "sent"),       # 0007: stays pending_promise
    ("void-g", 700, "NGN", "voided"),
]


@pytest.fixture
def listed(sbx, tenant, http):
    made = {}
    for key, amount, currency, how in DATASET:
        body = bank("5550000007" if how == "sent" else ACCOUNT,
                    idempotency_key=key, amount=amount, currency=currency,
                    stage=(how != "sent"))
        out = create(http, sbx, tenant, body)
        if how == "voided":
            r = post_json(http, sbx, tenant,
                          "/v1/payouts/%s/cancel" % out["payout_uuid"], "")
            assert r.status_code == 200, r.text
        made[key] = out["payout_uuid"]
    return made


def list_payouts(http, ngx, tenant, query):
    r = http.get(ngx.url("/v1/payouts?" + query), headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()


FILTERS = [
    ("filter.status=$eq:pending", "abcdef"),
    ("filter.status=pending", "abcdef"),
    ("filter.status=$eq:canceled", "g"),
    ("filter.sub_status=$in:pending_staged,canceled_voided", "abcdeg"),
    ("filter.amount=$gte:400", "defg"),
    ("filter.amount=$gt:400", "efg"),
    ("filter.amount=$lte:200", "ab"),
    ("filter.amount=$btw:200,400", "bcd"),
    ("filter.amount=$not:$btw:200,600", "ag"),
    ("filter.amount=$in:100,300,700", "acg"),
    ("filter.amount=$not:$in:100,300,700", "bdef"),
    ("filter.currency=$not:$eq:NGN", "ce"),
    ("filter.currency=$in:USD,GHS", "ce"),
    ("filter.gateway_payout_id=$null", "abcdeg"),
    ("filter.gateway_payout_id=$not:$null", "f"),
    ("filter.currency=$eq:NGN&filter.amount=$lt:400", "ab"),
    ("filter.amount=$gt:100&filter.amount=$lte:300", "bc"),
    ("filter.idempotency_key=$sw:pre", "abc"),
    ("filter.idempotency_key=$sw:PRE", "abc"),
    ("filter.idempotency_key=$ilike:pre", "abcd"),
    ("filter.idempotency_key=$contains:PRE", "d"),
    ("filter.idempotency_key=$not:$ilike:pre", "efg"),
    ("filter.idempotency_key=$eq:nothing", ""),
    ("filter.gateway=$eq:sandbox&filter.currency=$eq:GHS", "e"),
]


def keys_of(body):
    """"pre-a", "pre-b" ... -> "ab...", in the list's order."""
    return "".join(p["idempotency_key"][-1] for p in body["data"])


def encode(query):
    """filter.x=$op:v&... with each value percent-encoded."""
    parts = []
    for part in query.split("&"):
        name, _, value = part.partition("=")
        parts.append(name + "=" + quote(value, safe=""))
    return "&".join(parts)


@pytest.mark.parametrize("query,expected", FILTERS,
                         ids=[f[0] for f in FILTERS])
def test_filters(sbx, tenant, http, listed, query, expected):
    body = list_payouts(http, sbx, tenant, encode(query))
    # newest first by default
    assert keys_of(body) == expected[::-1], (query, body["data"])
    assert body["meta"]["totalItems"] == len(expected)
    assert body["meta"]["filter"]
    for p in body["data"]:
        assert p["tenant_id"] == tenant.id
        assert "recipient" in p


def test_filters_raw_query_and_echo(sbx, tenant, http, listed):
    # unencoded $ and : as curl -d sends them
    q = "filter.currency=$eq:NGN&filter.amount=$lt:400&limit=1"
    body = list_payouts(http, sbx, tenant, q)
    assert keys_of(body) == "b"
    assert body["meta"]["totalItems"] == 2
    assert body["meta"]["totalPages"] == 2
    assert body["meta"]["filter"] == {"currency": "$eq:NGN",
                                      "amount": "$lt:400"}
    links = body["links"]
    assert set(links) == {"current", "next", "last"}
    for name in ("current", "next", "last"):
        qs = parse_qs(urlsplit(links[name]).query)
        assert qs["filter.currency"] == ["$eq:NGN"], links[name]
        assert qs["filter.amount"] == ["$lt:400"], links[name]
        assert qs["limit"] == ["1"]
    nxt = http.get(sbx.url(links["next"]), headers=tenant.headers)
    assert nxt.status_code == 200, nxt.text
    assert keys_of(nxt.json()) == "a"

    # a repeated column is echoed as a list
    body = list_payouts(http, sbx, tenant,
                        "filter.amount=$gt:100&filter.amount=$lte:300")
    assert body["meta"]["filter"] == {"amount": ["$gt:100", "$lte:300"]}
    assert "filter" not in list_payouts(http, sbx, tenant, "")["meta"]


def test_filter_created_at(sbx, tenant, http, listed):
    d = get_payout(http, sbx, tenant, listed["x-PRE-d"])
    q = "filter.created_at=" + quote("$gte:" + d["created_at"], safe="")
    body = list_payouts(http, sbx, tenant, q + "&sortBy=id:ASC")
    assert keys_of(body) == "defg"
    q = "filter.created_at=" + quote("$lt:" + d["created_at"], safe="")
    assert keys_of(list_payouts(http, sbx, tenant,
                                q + "&sortBy=id:ASC")) == "abc"
    # a plain date, and a 'Z' time far in the past
    body = list_payouts(http, sbx, tenant,
                        "filter.created_at=$gte:2000-01-01T00:00:00Z"
                        "&sortBy=created_at:ASC")
    assert keys_of(body) == "abcdefg"
    body = list_payouts(http, sbx, tenant, "filter.created_at=$lt:2000-01-01")
    assert body["data"] == []


def test_filter_uuid_columns(sbx, tenant, http, listed):
    a = get_payout(http, sbx, tenant, listed["pre-a"])
    body = list_payouts(http, sbx, tenant, "filter.uuid=$eq:" + a["uuid"])
    assert keys_of(body) == "a"
    body = list_payouts(http, sbx, tenant,
                        "filter.recipient_uuid=$eq:" + a["recipient_uuid"]
                        + "&sortBy=amount:ASC")
    assert keys_of(body) == "abcdeg"


BAD_FILTERS = [
    ("filter.nope=$eq:1", "filter.nope"),
    ("filter.tenant_id=$eq:1", "filter.tenant_id"),
    ("filter.webhook_secret_enc=$null", "filter.webhook_secret_enc"),
    ("filter.status=$foo:x", "filter.status"),
    ("filter.status=$gte", "filter.status"),
    ("filter.status=", "filter.status"),
    ("filter.amount=$eq:abc", "filter.amount"),
    ("filter.amount=$ilike:1", "filter.amount"),
    ("filter.amount=$btw:1", "filter.amount"),
    ("filter.amount=$btw:1,2,3", "filter.amount"),
    ("filter.amount=$in:", "filter.amount"),
    ("filter.amount=$null:5", "filter.amount"),
    ("filter.status=$not:$not:$eq:x", "filter.status"),
    ("filter.created_at=$gte:yesterday", "filter.created_at"),
    ("filter.uuid=$eq:nope", "filter.uuid"),
    ("filter.status=$eq:x%27;DROP%20TABLE%20payouts;--", None),
]


@pytest.mark.parametrize("query,field", BAD_FILTERS,
                         ids=[f[0] for f in BAD_FILTERS])
def test_bad_filters_are_400(sbx, pg, tenant, http, query, field):
    r = http.get(sbx.url("/v1/payouts?" + query), headers=tenant.headers)
    if field is None:
        # a hostile value is only a value: no match, no error
        assert r.status_code == 200, r.text
        assert r.json()["data"] == []
        assert pg.sql("SELECT to_regclass('payouts') IS NOT NULL")[0][0]
        return
    # a column off the whitelist is a parameter the list does not know
    unknown = field in ("filter.nope", "filter.tenant_id",
                        "filter.webhook_secret_enc")
    assert_error(r, 400, "unknown_parameter" if unknown
                 else "invalid_parameter", field)
