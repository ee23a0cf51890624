"""Payout links, the API half (issue 10): POST /v1/payout-links (the
token shown once, in url, stored only as its SHA-256), GET one, GET the
list (the payouts' grammar), POST .../cancel, every bad input with its
precise 4xx, idempotency, test/live separation, the expiry job with
payout_link.expired, and payout_link.claimed after a claim made through
SQL payout_link_claim() (the page makes it through its form)."""

import hashlib
import json
import os
import re
import time
import uuid

import pytest

from conftest import payoutctl
from payout_helpers import (assert_error, post_json, sandbox_nginx,
                            wait_for)
from receiver import SECRET, quiet_outbox, receivers, signatures, verify

assert quiet_outbox and receivers  # fixtures, used by name

PUBLIC = "https://pay.example.com"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
LINK_KEYS = {"id", "link_uuid", "tenant_id", "status", "amount", "currency",
             "gateway", "expires_at", "narration", "name", "email", "phone",
             "methods", "metadata", "webhook_urls", "idempotency_key",
             "livemode", "payout_uuid", "payout_status", "created_at",
             "updated_at", "claimed_at", "canceled_at", "expired_at"}
CLAIM = ("SELECT outcome, payout_uuid::text FROM payout_link_claim("
         "p_token_hash => %s, p_type => 'bank_account', "
         "p_fingerprint => %s, p_name => 'ADA', p_email => NULL, "
         "p_phone => NULL, p_bank_code => '058', p_bank_name => NULL, "
         "p_bank_account_name => 'ADA L', p_account_enc => '\\x00'::bytea, "
         "p_account_last4 => '6789', p_mm_provider => NULL, "
         "p_mm_enc => NULL, p_mm_last4 => NULL, p_country => NULL)")


@pytest.fixture
def ngx(nginx_factory):
    return sandbox_nginx(nginx_factory,
                         http="payout_public_url %s;" % PUBLIC)


def link_body(**kw):
    body = {"amount": 250000, "currency": "NGN", "gateway": "sandbox"}
    body.update(kw)
    return body


def create_link(http, ngx, tenant, body=None, status=201):
    r = post_json(http, ngx, tenant, "/v1/payout-links",
                  link_body() if body is None else body)
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/json"
    return r.json()


def token_of(link):
    assert link["url"].startswith(PUBLIC + "/pay/"), link["url"]
    token = link["url"][len(PUBLIC + "/pay/"):]
    assert TOKEN.match(token), token
    return token


def token_hash(token):
    return hashlib.sha256(token.encode()).digest()


def get_link(http, ngx, tenant, u, status=200):
    r = http.get(ngx.url("/v1/payout-links/" + u), headers=tenant.headers)
    assert r.status_code == status, r.text
    return r.json()


def cancel(http, ngx, tenant, u):
    return post_json(http, ngx, tenant, "/v1/payout-links/%s/cancel" % u,
                     "")


def list_links(http, ngx, tenant, query=""):
    r = http.get(ngx.url("/v1/payout-links?" + query),
                 headers=tenant.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"data", "meta", "links"}, body
    return body


def test_create_get_shape(ngx, pg, tenant, http):
    link = create_link(http, ngx, tenant, link_body(
        name="Ada Lovelace", email="ada@example.com", phone="+2348012345678",
        narration="May invoice", metadata={"order": "A1"},
        expires_in=3600))
    assert set(link) == LINK_KEYS | {"url"}, sorted(link)
    token = token_of(link)
    assert link["status"] == "open"
    assert (link["amount"], link["currency"], link["gateway"]) == \
        (250000, "NGN", "sandbox")
    assert (link["name"], link["email"], link["phone"]) == \
        ("Ada Lovelace", "ada@example.com", "+2348012345678")
    assert link["narration"] == "May invoice"
    assert link["metadata"] == {"order": "A1"}
    # the sandbox pays both: the default is what the gateway pays
    assert link["methods"] == ["bank_account", "mobile_money"]
    assert link["livemode"] is False
    assert link["payout_uuid"] is None
    uuid.UUID(link["link_uuid"])

    # stored only as its hash; the token appears nowhere in the row
    row = pg.sql("SELECT token_hash, extract(epoch FROM expires_at - "
                 "created_at)::int, row_to_json(l)::text FROM payout_links l "
                 "WHERE uuid = %s", (link["link_uuid"],))[0]
    assert bytes(row[0]) == token_hash(token)
    assert abs(row[1] - 3600) <= 2
    assert token not in row[2]

    # GET never shows the token
    got = get_link(http, ngx, tenant, link["link_uuid"])
    assert set(got) == LINK_KEYS
    assert token not in json.dumps(got)
    assert {k: got[k] for k in LINK_KEYS - {"updated_at"}} == \
        {k: link[k] for k in LINK_KEYS - {"updated_at"}}

    # nor does nginx's log
    with open(ngx.error_log) as f:
        assert token not in f.read()
    with open(os.path.join(ngx.dir, "access.log")) as f:
        assert token not in f.read()


