"""GET /v1/payouts: nestjs-paginate style listing (SPEC §5): limit, page,
sortBy, search, select, filters, and the {data, meta, links} response;
nothing a client sends is silently ignored."""

import uuid
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import pytest
from payout_helpers import assert_error

AMOUNTS = [500, 100, 700, 300, 600, 200, 400]      # 7 payouts, ids ascending


def insert_rows(pg, sql, rows):
    """Rows straight into a table, in order; returns what each returned."""
    return [pg.sql(sql, row)[0][0] for row in rows]


# Rows made here name a gateway no nginx has, so no test's reconciler
# takes them for payouts in flight (it claims only its own gateways').
LIST_GATEWAY = "list-rows"


def insert_payouts(pg, tenant_id, amounts):
    """Payouts straight into the table, in order; returns their ids."""
    return insert_rows(
        pg, "INSERT INTO payouts (tenant_id, amount, currency, gateway, "
        "status, sub_status) VALUES (%s, %s, 'NGN', %s, "
        "'pending', 'pending_created') RETURNING id",
        [(tenant_id, amount, LIST_GATEWAY) for amount in amounts])


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


def test_page_past_the_end_is_the_last(nginx, seven, http):
    """As nestjs-paginate's meta does; the data is that page's too."""
    last = get_list(http, nginx, seven, limit=3, page=3)
    body = get_list(http, nginx, seven, limit=3, page=9)
    assert body["data"] == last["data"] and len(body["data"]) == 1
    assert body["meta"]["totalItems"] == 7
    assert body["meta"]["currentPage"] == 3
    assert body["meta"]["totalPages"] == 3
    assert set(body["links"]) == {"first", "previous", "current"}
    assert link_page(body["links"]["current"]) == 3
    assert link_page(body["links"]["previous"]) == 2


def test_page_past_the_end_of_nothing(nginx, tenant, http):
    body = get_list(http, nginx, tenant, page=5)
    assert body["data"] == []
    assert body["meta"]["totalItems"] == 0
    assert body["meta"]["totalPages"] == 0
    assert body["meta"]["currentPage"] == 1
    assert set(body["links"]) == {"current"}


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


# -- nothing silently ignored -------------------------------------------

def get_raw(http, nginx, tenant, query, path="/v1/payouts"):
    return http.get(nginx.url(path + "?" + query), headers=tenant.headers)


@pytest.mark.parametrize("query,field", [
    ("Limit=5", "Limit"),
    ("sortby=id:ASC", "sortby"),
    ("SEARCH=x", "SEARCH"),
    ("Cursor=abc", "Cursor"),
    ("filter=status%3D%24eq%3Apending%20OR%20amount%3D%24gt%3A1", "filter"),
    ("Filter.status=pending", "Filter.status"),
    ("filters.status=pending", "filters.status"),
    ("withDeleted=true", "withDeleted"),
    ("path=/x", "path"),
    ("nope", "nope"),
    ("limit=5&x=1", "x"),
    ("%FF%00=1", "??"),
    ("=1", ""),
])
def test_unknown_parameters_are_400(nginx, seven, http, query, field):
    err = assert_error(get_raw(http, nginx, seven, query), 400,
                       code="unknown_parameter", field=field)
    if field.lower() in ("limit", "sortby", "search"):
        assert "did you mean" in err["message"]


@pytest.mark.parametrize("query,field", [
    ("limit=5&limit=7", "limit"),
    ("limit=5&limit=5", "limit"),
    ("page=1&page=2", "page"),
    ("search=a&search=b", "search"),
])
def test_repeated_scalars_are_400(nginx, seven, http, query, field):
    assert_error(get_raw(http, nginx, seven, query), 400,
                 code="conflicting_parameters", field=field)


def test_empty_segments_are_no_parameter(nginx, seven, http):
    r = get_raw(http, nginx, seven, "&limit=2&&page=2&")
    assert r.status_code == 200, r.text
    assert r.json()["meta"]["currentPage"] == 2


# -- several sortBy -------------------------------------------------------

