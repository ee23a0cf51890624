"""The stack works end to end: nginx, the module, PostgreSQL, a key."""


def test_list_payouts_empty(nginx, tenant, http):
    r = http.get(nginx.url("/v1/payouts"), headers=tenant.headers)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert body["data"] == []
    assert body["meta"]["totalItems"] == 0


def test_health(nginx, http):
    r = http.get(nginx.url("/v1/health"))
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "up"}