def test_defaults_and_expires_at(ngx, tenant, http):
    link = create_link(http, ngx, tenant)
    got = get_link(http, ngx, tenant, link["link_uuid"])
    assert got["narration"] is None and got["name"] is None
    r = post_json(http, ngx, tenant, "/v1/payout-links",
                  link_body(expires_at=time.strftime(
                      "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7200)),
                      methods=["bank_account"]))
    assert r.status_code == 201, r.text
    assert r.json()["methods"] == ["bank_account"]


def test_two_links_two_tokens(ngx, tenant, http):
    a = create_link(http, ngx, tenant)
    b = create_link(http, ngx, tenant)
    assert token_of(a) != token_of(b)
    assert a["link_uuid"] != b["link_uuid"]


@pytest.mark.parametrize("change, status, code, field", [
    ({"amount": None}, 400, "missing_parameter", "amount"),
    ({"amount": 0}, 400, "invalid_parameter", "amount"),
    ({"amount": 12.5}, 400, "invalid_parameter", "amount"),
    ({"currency": "ZZZ"}, 400, "invalid_parameter", "currency"),
    ({"gateway": "nope"}, 400, "unknown_gateway", "gateway"),
    ({"expires_in": 59}, 400, "invalid_parameter", "expires_in"),
    ({"expires_in": 90 * 86400 + 1}, 400, "invalid_parameter",
     "expires_in"),
    ({"expires_in": "3600"}, 400, "invalid_parameter", "expires_in"),
    ({"expires_at": "next week"}, 400, "invalid_parameter", "expires_at"),
    ({"expires_at": "2020-01-01T00:00:00Z"}, 400, "invalid_parameter",
     "expires_at"),
    ({"expires_at": "2999-01-01T00:00:00Z"}, 400, "invalid_parameter",
     "expires_at"),
    ({"expires_in": 3600, "expires_at": "2999-01-01T00:00:00Z"}, 400,
     "conflicting_parameters", "expires_at"),
    ({"methods": []}, 400, "invalid_parameter", "methods"),
    ({"methods": ["card"]}, 400, "invalid_parameter", "methods"),
    ({"methods": ["bank_account", "bank_account"]}, 400,
     "invalid_parameter", "methods"),
    ({"name": "x" * 129}, 400, "invalid_parameter", "name"),
    ({"email": "not-an-email"}, 400, "invalid_parameter", "email"),
    ({"phone": "12"}, 400, "invalid_parameter", "phone"),
    ({"narration": "n" * 256}, 400, "invalid_parameter", "narration"),
    ({"metadata": "x"}, 400, "invalid_parameter", "metadata"),
    ({"webhook_urls": ["ftp://x.example"]}, 400, "invalid_parameter",
     "webhook_urls"),
    ({"webhook_urls": ["http://h.example/%d" % i for i in range(6)]}, 400,
     "invalid_parameter", "webhook_urls"),
    ({"webhook_secret": "s" * 257}, 400, "invalid_parameter",
     "webhook_secret"),
    ({"idempotency_key": "k" * 300}, 400, "invalid_parameter",
     "idempotency_key"),
    ({"bank_account_number": "0123456789"}, 400, "unknown_parameter",
     "bank_account_number"),
    ({"stage": True}, 400, "unknown_parameter", "stage"),
])
def test_bad_input(ngx, pg, tenant, http, change, status, code, field):
    body = link_body()
    for k, v in change.items():
        if v is None:
            body.pop(k)
        else:
            body[k] = v
    before = pg.sql("SELECT count(*) FROM payout_links WHERE tenant_id = %s",
                    (tenant.id,))[0][0]
    r = post_json(http, ngx, tenant, "/v1/payout-links", body)
    assert_error(r, status, code, field)
    assert pg.sql("SELECT count(*) FROM payout_links WHERE tenant_id = %s",
                  (tenant.id,))[0][0] == before


def test_bad_body_and_uuid(ngx, tenant, http):
    assert_error(post_json(http, ngx, tenant, "/v1/payout-links", "[1"),
                 400)
    assert_error(http.get(ngx.url("/v1/payout-links/not-a-uuid"),
                          headers=tenant.headers), 400,
                 "invalid_parameter", "uuid")
    assert_error(http.get(ngx.url("/v1/payout-links/" + str(uuid.uuid4())),
                          headers=tenant.headers), 404, "not_found")
    assert_error(cancel(http, ngx, tenant, str(uuid.uuid4())), 404,
                 "not_found")
    assert_error(http.get(ngx.url("/v1/payout-links")), 401)
    assert_error(http.delete(ngx.url("/v1/payout-links"),
                             headers=tenant.headers), 405)


def test_methods_are_what_the_gateway_pays(nginx_factory, tenant, http,
                                            tmp_path):
    """Stripe pays bank accounts only: that is its links' default, and
    mobile_money is refused.  A link never calls the provider, so the
    gateway's URL may lead nowhere."""
    secret = tmp_path / "stripe.key"
    secret.write_text("sk_test_4eC39HqLyjWDarjtT1zdp7dc\n")
    secret.chmod(0o644)
    os.chmod(tmp_path, 0o755)
    ngx = sandbox_nginx(nginx_factory, http="""
    payout_public_url %s;
    payout_gateway stripe connector=stripe mode=test url=http://127.0.0.1:9
                   secret_file=%s;
""" % (PUBLIC, secret))
    link = create_link(http, ngx, tenant, link_body(gateway="stripe",
                                                    currency="EUR"))
    assert link["methods"] == ["bank_account"]
    assert_error(post_json(http, ngx, tenant, "/v1/payout-links",
                           link_body(gateway="stripe", currency="EUR",
                                     methods=["mobile_money"])),
                 400, "unsupported_method", "methods")


def test_live_links_are_apart(nginx_factory, tenant_factory, pg, http,
                              tmp_path):
    """A live key makes live links at a live gateway; the test key of the
    same tenant neither sees nor cancels them, nor lists them, and the
    idempotency keys of the two modes are apart."""
    secret = tmp_path / "stripe.key"
    secret.write_text("sk_live_4eC39HqLyjWDarjtT1zdp7dc\n")
    secret.chmod(0o644)
    os.chmod(tmp_path, 0o755)
    ngx = sandbox_nginx(nginx_factory, http="""
    payout_public_url %s;
    payout_gateway live connector=stripe mode=live url=http://127.0.0.1:9
                   secret_file=%s;
""" % (PUBLIC, secret))
    test = tenant_factory()
    live_key = payoutctl(pg, "key", "create", "--tenant", test.name,
                         "--mode", "live").stdout.strip()

    class Live:
        headers = {"Authorization": "Bearer " + live_key}

    key = "both-" + uuid.uuid4().hex
    live = create_link(http, ngx, Live, link_body(
        gateway="live", currency="EUR", idempotency_key=key))
    assert live["livemode"] is True
    mine = create_link(http, ngx, test, link_body(idempotency_key=key))
    assert mine["livemode"] is False
    assert mine["link_uuid"] != live["link_uuid"]
    get_link(http, ngx, test, live["link_uuid"], status=404)
    assert_error(cancel(http, ngx, test, live["link_uuid"]), 404,
                 "not_found")
    assert [x["link_uuid"] for x in list_links(http, ngx, test)["data"]] \
        == [mine["link_uuid"]]
    assert [x["link_uuid"] for x in list_links(http, ngx, Live)["data"]] \
        == [live["link_uuid"]]
    # a test gateway is not the live key's, nor the other way round
    assert_error(post_json(http, ngx, test, "/v1/payout-links",
                           link_body(gateway="live", currency="EUR")),
                 400, "gateway_mode_mismatch", "gateway")
    assert cancel(http, ngx, Live, live["link_uuid"]).status_code == 200


def test_public_url_unset(nginx_factory, tenant, http):
    ngx = sandbox_nginx(nginx_factory)
    r = post_json(http, ngx, tenant, "/v1/payout-links", link_body())
    assert_error(r, 503, "public_url_not_configured")
    # a configuration fault: retrying will not help
    assert "Retry-After" not in r.headers


def test_idempotency(ngx, pg, tenant, http):
    key = "link-" + uuid.uuid4().hex
    first = create_link(http, ngx, tenant, link_body(idempotency_key=key))
    token_of(first)
    # the same key and body: the same link, 200, and no token again
    again = create_link(http, ngx, tenant, link_body(idempotency_key=key),
                        status=200)
    assert "url" not in again
    assert again["link_uuid"] == first["link_uuid"]
    # key order and spacing do not matter
    r = post_json(http, ngx, tenant, "/v1/payout-links",
                  '{"gateway":"sandbox", "idempotency_key": "%s",'
                  '"currency":"NGN","amount":250000}' % key)
    assert r.status_code == 200 and r.json()["link_uuid"] == \
        first["link_uuid"]
    # another body: 409
    assert_error(post_json(http, ngx, tenant, "/v1/payout-links",
                           link_body(idempotency_key=key, amount=1)),
                 409, "idempotency_conflict", "idempotency_key")
    assert pg.sql("SELECT count(*) FROM payout_links WHERE "
                  "idempotency_key = %s", (key,)) == [(1,)]


def test_cancel(ngx, pg, tenant, http):
    link = create_link(http, ngx, tenant)
    u = link["link_uuid"]
    r = cancel(http, ngx, tenant, u)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "canceled" and body["canceled_at"]
    assert "url" not in body
    assert get_link(http, ngx, tenant, u)["status"] == "canceled"
    # twice
    assert_error(cancel(http, ngx, tenant, u), 409, "link_canceled")
    # nothing can claim it now
    assert pg.sql(CLAIM, (token_hash(token_of(link)), os.urandom(32))) == \
        [("canceled", None)]


def test_cancel_claimed_and_expired(ngx, pg, tenant, http):
    link = create_link(http, ngx, tenant)
    outcome, puuid = pg.sql(CLAIM, (token_hash(token_of(link)),
                                    os.urandom(32)))[0]
    assert outcome == "created"
    assert_error(cancel(http, ngx, tenant, link["link_uuid"]), 409,
                 "link_claimed")
    got = get_link(http, ngx, tenant, link["link_uuid"])
    assert got["status"] == "claimed" and got["payout_uuid"] == puuid
    assert got["claimed_at"]

    old = create_link(http, ngx, tenant)
    pg.sql("UPDATE payout_links SET expires_at = now() - interval '1 s' "
           "WHERE uuid = %s", (old["link_uuid"],))
    # read lazily as expired before any job marked it
    assert get_link(http, ngx, tenant, old["link_uuid"])["status"] == \
        "expired"
    assert_error(cancel(http, ngx, tenant, old["link_uuid"]), 409,
                 "link_expired")


def test_list(ngx, pg, tenant_factory, http):
    t = tenant_factory()
    made = [create_link(http, ngx, t, link_body(
        amount=a, narration="batch %d" % i, email="r%d@example.com" % i))
        for i, a in enumerate([500, 100, 300])]
    cancel(http, ngx, t, made[1]["link_uuid"])

    # newest first by default, as payouts
    body = list_links(http, ngx, t)
    assert [x["link_uuid"] for x in body["data"]] == \
        [m["link_uuid"] for m in reversed(made)]
    assert body["meta"]["totalItems"] == 3
    for item in body["data"]:
        assert set(item) == LINK_KEYS
        assert "url" not in item

    body = list_links(http, ngx, t, "sortBy=amount:ASC")
    assert [x["amount"] for x in body["data"]] == [100, 300, 500]
    body = list_links(http, ngx, t, "filter.status=$eq:canceled")
    assert [x["link_uuid"] for x in body["data"]] == [made[1]["link_uuid"]]
    body = list_links(http, ngx, t, "filter.status=$eq:open&sortBy=id:ASC")
    assert [x["amount"] for x in body["data"]] == [500, 300]
    body = list_links(http, ngx, t, "filter.amount=$gte:300&sortBy=id:DESC")
    assert [x["amount"] for x in body["data"]] == [300, 500]
    body = list_links(http, ngx, t, "search=batch%202")
    assert [x["amount"] for x in body["data"]] == [300]
    body = list_links(http, ngx, t, "limit=2&page=2&sortBy=id:ASC")
    assert [x["amount"] for x in body["data"]] == [300]
    assert body["meta"]["currentPage"] == 2
    body = list_links(http, ngx, t, "select=link_uuid,status&sortBy=id:ASC")
    assert body["data"][1] == {"link_uuid": made[1]["link_uuid"],
                               "status": "canceled"}

    # an expired link lists as expired, and filters as one
    pg.sql("UPDATE payout_links SET expires_at = now() - interval '1 s' "
           "WHERE uuid = %s", (made[2]["link_uuid"],))
    body = list_links(http, ngx, t, "filter.status=$eq:expired")
    assert [x["link_uuid"] for x in body["data"]] == [made[2]["link_uuid"]]

    for q, field in [("sortBy=name:ASC", "sortBy"),
                     ("filter.token_hash=$eq:x", "filter.token_hash"),
                     ("select=token_hash", "select")]:
        r = http.get(ngx.url("/v1/payout-links?" + q), headers=t.headers)
        assert_error(r, 400, field=field)


def test_mode_separation(ngx, tenant_factory, pg, http):
    test = tenant_factory()
    live_key = payoutctl(pg, "key", "create", "--tenant", test.name,
                         "--mode", "live").stdout.strip()
    live = {"Authorization": "Bearer " + live_key}
    link = create_link(http, ngx, test)
    # the sandbox is a test gateway: a live key cannot use it
    r = http.post(ngx.url("/v1/payout-links"), headers=dict(
        live, **{"Content-Type": "application/json"}),
        data=json.dumps(link_body()))
    assert_error(r, 400, "gateway_mode_mismatch", "gateway")
    # nor see nor cancel a test link
    r = http.get(ngx.url("/v1/payout-links/" + link["link_uuid"]),
                 headers=live)
    assert_error(r, 404, "not_found")
    r = http.post(ngx.url("/v1/payout-links/%s/cancel" % link["link_uuid"]),
                  headers=live)
    assert_error(r, 404, "not_found")
    r = http.get(ngx.url("/v1/payout-links"), headers=live)
    assert r.status_code == 200 and r.json()["data"] == []
    # nor another tenant
    other = tenant_factory()
    get_link(http, ngx, other, link["link_uuid"], status=404)
    assert get_link(http, ngx, test, link["link_uuid"])["status"] == "open"


def link_events(rc, link_uuid, n):
    def got():
        reqs = [q for q in rc.got()
                if q.json.get("link_uuid") == link_uuid]
        return reqs if len(reqs) >= n else None
    return rc.wait(lambda _r: got(), 15, "%d events of link %s"
                   % (n, link_uuid))


def check_link_webhook(req, link, event, secret=SECRET):
    body = req.json
    assert body["webhook_type"] == "payout_link"
    assert body["event_type"] == event
    assert body["event_id"] == req.headers["webhook-id"]
    assert body["link_uuid"] == link["link_uuid"]
    assert body["amount"] == link["amount"]
    assert body["livemode"] is False
    assert len(signatures(req)) == 1
    assert verify(req, secret), req.headers
    assert req.headers.get("orchestrapay-webhook-secret") == secret
    return body


def test_expiry_job_and_event(ngx, pg, tenant, http, receivers):
    rc = receivers()
    link = create_link(http, ngx, tenant, link_body(
        webhook_urls=[rc.url("links")], webhook_secret=SECRET,
        metadata={"k": "v"}))
    pg.sql("UPDATE payout_links SET expires_at = now() - interval '1 s' "
           "WHERE uuid = %s", (link["link_uuid"],))
    # the job marks it (on the reconciler's 300 ms cadence here)
    wait_for(lambda: pg.sql("SELECT status = 'expired' FROM payout_links "
                            "WHERE uuid = %s", (link["link_uuid"],))[0][0],
             timeout=10, what="the expiry job")
    (req,) = link_events(rc, link["link_uuid"], 1)
    body = check_link_webhook(req, link, "payout_link.expired")
    assert body["status"] == "expired" and body["metadata"] == {"k": "v"}
    assert body["payout_uuid"] is None
    time.sleep(1)
    assert len([q for q in rc.got()
                if q.json.get("link_uuid") == link["link_uuid"]]) == 1


def test_claimed_event_and_inherited_webhooks(ngx, pg, tenant, http,
                                              receivers):
    rc = receivers()
    link = create_link(http, ngx, tenant, link_body(
        webhook_urls=[rc.url("links")], webhook_secret=SECRET))
    outcome, puuid = pg.sql(CLAIM, (token_hash(token_of(link)),
                                    os.urandom(32)))[0]
    assert outcome == "created"
    (req,) = link_events(rc, link["link_uuid"], 1)
    body = check_link_webhook(req, link, "payout_link.claimed")
    assert body["status"] == "claimed" and body["payout_uuid"] == puuid
    # the payout's own events go to the link's URL, signed with its secret
    reqs = rc.wait_events(puuid, 1)
    assert reqs[0].json["event_type"] == "payout.pending_created"
    assert verify(reqs[0], SECRET)
    got = get_link(http, ngx, tenant, link["link_uuid"])
    assert got["status"] == "claimed" and got["payout_uuid"] == puuid
    assert got["payout_status"] == "pending"
    # the claimed payout is a payout like any other
    r = http.get(ngx.url("/v1/payouts/" + puuid), headers=tenant.headers)
    assert r.status_code == 200
    assert r.json()["idempotency_key"] == "link:" + link["link_uuid"]
    assert r.json()["webhook_urls"] == [rc.url("links")]


def test_tenant_display_name(pg, tenant):
    out = payoutctl(pg, "tenant", "update", tenant.name, "--display-name",
                    "Acme Ltd")
    assert out.stdout.strip() == \
        'tenant %s: display name "Acme Ltd"' % tenant.name
    assert pg.sql("SELECT display_name FROM tenants WHERE id = %s",
                  (tenant.id,)) == [("Acme Ltd",)]
    assert "Acme Ltd" in payoutctl(pg, "tenant", "list").stdout
    payoutctl(pg, "tenant", "update", tenant.name, "--display-name=Acme 2")
    assert pg.sql("SELECT display_name FROM tenants WHERE id = %s",
                  (tenant.id,)) == [("Acme 2",)]
    # 100 characters, not bytes
    payoutctl(pg, "tenant", "update", tenant.name, "--display-name",
              "é" * 100)
    assert pg.sql("SELECT display_name FROM tenants WHERE id = %s",
                  (tenant.id,)) == [("é" * 100,)]

    for bad, why in [("x" * 101, "at most 100 characters"),
                     ("a\tb", "control character"),
                     (" Acme", "starts or ends with a space")]:
        out = payoutctl(pg, "tenant", "update", tenant.name,
                        "--display-name", bad, check=False)
        assert out.returncode == 2, out
        assert why in out.stderr, out.stderr
    assert pg.sql("SELECT display_name FROM tenants WHERE id = %s",
                  (tenant.id,)) == [("é" * 100,)]

    out = payoutctl(pg, "tenant", "update", "no-such-tenant-x",
                    "--display-name", "X", check=False)
    assert out.returncode == 1 and "no tenant" in out.stderr
    out = payoutctl(pg, "tenant", "update", tenant.name, check=False)
    assert out.returncode == 2
    out = payoutctl(pg, "tenant", "update", tenant.name, "--display-name",
                    check=False)
    assert out.returncode == 2 and "needs a value" in out.stderr
    out = payoutctl(pg, "tenant", "update", tenant.name, "--display-name",
                    "A", "--display-name", "B", check=False)
    assert out.returncode == 2
    # "" clears it
    out = payoutctl(pg, "tenant", "update", tenant.name, "--display-name",
                    "")
    assert "cleared" in out.stdout
    assert pg.sql("SELECT display_name FROM tenants WHERE id = %s",
                  (tenant.id,)) == [(None,)]


def test_token_never_logged_at_debug(nginx_factory, pg, tenant, http):
    """With the whole error log at debug level, neither the token nor its
    hash (what the database is asked with) appears in it."""
    from test_secrets import debug_log, read_log
    ngx = sandbox_nginx(nginx_factory, edit=debug_log,
                        http="payout_public_url %s;" % PUBLIC)
    link = create_link(http, ngx, tenant, link_body(
        webhook_secret="link-secret-value"))
    token = token_of(link)
    cancel(http, ngx, tenant, link["link_uuid"])
    log = read_log(ngx)
    assert "payout" in log and "[debug]" in log
    assert token not in log
    assert token_hash(token).hex() not in log
    assert "link-secret-value" not in log