def test_several_sort_by(nginx, pg, tenant, http):
    ids = insert_payouts(pg, tenant.id, [300, 100, 300, 100, 200])
    body = get_list(http, nginx, tenant, sortBy=["amount:ASC", "id:DESC"])
    got = [(p["amount"], p["id"]) for p in body["data"]]
    assert got == sorted(zip([300, 100, 300, 100, 200], ids),
                         key=lambda t: (t[0], -t[1]))
    assert body["meta"]["sortBy"] == [["amount", "ASC"], ["id", "DESC"]]

    body = get_list(http, nginx, tenant, limit=2,
                    sortBy=["amount:DESC", "created_at:ASC"])
    assert [p["id"] for p in body["data"]] == [ids[0], ids[2]]
    assert body["meta"]["sortBy"] == [["amount", "DESC"],
                                      ["created_at", "ASC"]]
    for link in body["links"].values():
        assert parse_qs(urlsplit(link).query)["sortBy"] == [
            "amount:DESC", "created_at:ASC"]

    # the links walk the same order
    nxt = http.get(urljoin(nginx.url("/"), body["links"]["next"]),
                   headers=tenant.headers).json()
    assert [p["id"] for p in nxt["data"]] == [ids[4], ids[1]]


@pytest.mark.parametrize("query", [
    "sortBy=id:ASC&sortBy=id:DESC",
    "sortBy=amount:ASC&sortBy=amount:ASC",
    "sortBy=amount:ASC&sortBy=nope:ASC",
])
def test_bad_several_sort_by(nginx, tenant, http, query):
    assert_error(get_raw(http, nginx, tenant, query), 400,
                 code="invalid_parameter", field="sortBy")


# -- select ---------------------------------------------------------------

def test_select(nginx, seven, http):
    body = get_list(http, nginx, seven, select="amount,id", limit=2,
                    sortBy="id:ASC")
    assert body["data"] == [{"amount": a, "id": i} for a, i in
                            zip(AMOUNTS[:2], seven.payout_ids[:2])]
    assert list(body["data"][0]) == ["amount", "id"]
    assert body["meta"]["select"] == ["amount", "id"]
    for link in body["links"].values():
        assert parse_qs(urlsplit(link).query)["select"] == ["amount,id"]

    # repeated and duplicated: once each, in the order first given
    body = get_list(http, nginx, seven, select=["id", "status,id"], limit=1)
    assert list(body["data"][0]) == ["id", "status"]
    assert body["meta"]["select"] == ["id", "status"]

    # the relation is one field: the whole, masked, recipient
    body = get_list(http, nginx, seven, select="recipient,recipient_uuid")
    assert body["data"][0] == {"recipient": None, "recipient_uuid": None}

    assert "select" not in get_list(http, nginx, seven)["meta"]


@pytest.mark.parametrize("value", [
    "", "id,", "nope", "tenant", "recipient.name", "webhook_secret_enc",
    "ID",
])
def test_bad_select(nginx, seven, http, value):
    err = assert_error(get_raw(http, nginx, seven, "select=" + quote(value)),
                       400, code="invalid_parameter", field="select")
    assert "recipient is the whole, masked, recipient" in err["message"]


# -- search ---------------------------------------------------------------

SEARCHABLE = [
    # narration, idempotency_key, gateway_payout_id
    ("50% off", "k-1", None),
    ("500 off", "k-2", "tr_OFF"),
    ("a_b", "K-3", None),
    ("axb", "k-4", "tr_x"),
    (None, "offset-5", None),
]


@pytest.fixture
def searchable(pg, tenant):
    tenant.ids = insert_rows(
        pg, "INSERT INTO payouts (tenant_id, amount, currency, gateway, "
        "status, sub_status, narration, idempotency_key, "
        "gateway_payout_id) VALUES (%s, 100, 'NGN', %s, "
        "'pending', 'pending_created', %s, %s, %s) RETURNING id",
        [(tenant.id, LIST_GATEWAY) + row for row in SEARCHABLE])
    return tenant


def found(body, tenant):
    return sorted(tenant.ids.index(p["id"]) for p in body["data"])


