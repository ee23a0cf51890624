"""The per-worker API key cache (issue 12): payout_api_key_cache, the
revocation window it opens and how the NOTIFY of a revocation closes
it."""

import hashlib
import secrets
import string
import time

import pytest

from conftest import payoutctl
from payout_helpers import assert_error, wait_for
from test_gateway_conf import check

BASE62 = string.ascii_letters + string.digits


@pytest.mark.parametrize("value,message", [
    ("abc", "invalid value"),
    ("-1s", "invalid value"),
    ("61s", "payout_api_key_cache must be at most 60s"),
    ("1h", "payout_api_key_cache must be at most 60s"),
])
def test_bad_values_fail_nginx_t(pg, value, message):
    rc, text = check(pg, "payout_api_key_cache %s;" % value)
    assert rc != 0
    assert message in text, text


@pytest.mark.parametrize("value", ["0", "500ms", "5s", "60s"])
def test_good_values_pass_nginx_t(pg, value):
    rc, text = check(pg, "payout_api_key_cache %s;" % value)
    assert rc == 0, text


def get(http, ngx, key):
    return http.get(ngx.url("/v1/payouts"),
                    headers={"Authorization": "Bearer " + key})


def revoke_quietly(pg, key):
    """Revokes the key without the trigger's NOTIFY: what a worker that
    missed the notification sees."""
    with pg.connect(autocommit=False) as conn, conn.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute("UPDATE api_keys SET revoked_at = now() "
                    "WHERE key_prefix = %s", (key[:16],))
        assert cur.rowcount == 1
        conn.commit()


def test_revoked_key_works_only_within_the_ttl(pg, nginx_factory,
                                               tenant, http):
    ttl = 2.0
    ngx = nginx_factory(http="payout_api_key_cache 2s;")

    assert get(http, ngx, tenant.key).status_code == 200
    cached_at = time.monotonic()

    revoke_quietly(pg, tenant.key)

    # the worker still trusts the key it accepted less than 2 s ago ...
    r = get(http, ngx, tenant.key)
    if time.monotonic() - cached_at < ttl - 0.5:
        assert r.status_code == 200, r.text

    # ... and refuses it once the 2 s are over, for good
    wait_for(lambda: get(http, ngx, tenant.key).status_code == 401,
             timeout=ttl + 2, interval=0.1, what="the revoked key's 401")
    stopped = time.monotonic() - cached_at
    assert stopped <= ttl + 1.0, stopped
    for _ in range(5):
        assert_error(get(http, ngx, tenant.key), 401, "unauthorized")


def test_revocation_notifies_the_workers(pg, nginx_factory, tenant, http):
    # the longest TTL: only the NOTIFY can end the key this soon
    ngx = nginx_factory(http="payout_api_key_cache 60s;", workers=2)
    for _ in range(6):
        assert get(http, ngx, tenant.key).status_code == 200

    payoutctl(pg, "key", "revoke", tenant.key[:16])
    started = time.monotonic()

    wait_for(lambda: all(get(http, ngx, tenant.key).status_code == 401
                         for _ in range(6)),
             timeout=5, what="every worker's 401")
    assert time.monotonic() - started < 5


def test_no_cache_refuses_a_revoked_key_at_once(pg, nginx_factory, tenant,
                                                 http):
    ngx = nginx_factory(http="payout_api_key_cache 0;")
    assert get(http, ngx, tenant.key).status_code == 200
    revoke_quietly(pg, tenant.key)
    assert_error(get(http, ngx, tenant.key), 401, "unauthorized")


def test_refusals_are_not_cached(pg, nginx_factory, tenant, http):
    ngx = nginx_factory(http="payout_api_key_cache 60s;")
    key = "sk_test_" + "".join(secrets.choice(BASE62) for _ in range(40))

    assert_error(get(http, ngx, key), 401, "unauthorized")

    # the key comes into being: it works on the very next request
    pg.sql("INSERT INTO api_keys (tenant_id, mode, key_prefix, key_hash) "
           "VALUES (%s, 'test', %s, %s)",
           (tenant.id, key[:16], hashlib.sha256(key.encode()).digest()))
    r = get(http, ngx, key)
    assert r.status_code == 200, r.text


def test_cached_key_keeps_its_tenant_and_mode(pg, nginx_factory,
                                              tenant_factory, http):
    ngx = nginx_factory()
    a = tenant_factory()
    b = tenant_factory(mode="live")
    for _ in range(3):
        for t in (a, b):
            r = http.post(ngx.url("/v1/payouts"), headers=t.headers,
                          json={})
            # refused for its body, after the key was accepted
            assert r.status_code == 400, r.text
            r = get(http, ngx, t.key)
            assert r.status_code == 200 and r.json()["data"] == []

    # a key that differs from a cached one is not taken for it
    forged = a.key[:-1] + ("A" if a.key[-1] != "A" else "B")
    assert_error(get(http, ngx, forged), 401, "unauthorized")

    # no key reaches the log
    with open(ngx.error_log, errors="replace") as f:
        log = f.read()
    assert a.key not in log and b.key not in log
