"""GET /v1/payouts/{uuid}/events (issue 11): a payout's history from
payout_events, oldest first (from, to, source, detail, created_at), in
the key's tenant and mode; anything else is a 404 like GET
/payouts/{uuid}."""

import uuid as uuidlib

from payout_helpers import (assert_error, bank, create, events,  # noqa
                            sbx, wait_status)


def get_events(http, ngx, tenant, uuid, status=200):
    r = http.get(ngx.url("/v1/payouts/%s/events" % uuid),
                 headers=tenant.headers)
    assert r.status_code == status, r.text
    return r


def test_history_oldest_first(http, sbx, tenant, pg):
    p = create(http, sbx, tenant, bank("%06d0001"
                                       % (uuidlib.uuid4().int % 10 ** 6)))
    wait_status(http, sbx, tenant, p["payout_uuid"], "success")
    body = get_events(http, sbx, tenant, p["payout_uuid"]).json()
    assert body["payout_uuid"] == p["payout_uuid"]
    data = body["data"]
    assert [(e["from"], e["to"], e["source"]) for e in data] == \
        [tuple(row) for row in events(pg, p["payout_uuid"])]
    assert data[0]["from"] is None and data[0]["to"] == "pending_created"
    assert data[0]["source"] == "api"
    assert data[-1]["to"] == "success"
    for e in data:
        assert set(e) == {"id", "from", "to", "source", "detail",
                          "created_at"}
        assert e["created_at"]
    assert [e["id"] for e in data] == sorted(e["id"] for e in data)
    assert [e["created_at"] for e in data] == \
        sorted(e["created_at"] for e in data)


def test_staged_payout_has_one_event(http, sbx, tenant):
    p = create(http, sbx, tenant, bank(stage=True))
    data = get_events(http, sbx, tenant, p["payout_uuid"]).json()["data"]
    assert [(e["from"], e["to"]) for e in data] == \
        [(None, "pending_staged")]


def test_other_tenant_mode_unknown_and_malformed(http, sbx, tenant,
                                                 tenant_factory):
    p = create(http, sbx, tenant, bank(stage=True))
    other = tenant_factory()
    r = get_events(http, sbx, other, p["payout_uuid"], 404)
    assert_error(r, 404, "not_found")
    # the same tenant's live key: another mode
    live = tenant_factory(mode="live")
    assert_error(get_events(http, sbx, live, p["payout_uuid"], 404), 404,
                 "not_found")
    same = http.get(sbx.url("/v1/payouts/" + p["payout_uuid"]),
                    headers=other.headers)
    assert same.status_code == 404 and same.json() == r.json()
    assert_error(get_events(http, sbx, tenant, str(uuidlib.uuid4()), 404),
                 404, "not_found")
    assert_error(get_events(http, sbx, tenant, "not-a-uuid", 400), 400,
                 "invalid_parameter", "uuid")
    r = http.get(sbx.url("/v1/payouts/%s/events" % p["payout_uuid"]))
    assert_error(r, 401)
    r = http.post(sbx.url("/v1/payouts/%s/events" % p["payout_uuid"]),
                  headers=tenant.headers)
    assert_error(r, 405, "method_not_allowed")