@pytest.mark.parametrize("params,expected", [
    ({"search": "off"}, [0, 1, 4]),
    ({"search": "OFF"}, [0, 1, 4]),
    ({"search": "50%"}, [0]),
    ({"search": "%"}, [0]),
    ({"search": "a_b"}, [2]),
    ({"search": "_"}, [1, 2, 3]),
    ({"search": "k-3"}, [2]),
    ({"search": "\\"}, []),
    ({"search": "tr_"}, [1, 3]),
    ({"search": "off", "searchBy": "narration"}, [0, 1]),
    ({"search": "off", "searchBy": ["idempotency_key",
                                    "gateway_payout_id"]}, [1, 4]),
    ({"search": "off", "searchBy": "narration,gateway_payout_id"}, [0, 1]),
    ({"search": "off", "filter.idempotency_key": "$sw:k"}, [0, 1]),
])
def test_search(nginx, searchable, http, params, expected):
    body = get_list(http, nginx, searchable, **params)
    assert found(body, searchable) == expected, body["data"]
    assert body["meta"]["search"] == params["search"]
    by = params.get("searchBy", ["narration", "idempotency_key",
                                 "gateway_payout_id"])
    by = by if isinstance(by, list) else by.split(",")
    assert body["meta"]["searchBy"] == by
    qs = parse_qs(urlsplit(body["links"]["current"]).query)
    assert qs["search"] == [params["search"]]
    if "searchBy" in params:
        assert qs["searchBy"] == by
    else:
        assert "searchBy" not in qs


@pytest.mark.parametrize("query,code,field", [
    ("search=", "invalid_parameter", "search"),
    ("search=a%00", "invalid_parameter", "search"),
    ("search=%C3", "invalid_parameter", "search"),
    ("search=a&searchBy=status", "invalid_parameter", "searchBy"),
    ("search=a&searchBy=", "invalid_parameter", "searchBy"),
    ("search=a&searchBy=narration,", "invalid_parameter", "searchBy"),
    ("search=a&searchBy=webhook_secret_enc", "invalid_parameter",
     "searchBy"),
    ("searchBy=narration", "missing_parameter", "search"),
])
def test_bad_search(nginx, seven, http, query, code, field):
    err = assert_error(get_raw(http, nginx, seven, query), 400, code=code,
                       field=field)
    if field == "searchBy":
        assert err["message"] == (
            "searchBy takes comma-separated columns of narration, "
            "idempotency_key and gateway_payout_id.")


# -- filters: $or, $in trimmed --------------------------------------------

@pytest.mark.parametrize("query,expected", [
    # AMOUNTS = [500, 100, 700, 300, 600, 200, 400]
    ("filter.amount=$or:$eq:100&filter.amount=$or:$eq:700", [1, 2]),
    ("filter.amount=$eq:100&filter.amount=$or:$eq:700", [1, 2]),
    ("filter.amount=$lt:300&filter.amount=$or:$gt:600", [1, 2, 5]),
    ("filter.amount=$gte:200&filter.amount=$lte:400", [3, 5, 6]),
    ("filter.amount=$and:$gte:200&filter.amount=$and:$lte:400", [3, 5, 6]),
    # a chain across columns: amount = 100 OR status = x
    ("filter.amount=$or:100&filter.status=$or:$eq:nothing", [1]),
    ("filter.amount=$or:100&filter.uuid=$or:$not:$null", list(range(7))),
    # AND binds tighter: 100 OR (>= 600 AND <> 700)
    ("filter.amount=$or:100&filter.amount=$or:$gte:600"
     "&filter.amount=$not:700", [1, 4]),
    ("filter.amount=$not:$in:100,700&filter.amount=$or:700", [0, 2, 3, 4,
                                                              5, 6]),
    # trimmed like nestjs-paginate's
    ("filter.amount=$in:100,%20700", [1, 2]),
    ("filter.amount=$in:%20100%20,%09700%20", [1, 2]),
    ("filter.status=$in:pending,%20success", list(range(7))),
    ("filter.amount=$not:$in:%20100,700", [0, 3, 4, 5, 6]),
])
def test_or_and_in_filters(nginx, seven, http, query, expected):
    r = get_raw(http, nginx, seven, query + "&sortBy=id:ASC")
    assert r.status_code == 200, r.text
    body = r.json()
    got = [seven.payout_ids.index(p["id"]) for p in body["data"]]
    assert got == expected
    assert body["meta"]["totalItems"] == len(expected)


