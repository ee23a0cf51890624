"""Limits (issue 13 items 2, 4, 5): every text the API stores has a
documented maximum (docs/api.md, "Limits"); a value at its maximum goes
through a whole payout life, one past it is a 400 naming the field and
writes nothing; nothing stored can make a later write fail.  Webhook
secrets must sign, and a delivery that cannot be signed is recorded and
dies on schedule.  Webhook URLs go through libcurl's URL parser, without
userinfo or private literals."""

import base64
import hashlib
import hmac
import json
import os
import secrets
import uuid as uuidlib

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from conftest import MASTER_KEY, Tenant, payoutctl
from payout_helpers import (assert_error, bank, counts, create, mobile,
                            post_json, sandbox_nginx, sbx, wait_status)
from receiver import (check_webhook, chain, deliveries, quiet_outbox, rc,
                      receivers, settled, wait_deliveries)

assert quiet_outbox and rc and receivers and sbx  # fixtures, by name

URL_MAX = 2048
WHSEC_MAX = "whsec_" + base64.b64encode(bytes(range(64))).decode()


# -- a body with every field at its maximum --

def long_tenant(pg):
    """A tenant whose name is the longest allowed, 63 characters."""
    name = ("t" + uuidlib.uuid4().hex).ljust(63, "x")
    payoutctl(pg, "tenant", "create", name)
    key = payoutctl(pg, "key", "create", "--tenant", name, "--mode",
                    "test").stdout.strip()
    return Tenant(pg, name, key)


def max_url(rc, tag):
    """One of rc's URLs, exactly URL_MAX bytes long."""
    base = rc.url(tag)
    return base + "p" * (URL_MAX - len(base))


def max_metadata():
    """50 keys of 40 bytes, values up to 500 bytes, 8192 bytes compact."""
    keys = [("k%02d" % i).ljust(40, "k") for i in range(50)]
    meta = {k: "" for k in keys}
    room = 8192 - len(json.dumps(meta, separators=(",", ":")))
    for k in keys:
        n = min(500, room)
        meta[k] = "v" * n
        room -= n
    assert len(json.dumps(meta, separators=(",", ":"))) == 8192
    assert max(len(v) for v in meta.values()) == 500
    return meta


def spaced(digits, size):
    """digits with spaces inserted until it is size bytes long."""
    out = list(digits)
    i = 1
    while len(out) < size:
        out.insert(i, " ")
        i = (i + 2) % len(out) or 1
    return "".join(out)


