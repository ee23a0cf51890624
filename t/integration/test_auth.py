"""API key authentication (SPEC §5): Bearer keys, test/live modes,
revocation, and tenant isolation."""

import pytest

from conftest import payoutctl
from payout_helpers import assert_error

UNKNOWN_KEY = "sk_test_" + "A" * 40


def assert_unauthorized(r):
    assert_error(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def insert_payouts(pg, tenant_id, amounts):
    for amount in amounts:
        pg.sql("INSERT INTO payouts (tenant_id, amount, currency, gateway, "
               "status, sub_status) VALUES (%s, %s, 'NGN', 'list-rows', "
               "'pending', 'pending_created')", (tenant_id, amount))


@pytest.mark.parametrize("authorization", [
    None,
    "Basic dXNlcjpwYXNzd29yZA==",
    "Bearer",
    "Bearer ",
    "Bearer not-a-key",
    "Token " + UNKNOWN_KEY,
    "Bearer sk_prod_" + "A" * 40,
    "Bearer sk_test_" + "A" * 39,
    "Bearer sk_test_" + "A" * 41,
    "Bearer sk_test_" + "A" * 39 + "!",
    "Bearer " + UNKNOWN_KEY,
], ids=["missing", "basic", "bearer-no-key", "bearer-empty", "malformed",
        "other-scheme", "bad-tag", "short", "long", "not-base62",
        "unknown"])
def test_bad_credentials_are_401(nginx, http, authorization):
    headers = {}
    if authorization is not None:
        headers["Authorization"] = authorization
    r = http.get(nginx.url("/v1/payouts"), headers=headers)
    assert_unauthorized(r)


def test_valid_key(nginx, tenant, http):
    assert tenant.key.startswith("sk_test_")
    assert len(tenant.key) == 48
    r = http.get(nginx.url("/v1/payouts"), headers=tenant.headers)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["data"] == []


def test_bearer_scheme_is_case_insensitive(nginx, tenant, http):
    r = http.get(nginx.url("/v1/payouts"),
                 headers={"Authorization": "bearer " + tenant.key})
    assert r.status_code == 200


def test_right_prefix_wrong_secret_is_401(nginx, tenant, http):
    forged = tenant.key[:16] + ("B" if tenant.key[16] != "B" else "C") \
        + tenant.key[17:]
    assert forged != tenant.key
    r = http.get(nginx.url("/v1/payouts"),
                 headers={"Authorization": "Bearer " + forged})
    assert_unauthorized(r)


def test_revoked_key_is_401(nginx, pg, tenant, http):
    other = payoutctl(pg, "key", "create", "--tenant", tenant.name,
                      "--mode", "test").stdout.strip()
    r = http.get(nginx.url("/v1/payouts"), headers=tenant.headers)
    assert r.status_code == 200

    payoutctl(pg, "key", "revoke", tenant.key[:16])

    r = http.get(nginx.url("/v1/payouts"), headers=tenant.headers)
    assert_unauthorized(r)

    # the tenant's other key is unaffected
    r = http.get(nginx.url("/v1/payouts"),
                 headers={"Authorization": "Bearer " + other})
    assert r.status_code == 200


def test_live_key(nginx, tenant_factory, http):
    live = tenant_factory(mode="live")
    assert live.key.startswith("sk_live_")
    assert len(live.key) == 48
    r = http.get(nginx.url("/v1/payouts"), headers=live.headers)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"


def test_tenant_isolation(nginx, pg, tenant_factory, http):
    a = tenant_factory()
    b = tenant_factory()
    insert_payouts(pg, a.id, [100, 200, 300])

    r = http.get(nginx.url("/v1/payouts"), headers=b.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["data"] == []
    assert body["meta"]["totalItems"] == 0

    r = http.get(nginx.url("/v1/payouts"), headers=a.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["meta"]["totalItems"] == 3
    assert sorted(p["amount"] for p in body["data"]) == [100, 200, 300]
    assert {p["tenant_id"] for p in body["data"]} == {a.id}


def test_health_needs_no_key(nginx, http):
    r = http.get(nginx.url("/v1/health"))
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert "WWW-Authenticate" not in r.headers
    assert r.json() == {"status": "ok", "database": "up"}


def test_health_ignores_a_bad_key(nginx, http):
    r = http.get(nginx.url("/v1/health"),
                 headers={"Authorization": "Bearer " + UNKNOWN_KEY})
    assert r.status_code == 200
