"""GET /v1/payouts: nestjs-paginate style listing (SPEC §5): limit, page,
sortBy, and the {data, meta, links} response."""

import uuid
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from payout_helpers import assert_error

AMOUNTS = [500, 100, 700, 300, 600, 200, 400]      # 7 payouts, ids ascending


def insert_payouts(pg, tenant_id, amounts):
    """Rows straight into the table, in order; returns their ids."""
    ids = []
    for amount in amounts:
        ids.append(pg.sql(
            "INSERT INTO payouts (tenant_id, amount, currency, gateway, "
            "status, sub_status) VALUES (%s, %s, 'NGN', 'sandbox', "
            "'pending', 'pending_created') RETURNING id",
            (tenant_id, amount))[0][0])
    return ids


@pytest.fixture
def seven(pg, tenant):
    """A tenant with 7 payouts."""
    tenant.payout_ids = insert_payouts(pg, tenant.id, AMOUNTS)
    return tenant


def get_list(http, nginx, tenant, **params):
    r = http.get(nginx.url("/v1/payouts"), params=params,
                 headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert set(body) == {"data", "meta", "links"}
    return body


def link_page(link):
    return int(parse_qs(urlsplit(link).query)["page"][0])


@pytest.mark.parametrize("query,field", [
    ("limit=abc", "limit"),
    ("limit=0", "limit"),
    ("limit=-1", "limit"),
    ("limit=", "limit"),
    ("limit=1.5", "limit"),
    ("limit=99999999999999999999", "limit"),
    ("page=0", "page"),
    ("page=abc", "page"),
    ("page=-2", "page"),
    ("sortBy=foo:ASC", "sortBy"),
    ("sortBy=id:asc", "sortBy"),
    ("sortBy=id", "sortBy"),
    ("sortBy=amount:UP", "sortBy"),
    ("sortBy=tenant_id:ASC", "sortBy"),
    ("sortBy=id;DROP%20TABLE%20payouts:ASC", "sortBy"),
])
def test_bad_parameters_are_400(nginx, tenant, http, query, field):
    r = http.get(nginx.url("/v1/payouts?" + query), headers=tenant.headers)
    assert_error(r, 400, field=field)


def test_bad_parameter_without_key_is_401(nginx, http):
    r = http.get(nginx.url("/v1/payouts?limit=abc"))
    assert_error(r, 401)


def test_defaults(nginx, seven, http):
    body = get_list(http, nginx, seven)
    meta = body["meta"]
    assert meta["itemsPerPage"] == 50
    assert meta["totalItems"] == 7
    assert meta["currentPage"] == 1
    assert meta["totalPages"] == 1
    assert len(body["data"]) == 7
    assert "current" in body["links"]
    for name in ("first", "previous", "next", "last"):
        assert name not in body["links"]


def test_limit_is_clamped_to_1000(nginx, tenant, http):
    body = get_list(http, nginx, tenant, limit=5000)
    assert body["meta"]["itemsPerPage"] == 1000
    body = get_list(http, nginx, tenant, limit=1000)
    assert body["meta"]["itemsPerPage"] == 1000


def test_middle_page(nginx, seven, http):
    body = get_list(http, nginx, seven, limit=3, page=2)
    assert len(body["data"]) == 3
    meta = body["meta"]
    assert meta["itemsPerPage"] == 3
    assert meta["totalItems"] == 7
    assert meta["currentPage"] == 2
    assert meta["totalPages"] == 3
    links = body["links"]
    assert set(links) == {"first", "previous", "current", "next", "last"}
    assert link_page(links["first"]) == 1
    assert link_page(links["previous"]) == 1
    assert link_page(links["current"]) == 2
    assert link_page(links["next"]) == 3
    assert link_page(links["last"]) == 3
    for link in links.values():
        assert parse_qs(urlsplit(link).query)["limit"] == ["3"]


def test_first_page_has_no_first_or_previous(nginx, seven, http):
    body = get_list(http, nginx, seven, limit=3, page=1)
    assert len(body["data"]) == 3
    assert body["meta"]["currentPage"] == 1
    assert set(body["links"]) == {"current", "next", "last"}


def test_last_page_has_no_next_or_last(nginx, seven, http):
    body = get_list(http, nginx, seven, limit=3, page=3)
    assert len(body["data"]) == 1
    assert body["meta"]["currentPage"] == 3
    assert set(body["links"]) == {"first", "previous", "current"}


def test_page_past_the_end_is_empty(nginx, seven, http):
    body = get_list(http, nginx, seven, limit=3, page=9)
    assert body["data"] == []
    assert body["meta"]["totalItems"] == 7
    assert body["meta"]["currentPage"] == 9


def test_links_walk_every_payout_once(nginx, seven, http):
    """Following "next" from page 1 visits all 7 payouts exactly once."""
    seen = []
    url = nginx.url("/v1/payouts?limit=3&sortBy=id:ASC")
    pages = 0
    while url:
        r = http.get(url, headers=seven.headers)
        assert r.status_code == 200
        body = r.json()
        seen += [p["id"] for p in body["data"]]
        nxt = body["links"].get("next")
        url = urljoin(url, nxt) if nxt else None
        pages += 1
        assert pages <= 3
    assert seen == seven.payout_ids


def test_sort_by_amount(nginx, seven, http):
    body = get_list(http, nginx, seven, sortBy="amount:ASC")
    assert [p["amount"] for p in body["data"]] == sorted(AMOUNTS)
    assert body["meta"]["sortBy"] == [["amount", "ASC"]]

    body = get_list(http, nginx, seven, sortBy="amount:DESC")
    assert [p["amount"] for p in body["data"]] == sorted(AMOUNTS,
                                                         reverse=True)


def test_sort_by_amount_across_pages(nginx, seven, http):
    body = get_list(http, nginx, seven, sortBy="amount:ASC", limit=3, page=2)
    assert [p["amount"] for p in body["data"]] == sorted(AMOUNTS)[3:6]
    assert "sortBy=amount:ASC" in body["links"]["next"]


def test_sort_by_id(nginx, seven, http):
    body = get_list(http, nginx, seven, sortBy="id:ASC")
    assert [p["id"] for p in body["data"]] == seven.payout_ids
    body = get_list(http, nginx, seven, sortBy="id:DESC")
    assert [p["id"] for p in body["data"]] == seven.payout_ids[::-1]


def test_sort_by_created_at(nginx, pg, seven, http):
    # created_at in the reverse order of ids
    for i, pid in enumerate(seven.payout_ids):
        pg.sql("UPDATE payouts SET created_at = now() - %s * interval '1 h' "
               "WHERE id = %s", (i, pid))
    body = get_list(http, nginx, seven, sortBy="created_at:ASC")
    assert [p["id"] for p in body["data"]] == seven.payout_ids[::-1]


def test_item_shape(nginx, seven, http):
    body = get_list(http, nginx, seven, limit=1)
    assert len(body["data"]) == 1
    item = body["data"][0]
    uuid.UUID(item["uuid"])
    assert item["tenant_id"] == seven.id
    assert item["amount"] in AMOUNTS
    assert isinstance(item["amount"], int)
    assert item["currency"] == "NGN"
    assert item["status"] == "pending"
    assert item["sub_status"] == "pending_created"
    assert "recipient" in item and item["recipient"] is None
