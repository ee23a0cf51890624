"""Cursor pagination of the lists (issue 12): nestjs-paginate's `cursor`
parameter with its meta and links, by id in either direction, with
filters; and exact totals from the per-tenant counters."""

from urllib.parse import parse_qs, urlsplit

import pytest

from payout_helpers import assert_error
from test_list import LIST_GATEWAY, get_list, insert_payouts

AMOUNTS = list(range(100, 1300, 100))     # 12 payouts, ids ascending


@pytest.fixture
def twelve(pg, tenant):
    tenant.payout_ids = insert_payouts(pg, tenant.id, AMOUNTS)
    return tenant


def query(link):
    q = parse_qs(urlsplit(link).query, keep_blank_values=True)
    return {k: v[0] if len(v) == 1 else v for k, v in q.items()}


def follow(http, nginx, tenant, link):
    r = http.get(nginx.url(link), headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()


def ids(body):
    return [row["id"] for row in body["data"]]


def test_walks_forward_and_back(nginx, http, twelve):
    want = sorted(twelve.payout_ids, reverse=True)
    body = get_list(http, nginx, twelve, cursor="", limit=5)

    assert ids(body) == want[:5]
    assert body["meta"] == {"itemsPerPage": 5, "cursor": None,
                            "sortBy": [["id", "DESC"]]}
    assert set(body["links"]) == {"current", "next"}
    assert query(body["links"]["current"]) == {
        "cursor": "", "limit": "5", "sortBy": "id:DESC"}
    assert query(body["links"]["next"]) == {
        "cursor": str(want[4]), "limit": "5", "sortBy": "id:DESC"}
    assert urlsplit(body["links"]["next"]).path == "/v1/payouts"

    seen = ids(body)
    pages = [body]
    while "next" in body["links"]:
        body = follow(http, nginx, twelve, body["links"]["next"])
        assert body["meta"]["cursor"] == query(
            body["links"]["current"])["cursor"]
        pages.append(body)
        seen += ids(body)
    assert seen == want
    assert [len(p["data"]) for p in pages] == [5, 5, 2]
    assert "previous" in pages[-1]["links"]

    # previous: the rows before the page, the other way round
    back = follow(http, nginx, twelve, pages[-1]["links"]["previous"])
    assert ids(back) == sorted(want[5:10])
    assert back["meta"]["sortBy"] == [["id", "ASC"]]
    assert query(pages[-1]["links"]["previous"])["cursor"] == str(want[10])


def test_ascending(nginx, http, twelve):
    want = sorted(twelve.payout_ids)
    body = get_list(http, nginx, twelve, cursor="", limit=7,
                    sortBy="id:ASC")
    assert ids(body) == want[:7]
    nxt = follow(http, nginx, twelve, body["links"]["next"])
    assert ids(nxt) == want[7:]
    assert "next" not in nxt["links"]
    assert query(nxt["links"]["previous"]) == {
        "cursor": str(want[7]), "limit": "7", "sortBy": "id:DESC"}


def test_cursor_from_the_middle(nginx, http, twelve):
    want = sorted(twelve.payout_ids, reverse=True)
    body = get_list(http, nginx, twelve, cursor=str(want[3]), limit=3)
    assert ids(body) == want[4:7]
    assert body["meta"]["cursor"] == str(want[3])
    assert {"previous", "current", "next"} == set(body["links"])


def test_past_the_end_is_empty(nginx, http, twelve):
    body = get_list(http, nginx, twelve, cursor="1", limit=3)
    assert body["data"] == []
    assert "next" not in body["links"]


def test_empty_tenant(nginx, http, tenant):
    body = get_list(http, nginx, tenant, cursor="")
    assert body["data"] == [] and set(body["links"]) == {"current"}


def test_with_filters_search_and_select(nginx, http, pg, twelve):
    pg.sql("UPDATE payouts SET status = 'success', sub_status = 'success', "
           "narration = 'rent' WHERE id = ANY(%s)",
           (twelve.payout_ids[::2],))
    want = sorted(twelve.payout_ids[::2], reverse=True)
    body = get_list(http, nginx, twelve, **{
        "cursor": "", "limit": "4", "filter.status": "success",
        "search": "ren", "select": "id,amount"})
    assert ids(body) == want[:4]
    assert all(set(row) == {"id", "amount"} for row in body["data"])
    assert body["meta"]["filter"] == {"status": "success"}
    nxt = query(body["links"]["next"])
    assert nxt["filter.status"] == "success" and nxt["search"] == "ren"
    assert nxt["select"] == "id,amount"
    body = follow(http, nginx, twelve, body["links"]["next"])
    assert ids(body) == want[4:]
    assert "next" not in body["links"]


def test_other_tenant_and_mode_are_not_seen(nginx, http, pg, twelve,
                                            tenant_factory):
    other = tenant_factory()
    insert_payouts(pg, other.id, [1, 2])
    body = get_list(http, nginx, other, cursor="")
    assert len(body["data"]) == 2
    live = tenant_factory(mode="live")
    assert get_list(http, nginx, live, cursor="")["data"] == []


@pytest.mark.parametrize("params,code,field", [
    ({"cursor": "abc"}, "invalid_parameter", "cursor"),
    ({"cursor": "-1"}, "invalid_parameter", "cursor"),
    ({"cursor": "0"}, "invalid_parameter", "cursor"),
    ({"cursor": "1" * 25}, "invalid_parameter", "cursor"),
    ({"cursor": "", "page": "2"}, "conflicting_parameters", "cursor"),
    ({"cursor": "", "sortBy": "created_at:DESC"}, "invalid_parameter",
     "sortBy"),
    ({"cursor": "", "sortBy": ["id:DESC", "amount:ASC"]},
     "invalid_parameter", "sortBy"),
])
def test_bad_cursor_requests_are_400(nginx, http, twelve, params, code,
                                     field):
    r = http.get(nginx.url("/v1/payouts"), params=params,
                 headers=twelve.headers)
    assert_error(r, 400, code=code, field=field)


def test_repeated_cursor_is_400(nginx, http, twelve):
    r = http.get(nginx.url("/v1/payouts?cursor=&cursor=5"),
                 headers=twelve.headers)
    assert_error(r, 400, code="conflicting_parameters", field="cursor")


def test_recipients_cursor(nginx, http, pg, tenant):
    for i in range(3):
        pg.sql("INSERT INTO recipients (tenant_id, gateway, recipient_type, "
               "fingerprint) VALUES (%s, 'sandbox', 'bank_account', %s)",
               (tenant.id, bytes([i]) * 32))
    r = http.get(nginx.url("/v1/payout-recipients"),
                 params={"cursor": "", "limit": 2}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["data"]) == 2 and "next" in body["links"]
    body = follow(http, nginx, tenant, body["links"]["next"])
    assert len(body["data"]) == 1 and "next" not in body["links"]


# -- exact totals from the counters --------------------------------------

def total(http, nginx, tenant, path="/v1/payouts", **params):
    r = http.get(nginx.url(path), params=params, headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()["meta"]["totalItems"]


def test_totals_follow_inserts_updates_and_deletes(nginx, http, pg, twelve,
                                                   tenant_factory):
    t = twelve
    assert total(http, nginx, t) == 12
    assert total(http, nginx, t, **{"filter.status": "pending"}) == 12
    assert total(http, nginx, t, **{"filter.status": "$eq:success"}) == 0

    pg.sql("UPDATE payouts SET status = 'canceled', "
           "sub_status = 'canceled_failure' WHERE id = ANY(%s)",
           (t.payout_ids[:3],))
    pg.sql("DELETE FROM payouts WHERE id = %s", (t.payout_ids[-1],))
    assert total(http, nginx, t) == 11
    assert total(http, nginx, t, **{"filter.status": "canceled"}) == 3
    assert total(http, nginx, t, **{"filter.status": "pending"}) == 8
    # other filters are counted: the same answers
    assert total(http, nginx, t, **{"filter.status": "$in:canceled"}) == 3
    assert total(http, nginx, t, **{"filter.amount": "$gte:100"}) == 11

    # a payout moved to live mode leaves the test list
    pg.sql("UPDATE payouts SET livemode = true WHERE id = %s",
           (t.payout_ids[5],))
    assert total(http, nginx, t) == 10

    # the counters agree with count(*) for every tenant, mode and status
    rows = pg.sql(
        "SELECT tenant_id, livemode, status, count(*) FROM payouts "
        "GROUP BY 1, 2, 3 EXCEPT "
        "SELECT tenant_id, livemode, status, sum(n) FROM tenant_counters "
        "WHERE resource = 'payouts' GROUP BY 1, 2, 3")
    assert rows == []


def test_recipient_totals(nginx, http, pg, tenant):
    assert total(http, nginx, tenant, "/v1/payout-recipients") == 0
    for i in range(4):
        pg.sql("INSERT INTO recipients (tenant_id, gateway, recipient_type, "
               "fingerprint) VALUES (%s, 'sandbox', 'bank_account', %s)",
               (tenant.id, bytes([i + 7]) * 32))
    assert total(http, nginx, tenant, "/v1/payout-recipients") == 4
    pg.sql("DELETE FROM recipients WHERE tenant_id = %s AND "
           "fingerprint = %s", (tenant.id, bytes([7]) * 32))
    assert total(http, nginx, tenant, "/v1/payout-recipients") == 3


def test_unfiltered_totals_read_the_counters(nginx, http, pg, twelve):
    # proof that no count(*) ran: a skewed counter shows through, for the
    # unfiltered list and filter.status alone, but not for other filters
    pg.sql("INSERT INTO tenant_counters (tenant_id, livemode, resource, "
           "status, slot, n) VALUES (%s, false, 'payouts', 'pending', 99, "
           "100)", (twelve.id,))
    try:
        assert total(http, nginx, twelve) == 112
        assert total(http, nginx, twelve,
                     **{"filter.status": "pending"}) == 112
        assert total(http, nginx, twelve,
                     **{"filter.status": "$in:pending"}) == 12
        assert total(http, nginx, twelve, search="x") == 0
    finally:
        pg.sql("DELETE FROM tenant_counters WHERE slot = 99")


def test_page_past_the_end_with_counted_totals(nginx, http, pg, tenant):
    # the clamp of a page past the end uses the counters' total
    for i in range(3):
        pg.sql("INSERT INTO recipients (tenant_id, gateway, recipient_type, "
               "fingerprint) VALUES (%s, 'sandbox', 'bank_account', %s)",
               (tenant.id, bytes([i + 40]) * 32))
    r = http.get(nginx.url("/v1/payout-recipients"),
                 params={"limit": 2, "page": 9}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["meta"]["currentPage"] == 2 and len(body["data"]) == 1


def test_totals_of_one_statement_of_many_rows(nginx, http, pg, tenant):
    # an import: the counters are added once per statement (schema 017),
    # where a row trigger rewrote one counter row per payout and 200,000
    # rows in one statement did not finish in twelve minutes
    pg.sql("INSERT INTO payouts (tenant_id, amount, currency, gateway, "
           "status, sub_status) SELECT %s, g, 'NGN', %s, "
           "(ARRAY['success', 'canceled'])[g %% 2 + 1], "
           "(ARRAY['success', 'canceled_failure'])[g %% 2 + 1] "
           "FROM generate_series(1, 20000) g", (tenant.id, LIST_GATEWAY))
    try:
        assert total(http, nginx, tenant) == 20000
        assert total(http, nginx, tenant,
                     **{"filter.status": "canceled"}) == 10000

        pg.sql("DELETE FROM payouts WHERE tenant_id = %s AND amount <= 5000",
               (tenant.id,))
        assert total(http, nginx, tenant) == 15000
        assert total(http, nginx, tenant,
                     **{"filter.status": "success"}) == 7500
        # the last page of the import, past its end: clamped by the total
        body = get_list(http, nginx, tenant, limit=100, page=1000)
        assert body["meta"]["currentPage"] == 150
        assert len(body["data"]) == 100
    finally:
        pg.sql("DELETE FROM payouts WHERE tenant_id = %s", (tenant.id,))
    assert total(http, nginx, tenant) == 0
    rows = pg.sql("SELECT sum(n) FROM tenant_counters WHERE tenant_id = %s",
                  (tenant.id,))
    assert rows[0][0] == 0