@pytest.mark.parametrize("value", [
    "$not:$or:$eq:1", "$or:$or:1", "$or", "$any:1", "$none:1",
    "$in:1,%20,2", "$in:1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,"
    "%2021",
])
def test_bad_or_filters(nginx, seven, http, value):
    assert_error(get_raw(http, nginx, seven, "filter.amount=" + value), 400,
                 code="invalid_parameter", field="filter.amount")


# -- links ----------------------------------------------------------------

def test_long_links_are_not_cut(nginx, seven, http):
    """Links were built in 4 KB and cut short past it."""
    key = "k" * 4500
    q = "limit=2&filter.status=$not:$eq:" + key
    r = get_raw(http, nginx, seven, q)
    assert r.status_code == 200, r.text
    links = r.json()["links"]
    assert set(links) == {"current", "next", "last"}
    for link in links.values():
        assert parse_qs(urlsplit(link).query)["filter.status"] == [
            "$not:$eq:" + key]
    nxt = http.get(urljoin(nginx.url("/"), links["next"]),
                   headers=seven.headers)
    assert nxt.status_code == 200, nxt.text
    assert nxt.json()["meta"]["currentPage"] == 2


def test_links_are_escaped(nginx, seven, http):
    value = "$in:a&b=c,d+e,f%g,\u00e9"
    r = get_raw(http, nginx, seven, "filter.status=" + quote(value, safe="")
                + "&search=" + quote("x&y z", safe=""))
    assert r.status_code == 200, r.text
    link = r.json()["links"]["current"]
    assert link.isascii() and " " not in link
    qs = parse_qs(urlsplit(link).query)
    assert qs["filter.status"] == [value]
    assert qs["search"] == ["x&y z"]


def test_query_too_long_to_link_is_414(nginx, seven, http):
    """The request fits nginx's 8 KB request line, its links would not."""
    line = len("GET /v1/payouts?search= HTTP/1.1\r\n")
    r = get_raw(http, nginx, seven, "search=" + "s" * (8192 - line - 8))
    err = assert_error(r, 414, code="uri_too_long")
    assert "field" not in err
    r = get_raw(http, nginx, seven, "limit=1&search=" + "s" * 6000)
    assert r.status_code == 200, r.text


# -- recipients -----------------------------------------------------------

@pytest.fixture
def recipients(pg, tenant):
    tenant.rids = insert_rows(
        pg, "INSERT INTO recipients (tenant_id, gateway, recipient_type, "
        "name, email, bank_name, account_number_last4, fingerprint) "
        "VALUES (%s, 'sandbox', 'bank_account', %s, %s, %s, '6789', "
        "decode(md5(random()::text), 'hex')) RETURNING uuid",
        [(tenant.id, "Ama Mensah", "ama@example.com", "GTB"),
         (tenant.id, "Kofi", "kofi@example.org", "Access"),
         (tenant.id, "Ngozi", None, "Zenith")])
    return tenant


def test_recipients_list_grammar(nginx, recipients, http):
    path = "/v1/payout-recipients"
    r = get_raw(http, nginx, recipients, "search=EXAMPLE&select=name,email"
                "&sortBy=created_at:ASC&sortBy=id:ASC", path=path)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["data"] == [{"name": "Ama Mensah", "email": "ama@example.com"},
                            {"name": "Kofi", "email": "kofi@example.org"}]
    assert body["meta"]["searchBy"] == ["name", "email", "bank_name",
                                        "bank_account_name",
                                        "idempotency_key"]
    assert body["meta"]["select"] == ["name", "email"]

    body = get_raw(http, nginx, recipients, "search=zen&searchBy=bank_name"
                   "&select=bank_account_number", path=path).json()
    assert body["data"] == [{"bank_account_number": "******6789"}]

    for query, code, field in [
            ("Limit=1", "unknown_parameter", "Limit"),
            ("limit=1&limit=1", "conflicting_parameters", "limit"),
            ("search=6789&searchBy=bank_account_number", "invalid_parameter",
             "searchBy"),
            ("search=x&searchBy=account_number_enc", "invalid_parameter",
             "searchBy"),
            ("select=id", "invalid_parameter", "select"),
            ("select=fingerprint", "invalid_parameter", "select"),
            ("sortBy=amount:ASC", "invalid_parameter", "sortBy")]:
        assert_error(get_raw(http, nginx, recipients, query, path=path), 400,
                     code=code, field=field)