def max_text(size):
    """size bytes of UTF-8, multi-byte characters included."""
    s = "\u00e9\u20ac" * (size // 5)          # 5 bytes a pair
    return s + "x" * (size - len(s.encode()))


def max_bank_fields(ending="0001"):
    account = "".join(secrets.choice("0123456789") for _ in range(30))
    return {
        "bank_account_number": spaced(account + ending, 64),
        "bank_account_name": max_text(128),
        "bank_code": "0" * 32,
        "bank_name": max_text(128),
        "recipient_type": "bank_account",
        "name": max_text(128),
        "email": ("a" * 64 + "@" + "b" * 184 + ".test"),
        "phone": spaced("234803123456", 32),
    }


def max_payout(tenant, urls):
    body = {"amount": 10 ** 15, "currency": "NGN", "gateway": "sandbox",
            "tenant": tenant.name, "narration": max_text(255),
            "idempotency_key": "k" * 247 + secrets.token_hex(4),
            "metadata": max_metadata(), "webhook_urls": urls,
            "webhook_secret": WHSEC_MAX, "stage": False}
    body.update(max_bank_fields())
    assert len(body["email"]) == 254
    return body


def test_every_field_at_its_maximum_lives_a_whole_payout(
        nginx_factory, pg, http, receivers):
    ngx = sandbox_nginx(nginx_factory)
    tenant = long_tenant(pg)
    rc, erc = receivers(), receivers()
    urls = [max_url(rc, str(i)) for i in range(5)]

    # the tenant's endpoint at a maximal URL too
    r = post_json(http, ngx, tenant, "/v1/webhook-endpoints",
                  {"url": max_url(erc, "ep")})
    assert r.status_code == 201, r.text
    ep_secret = r.json()["secret"]

    body = max_payout(tenant, urls)
    out = create(http, ngx, tenant, body)
    u = out["payout_uuid"]
    p = wait_status(http, ngx, tenant, u, "success")
    assert p["narration"] == body["narration"]
    assert p["metadata"] == body["metadata"]
    assert p["idempotency_key"] == body["idempotency_key"]
    assert p["amount"] == 10 ** 15

    want = ["pending_created", "pending_promise", "success"]
    for url in urls:
        path = url[len("http://127.0.0.1:%d" % rc.port):]
        reqs = rc.wait_events(u, 3, path=path)
        assert chain(reqs) == want
        for req in reqs:
            got = check_webhook(req, u, secret=WHSEC_MAX)
            assert got["metadata"] == body["metadata"]
    reqs = erc.wait_events(u, 3)
    assert chain(reqs) == want
    for req in reqs:
        check_webhook(req, u, secret=ep_secret, plain=False)

    ds = wait_deliveries(http, ngx, tenant, u,
                         lambda ds: len(ds) == 18 and settled(ds))
    assert {d["state"] for d in ds} == {"delivered"}, ds
    assert {d["url"] for d in ds} == set(urls) | {max_url(erc, "ep")}

    # the same request again is the same payout
    again = create(http, ngx, tenant, body)
    assert again["payout_uuid"] == u and again["resource_created"] is False

    # a recipient with every field at its maximum, and a payout to it
    rbody = dict(max_bank_fields(), gateway="sandbox",
                 idempotency_key="r" * 255, metadata=max_metadata())
    r = post_json(http, ngx, tenant, "/v1/payout-recipients", rbody)
    assert r.status_code == 201, r.text
    rcpt = r.json()
    assert rcpt["bank_account_name"] == rbody["bank_account_name"]
    out = create(http, ngx, tenant, {
        "amount": 1000, "currency": "NGN", "gateway": "sandbox",
        "recipient_uuid": rcpt["uuid"]})
    wait_status(http, ngx, tenant, out["payout_uuid"], "success")

    # and mobile money
    mm = mobile(spaced("233241230001", 32),
                mobile_money_provider="M" * 32, webhook_urls=urls[:1],
                webhook_secret="s" * 256)
    out = create(http, ngx, tenant, mm)
    wait_status(http, ngx, tenant, out["payout_uuid"], "success")
    reqs = rc.wait_events(out["payout_uuid"], 3)
    for req in reqs:
        check_webhook(req, out["payout_uuid"], secret="s" * 256)


# -- one past the maximum: a 400 naming the field, and nothing written --

def over(field, value, base=None):
    return pytest.param(field, value, base, id=field)


OVER = [
    over("narration", "x" * 256),
    over("narration", max_text(255) + "x"),
    over("idempotency_key", "k" * 256),
    over("bank_account_name", "N" * 129),
    over("bank_name", "B" * 129),
    over("name", "N" * 129),
    over("email", "a" * 64 + "@" + "b" * 185 + ".test"),
    over("phone", spaced("234803123456", 33)),
    over("bank_account_number", spaced("0123456789", 65)),
    over("bank_account_number", "1" * 35),
    over("bank_code", "0" * 33),
    over("tenant", "t" * 64),
    over("gateway", "g" * 33),
    over("webhook_urls", ["https://example.com/%d" % i for i in range(6)]),
    over("webhook_urls", ["https://example.com/" + "p" * (URL_MAX - 19)]),
    over("webhook_secret", "s" * 257),
    over("webhook_secret", "whsec_" + base64.b64encode(b"k" * 65).decode()),
    over("webhook_secret", "whsec_" + base64.b64encode(b"k" * 23).decode()),
    over("webhook_secret", "whsec_abc"),
    over("metadata", {"k%d" % i: i for i in range(51)}),
    over("metadata", {"k" * 41: 1}),
    over("metadata", {"k": "v" * 501}),
    over("metadata", {"k%02d" % i: "v" * 500 for i in range(17)}),
    over("metadata", {"nested": {"a": 1}}),
    over("mobile_money_number", spaced("233241234567", 33), "mobile"),
    over("mobile_money_provider", "M" * 33, "mobile"),
]


@pytest.mark.parametrize("field,value,base", OVER)
def test_one_past_the_maximum_is_400_naming_the_field(sbx, pg, tenant, http,
                                                      field, value, base):
    before = counts(pg, tenant)
    body = (mobile() if base == "mobile" else bank())
    body[field] = value
    r = post_json(http, sbx, tenant, "/v1/payouts", body)
    err = assert_error(r, 400, "invalid_parameter", field)
    if field == "webhook_secret":
        assert value not in r.text
    # the same field of a recipient
    if field not in ("narration", "tenant", "webhook_urls",
                     "webhook_secret"):
        body.pop("amount")
        body.pop("currency")
        r = post_json(http, sbx, tenant, "/v1/payout-recipients", body)
        assert_error(r, 400, "invalid_parameter", field)
    assert counts(pg, tenant) == before, err


def test_endpoint_url_limits(sbx, pg, tenant, http):
    ok = "https://example.com/" + "p" * (URL_MAX - 20)
    r = post_json(http, sbx, tenant, "/v1/webhook-endpoints", {"url": ok})
    assert r.status_code == 201, r.text
    n = pg.sql("SELECT count(*) FROM webhook_endpoints WHERE tenant_id = %s",
               (tenant.id,))[0][0]
    for url in (ok + "p", "https://example.com/" + "p" * 2900,
                "http://a@b@c/", "http://user:pw@example.com/",
                "http://[::1", "http://[:::1]/", "ftp://example.com/"):
        r = post_json(http, sbx, tenant, "/v1/webhook-endpoints",
                      {"url": url})
        assert_error(r, 400, "invalid_parameter", "url")
    r = post_json(http, sbx, tenant, "/v1/webhook-endpoints",
                  {"url": ok, "secret": "whsec_abc"})
    assert_error(r, 400, "unknown_parameter", "secret")
    assert pg.sql("SELECT count(*) FROM webhook_endpoints "
                  "WHERE tenant_id = %s", (tenant.id,))[0][0] == n


# -- nothing stored may make a later write fail --

def test_a_stored_overlong_url_does_not_stop_the_tenant(nginx_factory, pg,
                                                        tenant, http):
    """A URL stored before the limits (the API no longer accepts it)
    used to make every later state change of the tenant fail: the
    ordering index could not hold it."""
    ngx = sandbox_nginx(nginx_factory)
    r = post_json(http, ngx, tenant, "/v1/webhook-endpoints",
                  {"url": "http://127.0.0.1:9/x"})
    assert r.status_code == 201, r.text
    huge = "http://127.0.0.1:9/" + secrets.token_urlsafe(6000)
    pg.sql("UPDATE webhook_endpoints SET url = %s WHERE id = %s",
           (huge, r.json()["id"]))
    out = create(http, ngx, tenant, bank("5551410001"))
    wait_status(http, ngx, tenant, out["payout_uuid"], "success")
    ds = deliveries(http, ngx, tenant, out["payout_uuid"])
    assert len(ds) == 3 and {d["url"] for d in ds} == {huge}


# -- secrets that cannot sign --

def seal(tenant_id, field, plain):
    """The module's sealing (src/core/ngx_payout_crypto.c), for tests."""
    key = hmac.new(bytes.fromhex(MASTER_KEY), b"payout/v1/encryption",
                   hashlib.sha256).digest()
    nonce = os.urandom(12)
    aad = ("%d:%s" % (tenant_id, field)).encode()
    return b"\x01" + nonce + AESGCM(key).encrypt(nonce, plain, aad)


@pytest.mark.parametrize("how", ["garbage", "unsignable"])
def test_a_secret_that_cannot_sign_is_recorded_and_dies(
        nginx_factory, pg, tenant, http, rc, how):
    ngx = sandbox_nginx(nginx_factory, webhook_schedule="0 1s 1s")
    good = "whsec_" + base64.b64encode(b"g" * 32).decode()
    out = create(http, ngx, tenant, bank("5551420001", stage=True,
                                         webhook_urls=[rc.url()],
                                         webhook_secret=good))
    u = out["payout_uuid"]
    # the staged event goes out signed; then the stored secret breaks
    (req,) = rc.wait_events(u, 1)
    check_webhook(req, u, secret=good)
    wait_deliveries(http, ngx, tenant, u, settled)
    stored = pg.sql("SELECT webhook_secret_enc FROM payouts WHERE uuid = %s",
                    (u,))[0][0]
    bad = (b"\x01" + b"\x00" * 40 if how == "garbage"
           else seal(tenant.id, "webhook_secret", b"whsec_abc"))
    pg.sql("UPDATE payouts SET webhook_secret_enc = %s WHERE uuid = %s",
           (bad, u))

    r = post_json(http, ngx, tenant, "/v1/payouts/%s/transfer" % u, "")
    assert r.status_code == 201, r.text
    wait_status(http, ngx, tenant, u, "success")

    # every later event is tried on schedule, recorded, and dies: none
    # holds back the next one forever
    ds = wait_deliveries(http, ngx, tenant, u,
                         lambda ds: len(ds) == 4 and settled(ds),
                         timeout=20)
    want = ("cannot sign: the webhook secret cannot be decrypted"
            if how == "garbage"
            else "cannot sign: the webhook secret is not a usable key")
    assert ds[0]["state"] == "delivered"
    for d in ds[1:]:
        assert d["state"] == "dead", d
        assert d["attempts"] == 3, d
        assert d["last_status"] is None and d["last_error"] == want, d
        assert [h["error"] for h in d["history"]] == [want] * 3, d
    assert len(rc.got(u)) == 1
    assert "whsec_abc" not in json.dumps(ds)

    # with the secret back, a redelivery goes out signed
    pg.sql("UPDATE payouts SET webhook_secret_enc = %s WHERE uuid = %s",
           (stored, u))
    r = post_json(http, ngx, tenant, "/v1/payouts/%s/webhooks/%d/redeliver"
                  % (u, ds[-1]["id"]), {})
    assert r.status_code == 202, r.text
    (req,) = rc.wait_events(u, 2)[1:]
    check_webhook(req, u, secret=good)
    assert req.json["sub_status"] == "success"


# -- webhook URLs --

BAD_URLS = [
    ("http://a@b@c/", "is not a valid URL"),
    ("http://[::1", "is not a valid URL"),
    ("http://[:::1]/", "is not a valid URL"),
    ("http://user:pw@example.com/", "user name or password"),
    ("http://token@example.com/", "user name or password"),
    ("http:/example.com/", "http:// or https://"),
    ("gopher://example.com/", "http:// or https://"),
    ("http://example.com:0/", "port"),
]

PRIVATE_URLS = ["http://127.0.0.1:9/x", "http://127.1:9/",
                "http://0x7f000001:9/", "http://10.0.0.1/", "http://[::1]:9/",
                "http://169.254.169.254/latest/meta-data/",
                "http://[fe80::1%25lo]/", "http://[::ffff:192.168.1.1]/"]


def test_webhook_urls_through_curls_parser(nginx_factory, pg, tenant, http):
    strict = sandbox_nginx(nginx_factory, webhook_allow_private=False)
    loose = sandbox_nginx(nginx_factory, webhook_allow_private=True)
    before = counts(pg, tenant)
    for ngx in (strict, loose):
        for url, why in BAD_URLS:
            r = post_json(http, ngx, tenant, "/v1/payouts",
                          bank(webhook_urls=["https://ok.example/", url]))
            err = assert_error(r, 400, "invalid_parameter", "webhook_urls")
            assert err["message"].startswith("webhook_urls[1] "), err
            assert why in err["message"], err
            if "@" in url:
                assert "pw" not in err["message"]
            r = post_json(http, ngx, tenant, "/v1/webhook-endpoints",
                          {"url": url})
            assert_error(r, 400, "invalid_parameter", "url")

    for url in PRIVATE_URLS:
        r = post_json(http, strict, tenant, "/v1/payouts",
                      bank(webhook_urls=[url]))
        err = assert_error(r, 400, "invalid_parameter", "webhook_urls")
        assert "private" in err["message"], err
        r = post_json(http, strict, tenant, "/v1/webhook-endpoints",
                      {"url": url})
        assert_error(r, 400, "invalid_parameter", "url")
    assert counts(pg, tenant) == before

    # allowed where private targets are (a development set-up); only
    # loopback ones here, whose port 9 refuses at once
    for url in PRIVATE_URLS[:3] + PRIVATE_URLS[4:5]:
        create(http, loose, tenant, bank(webhook_urls=[url], stage=True))
        r = post_json(http, loose, tenant, "/v1/webhook-endpoints",
                      {"url": url})
        assert r.status_code == 201, r.text
    # names are resolved at delivery, by the SSRF guard
    create(http, strict, tenant, bank(webhook_urls=["http://localhost/"],
                                      stage=True))
