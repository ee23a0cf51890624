"""The $payout_* variables (issue 11), read back from a log_format in
the test's own access log: the ready `log_format payout` of
docs/operations.md, and $payout_key_prefix as a limit_req_zone key
(per-key rate limits without the database)."""

import json
import os
import re
import time
import uuid as uuidlib

from payout_helpers import (bank, create, post_hook, post_json,
                            sandbox_event, sandbox_nginx, sandbox_signature,
                            wait_for)

# the log_format of docs/operations.md, as JSON for the test to read
LOG = """
    log_format payout_json escape=json
        '{"route":"$payout_route","tenant":"$payout_tenant",'
        '"uuid":"$payout_uuid","status":"$payout_status",'
        '"gateway":"$payout_gateway","error":"$payout_error",'
        '"key":"$payout_key_prefix","code":"$status","uri":"$request_uri"}';
    limit_req_zone $payout_key_prefix zone=per_key:1m rate=1r/m;
"""


def lines(ngx, n, uri):
    """The first n lines of requests whose URI starts with uri."""
    path = os.path.join(ngx.dir, "payout.log")

    def ready():
        if not os.path.exists(path):
            return None
        with open(path) as f:
            got = [json.loads(line) for line in f if line.strip()]
        got = [g for g in got if g["uri"].startswith(uri)]
        return got if len(got) >= n else None

    return wait_for(ready, what="%d access log lines" % n)


def start(nginx_factory, location=""):
    """The sandbox's nginx, the server's access log in payout.log."""
    def edit(conf):
        d = re.search(r"access_log (\S+)/access\.log;", conf).group(1)
        return conf.replace("LOGPATH", d + "/payout.log")

    return sandbox_nginx(nginx_factory, http=LOG, location=location,
                         server="access_log LOGPATH payout_json;", edit=edit)


def test_variables_of_a_payout(http, nginx_factory, tenant):
    ngx = start(nginx_factory)
    acct = "%06d0007" % (uuidlib.uuid4().int % 10 ** 6)
    p = create(http, ngx, tenant, bank(acct))
    r = http.get(ngx.url("/v1/payouts/" + p["payout_uuid"]),
                 headers=tenant.headers)
    assert r.status_code == 200
    missing = str(uuidlib.uuid4())
    r = http.get(ngx.url("/v1/payouts/" + missing), headers=tenant.headers)
    assert r.status_code == 404
    r = post_json(http, ngx, tenant, "/v1/payouts", {"amount": "x"})
    assert r.status_code == 400
    r = http.get(ngx.url("/v1/payouts"),
                 headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 401

    got = lines(ngx, 5, "/v1/")
    created, fetched, unknown, invalid, refused = got[:5]
    prefix = tenant.key[:16]

    assert created == dict(created, route="/payouts", tenant=tenant.name,
                           uuid=p["payout_uuid"], status="pending_promise",
                           gateway="sandbox", error="", key=prefix,
                           code="201")
    assert fetched == dict(fetched, route="/payouts/{uuid}",
                           tenant=tenant.name, uuid=p["payout_uuid"],
                           status="pending", gateway="sandbox", error="",
                           key=prefix, code="200")
    assert unknown == dict(unknown, route="/payouts/{uuid}", uuid=missing,
                           status="", gateway="", error="not_found",
                           code="404")
    assert invalid["route"] == "/payouts" and invalid["code"] == "400"
    assert invalid["error"] and invalid["uuid"] == ""
    # a malformed key: no tenant, no prefix, never the header itself
    assert refused == dict(refused, route="/payouts", tenant="", key="",
                           error="unauthorized", code="401")
    with open(os.path.join(ngx.dir, "payout.log")) as f:
        text = f.read()
    assert tenant.key not in text and "nonsense" not in text


def test_variables_of_a_provider_webhook(http, nginx_factory, tenant):
    ngx = start(nginx_factory)
    acct = "%06d0007" % (uuidlib.uuid4().int % 10 ** 6)
    p = create(http, ngx, tenant, bank(acct))
    body = sandbox_event(p["payout_uuid"], "succeeded")
    assert post_hook(http, ngx, body, "t=%d,v1=%s"
                     % (time.time(), "0" * 64)).status_code == 401
    assert post_hook(http, ngx, body,
                     sandbox_signature(body)).status_code == 200
    got = lines(ngx, 2, "/hooks/sandbox")
    bad, good = got[:2]
    assert bad == dict(bad, route="/hooks/{gateway}", gateway="sandbox",
                       error="invalid_signature", code="401", tenant="")
    assert good == dict(good, route="/hooks/{gateway}", gateway="sandbox",
                        error="", code="200")


def test_key_prefix_keys_limit_req(http, nginx_factory, tenant_factory):
    """One request a minute per key: a second key has its own bucket;
    requests without a key are not limited by it."""
    ngx = start(nginx_factory, location="limit_req zone=per_key;")
    one, two = tenant_factory(), tenant_factory()
    assert http.get(ngx.url("/v1/payouts"),
                    headers=one.headers).status_code == 200
    assert http.get(ngx.url("/v1/payouts"),
                    headers=one.headers).status_code == 503
    assert http.get(ngx.url("/v1/payouts"),
                    headers=two.headers).status_code == 200
    for _ in range(3):
        assert http.get(ngx.url("/v1/health")).status_code == 200
