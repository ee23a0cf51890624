"""docs/openapi.yaml against the live server: a walk through every route,
good requests and bad ones, through prism's validating proxy.

Two proxies stand in front of one sandbox nginx:
- strict (`prism proxy docs/openapi.yaml URL --errors`): every request the
  spec accepts.  prism forwards it and checks the answer; any
  sl-violations header, or an answer prism made itself (a request the
  spec refused, an answer that broke it), fails.  Error answers the spec
  cannot foresee (unknown gateway, a state conflict, no such payout) go
  this way too, so their shape and status are checked.
- lenient (the same without --errors): requests the spec itself refuses
  (a wrong type, an unknown field, no key, a duplicate parameter).  prism
  forwards them anyway; the violations must all be the request's (the
  spec agrees the request is bad: at least one) and none the answer's.

WALKED lists every (method, path template) visited; the last test checks
it against the spec's paths, so a route added to the spec without a walk
(or to the walk without the spec) fails.
"""

import datetime
import hashlib
import json
import os
import re
import time
import uuid

import pytest
import requests
import yaml

from conftest import ROOT
from payout_helpers import (ACCOUNT, MOBILE, sandbox_event,
                            sandbox_signature, sandbox_nginx, wait_for)
from prism import Prism, violations_of
from provider_standins import PNE_CONTROL, PNE_ENDPOINT, PNE_LOGIN
from test_links_api import CLAIM, token_hash

PUBLIC = "https://pay.example.com"
# the walk's PaynetEasy gateway: GET callbacks; its URL leads nowhere
PAYSOFT = """
    payout_public_url %s;
    payout_gateway paysoft connector=payneteasy mode=test
                   url=http://127.0.0.1:9/paynet endpoint=%s login=%s
                   rsa_key_file=%%s secret_file=%%s timeout=1s;
""" % (PUBLIC, PNE_ENDPOINT, PNE_LOGIN)
METRICS = "location = /metrics { payout_metrics; }"

SPEC = os.path.join(ROOT, "docs", "openapi.yaml")
PRISM_ERROR = "https://stoplight.io/prism/errors"
WALKED = set()
NO_BODY = object()


METHODS = ("get", "post", "put", "patch", "delete")


def load_spec():
    with open(SPEC) as f:
        return yaml.safe_load(f)


def spec_operations():
    """(METHOD, path) of every operation in docs/openapi.yaml."""
    return {(m.upper(), path)
            for path, item in load_spec()["paths"].items()
            for m in item if m in METHODS}


def resolve(spec, node):
    while isinstance(node, dict) and "$ref" in node:
        node = _ref(spec, node["$ref"])
    return node


def _ref(spec, ref):
    node = spec
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def error_codes(spec, response):
    """The codes an error response's schema allows: the enum (or const)
    of error.code, as the ErrorNNN schemas give it."""
    schema = resolve(spec, resolve(spec, response)["content"]
                     ["application/json"]["schema"])
    codes = set()
    for part in schema.get("properties", {}).get("error", {}).get("allOf",
                                                                  []):
        code = resolve(spec, part).get("properties", {}).get("code", {})
        codes |= set(code.get("enum", []))
        if "const" in code:
            codes.add(code["const"])
    return codes


def table_codes(text):
    """(status, code) of the markdown table rows `| 400 | `code` | ...`."""
    return set((int(st), code) for st, code in
               re.findall(r"(?m)^\| (\d{3}) \| `([a-z_]+)`", text))


class Walker:
    """Sends requests through the proxies and checks what prism says."""

    def __init__(self, ngx, strict, lenient, key):
        self.ngx = ngx
        self.strict = strict
        self.lenient = lenient
        self.auth = {"Authorization": "Bearer " + key}
        self.http = requests.Session()

    def _send(self, proxy, method, path, body, headers, auth, params):
        h = dict(self.auth if auth else {})
        data = None
        if body is not NO_BODY:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        return self.http.request(method, "http://127.0.0.1:%d%s"
                                 % (proxy.port, path), data=data,
                                 headers=h, params=params, timeout=30)

    def ok(self, template, method, path, status, body=NO_BODY,
           headers=None, auth=True, params=None):
        """A request the spec accepts: the server's answer, unviolated."""
        WALKED.add((method, template))
        r = self._send(self.strict, method, path, body, headers, auth,
                       params)
        what = "%s %s -> %d %s" % (method, path, r.status_code, r.text[:500])
        v = violations_of(r.headers)
        assert v is None, "%s\nviolations: %s" % (what, v)
        assert not r.text.startswith('{"type":"%s' % PRISM_ERROR), \
            "prism answered itself: " + what
        assert r.status_code == status or (isinstance(status, tuple)
                                           and r.status_code in status), what
        return r

    def bad(self, template, method, path, status, code, body=NO_BODY,
            headers=None, auth=True, params=None):
        """A request the spec refuses: request violations only, and the
        server's error answer matches the spec.  A probe of a route or
        method the spec does not have (405, route_not_found) is not an
        operation walked."""
        if code not in ("method_not_allowed", "route_not_found"):
            WALKED.add((method, template))
        r = self._send(self.lenient, method, path, body, headers, auth,
                       params)
        what = "%s %s -> %d %s" % (method, path, r.status_code, r.text[:500])
        v = violations_of(r.headers) or []
        assert v, "the spec accepted a request the server refuses: " + what
        theirs = [x for x in v if x.get("location", [""])[0] != "request"]
        assert not theirs, "%s\nanswer violations: %s" % (what, theirs)
        assert r.status_code == status, what
        assert r.json()["error"]["code"] == code, what
        return r


def secret(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content.strip() + "\n")
    path.chmod(0o600)
    return str(path)


@pytest.fixture
def walk(nginx_factory, tenant, tmp_path):
    with open(os.path.join(ROOT, "t", "fixtures", "payneteasy",
                           "test-key.pem")) as f:
        key = secret(tmp_path, "paysoft.pem", f.read())
    ngx = sandbox_nginx(nginx_factory, webhook_delay="200ms",
                        http=PAYSOFT % (key, secret(tmp_path,
                                                    "paysoft.control",
                                                    PNE_CONTROL)),
                        server=METRICS)
    strict = Prism(SPEC, upstream=ngx.base, errors=True)
    lenient = Prism(SPEC, upstream=ngx.base)
    try:
        strict.start()
        lenient.start()
        yield Walker(ngx, strict, lenient, tenant.key)
    finally:
        strict.stop()
        lenient.stop()


def bank(**kw):
    body = {"amount": 125000, "currency": "NGN", "gateway": "sandbox",
            "bank_account_number": ACCOUNT, "bank_account_name": "ADA OBI",
            "bank_code": "058", "bank_name": "Guaranty Trust Bank"}
    body.update(kw)
    return body


def final(w, u):
    def check():
        r = w.http.get(w.ngx.url("/v1/payouts/" + u), headers=w.auth)
        return r.json()["sub_status"] != "pending_promise" and r.json()
    return wait_for(check, timeout=15, what="payout %s settled" % u)


def cursor_walk(w, path, select):
    """Cursor pagination: the first page, on via links.next and back via
    links.previous, ascending, with select, past the end, and the bad
    ones.  The tenant has at least two rows of the list."""
    first = w.ok(path, "GET", path, 200,
                 params={"cursor": "", "limit": 1}).json()
    assert first["meta"]["cursor"] is None and "totalItems" not in \
        first["meta"], first
    nxt = w.ok(path, "GET", first["links"]["next"], 200).json()
    assert nxt["data"] and nxt["data"][0] != first["data"][0], nxt
    w.ok(path, "GET", nxt["links"]["previous"], 200)
    w.ok(path, "GET", path, 200, params={"cursor": "", "sortBy": "id:ASC",
                                         "select": select})
    assert w.ok(path, "GET", path, 200,
                params={"cursor": "1"}).json()["data"] == []
    w.bad(path, "GET", path, 400, "invalid_parameter",
          params={"cursor": "abc"})
    w.bad(path, "GET", path, 400, "invalid_parameter",
          params={"cursor": "0"})
    w.bad(path, "GET", path, 400, "conflicting_parameters",
          params=[("cursor", ""), ("cursor", "2")])
    w.ok(path, "GET", path, 400, params={"cursor": "", "page": 2})
    w.ok(path, "GET", path, 400, params={"cursor": "",
                                         "sortBy": "created_at:DESC"})


def test_health_and_lists(walk):
    w = walk
    w.ok("/v1/health", "GET", "/v1/health", 200, auth=False)
    w.ok("/metrics", "GET", "/metrics", 200, auth=False)
    w.bad("/metrics", "POST", "/metrics", 405, "method_not_allowed",
          auth=False)
    w.bad("/v1/health", "POST", "/v1/health", 405, "method_not_allowed",
          auth=False)
    w.bad("/v1/payouts", "DELETE", "/v1/payouts", 405,
          "method_not_allowed")
    w.bad("/v1/nothing", "GET", "/v1/nothing", 404, "route_not_found")

    u = w.ok("/v1/payouts", "POST", "/v1/payouts", 201,
             bank(narration="Weekly seller settlement",
                  idempotency_key="oas-" + uuid.uuid4().hex,
                  metadata={"order": "1042", "n": 3, "ok": True})
             ).json()["payout_uuid"]
    final(w, u)

    for params in [None,
                   {"limit": 1, "page": 1, "sortBy": ["amount:DESC",
                                                      "id:ASC"]},
                   {"search": "settlement", "searchBy": "narration"},
                   {"select": "id,amount,status,recipient"},
                   {"filter.status": "$eq:success",
                    "filter.amount": "$btw:1000,500000",
                    "filter.gateway_payout_id": "$not:$null"},
                   {"page": 9}]:
        w.ok("/v1/payouts", "GET", "/v1/payouts", 200, params=params)
    w.ok("/v1/payouts", "POST", "/v1/payouts", 201,
         bank(idempotency_key="oas-" + uuid.uuid4().hex, stage=True))
    cursor_walk(w, "/v1/payouts", "id,amount,status")
    w.ok("/v1/payouts", "GET", "/v1/payouts", 400,
         params={"filter.nope": "$eq:1"})
    w.ok("/v1/payouts", "GET", "/v1/payouts", 400,
         params={"searchBy": "narration"})
    w.bad("/v1/payouts", "GET", "/v1/payouts", 400,
          "conflicting_parameters", params=[("limit", 1), ("limit", 2)])
    w.bad("/v1/payouts", "GET", "/v1/payouts", 400, "invalid_parameter",
          params={"limit": "x"})
    w.bad("/v1/payouts", "GET", "/v1/payouts", 401, "unauthorized",
          auth=False)
    w.ok("/v1/payouts", "GET", "/v1/payouts", 401,
         headers={"Authorization": "Bearer sk_test_" + "0" * 40})


def test_payout_routes(walk):
    w = walk
    path = "/v1/payouts"
    body = bank(idempotency_key="oas-" + uuid.uuid4().hex,
                webhook_urls=["http://127.0.0.1:9/hook"],
                webhook_secret="whsec_" + "QUJD" * 8)
    r = w.ok(path, "POST", path, 201, body)
    u = r.json()["payout_uuid"]
    w.ok(path, "POST", path, 201, body)                     # the replay
    w.ok(path, "POST", path, 409, dict(body, amount=1))
    w.ok(path, "POST", path, 400, bank(gateway="nope"))
    w.ok(path, "POST", path, 400, bank(mobile_money_number=MOBILE))
    w.ok(path, "POST", path, 400,
         bank(recipient_uuid=str(uuid.uuid4())))
    w.ok(path, "POST", path, 400, bank(tenant="someone-else"))
    w.ok(path, "POST", path, 400,
         bank(bank_account_number="0123450002"))            # rejected
    w.ok(path, "POST", path, 400, {"amount": 1, "currency": "NGN",
                                   "gateway": "sandbox"})  # no destination
    w.bad(path, "POST", path, 400, "invalid_parameter", bank(amount="1"))
    w.bad(path, "POST", path, 400, "unknown_parameter", bank(bogus=1))
    w.bad(path, "POST", path, 400, "invalid_parameter",
          bank(narration="x" * 300))
    w.bad(path, "POST", path, 400, "missing_parameter",
          {"currency": "NGN", "gateway": "sandbox"})
    w.ok(path, "POST", path, 400, b"{not json")     # prism cannot tell
    w.bad(path, "POST", path, 415, "unsupported_media_type",
          json.dumps(bank()), headers={"Content-Type": "text/plain"})
    w.bad(path, "POST", path, 401, "unauthorized", bank(), auth=False)

    t = "/v1/payouts/{uuid}"
    final(w, u)
    w.ok(t, "GET", "/v1/payouts/" + u, 200)
    w.ok(t, "GET", "/v1/payouts/" + str(uuid.uuid4()), 404)
    w.bad(t, "GET", "/v1/payouts/not-a-uuid", 400, "invalid_parameter")

    t = "/v1/payouts/{uuid}/status"
    w.ok(t, "GET", "/v1/payouts/%s/status" % u, 200)
    w.ok(t, "GET", "/v1/payouts/%s/status" % uuid.uuid4(), 404)

    # staged: transfer, cancel
    staged = w.ok(path, "POST", path, 201,
                  bank(stage=True, bank_account_number="0123450007")
                  ).json()["payout_uuid"]
    t = "/v1/payouts/{uuid}/transfer"
    w.ok(t, "POST", "/v1/payouts/%s/transfer" % staged, 201)
    w.ok(t, "POST", "/v1/payouts/%s/transfer" % staged, 409)
    w.ok(t, "POST", "/v1/payouts/%s/transfer" % uuid.uuid4(), 404)

    t = "/v1/payouts/{uuid}/cancel"
    # a sent one (sandbox 0007 stays pending until canceled) and a staged
    # one, canceled at once, then again (answered like the first)
    w.ok(t, "POST", "/v1/payouts/%s/cancel" % staged, (200, 503))
    staged = w.ok(path, "POST", path, 201,
                  bank(stage=True)).json()["payout_uuid"]
    w.ok(t, "POST", "/v1/payouts/%s/cancel" % staged, 200)
    w.ok(t, "POST", "/v1/payouts/%s/cancel" % staged, 200)
    w.ok(t, "POST", "/v1/payouts/%s/cancel" % u, 409)
    w.ok(t, "POST", "/v1/payouts/%s/cancel" % uuid.uuid4(), 404)

    t = "/v1/payouts/{uuid}/finalize"
    w.ok(t, "POST", "/v1/payouts/%s/finalize" % u, (409, 422),
         {"otp": "123456"})
    w.ok(t, "POST", "/v1/payouts/%s/finalize" % uuid.uuid4(), 404,
         {"otp": "123456"})
    w.bad(t, "POST", "/v1/payouts/%s/finalize" % u, 400,
          "invalid_parameter", {"otp": "12"})
    w.bad(t, "POST", "/v1/payouts/%s/finalize" % u, 400,
          "unknown_parameter", {"otp": "123456", "x": 1})

    t = "/v1/payouts/{uuid}/events"
    ev = w.ok(t, "GET", "/v1/payouts/%s/events" % staged, 200).json()
    assert [e["to"] for e in ev["data"]] == ["pending_staged",
                                             "canceled_voided"], ev
    w.ok(t, "GET", "/v1/payouts/%s/events" % u, 200)
    w.ok(t, "GET", "/v1/payouts/%s/events" % uuid.uuid4(), 404)
    w.bad(t, "GET", "/v1/payouts/not-a-uuid/events", 400,
          "invalid_parameter")

    # the delivery log of the first payout, and a redelivery
    t = "/v1/payouts/{uuid}/webhooks"
    ds = wait_for(lambda: w.ok(t, "GET", "/v1/payouts/%s/webhooks" % u,
                               200).json()["data"], what="deliveries")
    w.ok(t, "GET", "/v1/payouts/%s/webhooks" % uuid.uuid4(), 404)
    t = "/v1/payouts/{uuid}/webhooks/{id}/redeliver"
    w.ok(t, "POST", "/v1/payouts/%s/webhooks/%d/redeliver" % (u, ds[0]["id"]),
         202)
    w.ok(t, "POST", "/v1/payouts/%s/webhooks/999999/redeliver" % u, 404)
    w.bad(t, "POST", "/v1/payouts/%s/webhooks/x/redeliver" % u, 400,
          "invalid_parameter")


def test_recipient_routes(walk):
    w = walk
    path = "/v1/payout-recipients"
    body = {"gateway": "sandbox", "mobile_money_number": MOBILE,
            "mobile_money_provider": "MTN", "name": "Ama Mensah",
            "email": "ama@example.com", "country": "GH",
            "idempotency_key": "oas-" + uuid.uuid4().hex}
    u = w.ok(path, "POST", path, 201, body).json()["uuid"]
    w.ok(path, "POST", path, 200, body)
    w.ok(path, "POST", path, 409, dict(body, mobile_money_number="233209999999"))
    w.ok(path, "POST", path, 400, dict(body, gateway="nope"))
    w.ok(path, "POST", path, 400, {"gateway": "sandbox", "account_id":
                                   "acct_1", "mobile_money_number": MOBILE})
    w.bad(path, "POST", path, 400, "invalid_parameter",
          dict(body, country="gh"))
    w.bad(path, "POST", path, 400, "missing_parameter", {"name": "x"})

    for params in [None, {"filter.recipient_type": "$eq:mobile_money"},
                   {"search": "ama", "searchBy": "name,email"},
                   {"select": "uuid,name,mobile_money_number"},
                   {"sortBy": "created_at:ASC", "limit": 5}]:
        w.ok(path, "GET", path, 200, params=params)
    w.bad(path, "GET", path, 400, "invalid_parameter",
          params={"sortBy": "amount:ASC"})

    t = "/v1/payout-recipients/{uuid}"
    w.ok(t, "GET", "/v1/payout-recipients/" + u, 200)
    w.ok(t, "GET", "/v1/payout-recipients/%s" % uuid.uuid4(), 404)

    t = "/v1/payout-recipients/{uuid}/accounts"
    w.ok(t, "POST", "/v1/payout-recipients/%s/accounts" % u, 201)
    w.ok(t, "POST", "/v1/payout-recipients/%s/accounts" % u, 200, {})
    w.ok(t, "POST", "/v1/payout-recipients/%s/accounts" % uuid.uuid4(),
         404)
    w.bad(t, "POST", "/v1/payout-recipients/%s/accounts" % u, 400,
          "unknown_parameter", {"bogus": 1})
    conn = w.ok(path, "POST", path, 201, {"gateway": "sandbox",
                                          "account_id": "acct_oas1"}
                ).json()["uuid"]
    w.ok(t, "POST", "/v1/payout-recipients/%s/accounts" % conn, 422)
    cursor_walk(w, path, "uuid,name")


def link(**kw):
    body = {"amount": 250000, "currency": "NGN", "gateway": "sandbox"}
    body.update(kw)
    return body


def test_link_routes(walk, pg):
    w = walk
    path = "/v1/payout-links"
    body = link(name="Ada Lovelace", email="ada@example.com",
                phone="+2348012345678", narration="May invoice",
                expires_in=86400, methods=["bank_account", "mobile_money"],
                metadata={"invoice": "7", "n": 1},
                webhook_urls=["http://127.0.0.1:9/hook"],
                webhook_secret="whsec_" + "QUJD" * 8,
                idempotency_key="oas-" + uuid.uuid4().hex)
    made = w.ok(path, "POST", path, 201, body).json()
    assert made["url"].startswith(PUBLIC + "/pay/"), made
    again = w.ok(path, "POST", path, 200, body).json()      # the replay
    assert "url" not in again
    w.ok(path, "POST", path, 409, dict(body, amount=1))
    soon = (datetime.datetime.now(datetime.timezone.utc)
            + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    other = w.ok(path, "POST", path, 201, link(expires_at=soon)).json()
    claimed = w.ok(path, "POST", path, 201, link()).json()
    old = w.ok(path, "POST", path, 201, link()).json()
    w.ok(path, "POST", path, 400, link(gateway="nope"))
    w.ok(path, "POST", path, 400, link(expires_in=3600, expires_at=soon))
    w.ok(path, "POST", path, 400, link(expires_at="2020-01-01T00:00:00Z"))
    w.ok(path, "POST", path, 400, link(gateway="paysoft", currency="USD",
                                       methods=["mobile_money"]))
    w.bad(path, "POST", path, 400, "invalid_parameter", link(expires_in=59))
    w.bad(path, "POST", path, 400, "invalid_parameter",
          link(methods=["card"]))
    w.bad(path, "POST", path, 400, "unknown_parameter", link(stage=True))
    w.bad(path, "POST", path, 400, "missing_parameter",
          {"currency": "NGN", "gateway": "sandbox"})
    w.bad(path, "POST", path, 415, "unsupported_media_type",
          json.dumps(link()), headers={"Content-Type": "text/plain"})
    w.bad(path, "POST", path, 401, "unauthorized", link(), auth=False)

    # one claimed (through SQL, as the page claims), one past expires_at
    token = claimed["url"].rsplit("/", 1)[1]
    assert pg.sql(CLAIM, (token_hash(token), os.urandom(32)))[0][0] \
        == "created"
    pg.sql("UPDATE payout_links SET expires_at = now() - interval '1 s' "
           "WHERE uuid = %s", (old["link_uuid"],))

    for params in [None,
                   {"limit": 2, "page": 1, "sortBy": ["amount:DESC",
                                                      "id:ASC"]},
                   {"search": "invoice", "searchBy": "narration"},
                   {"select": "link_uuid,status,amount,payout_uuid"},
                   {"filter.status": "$eq:open",
                    "filter.payout_uuid": "$null"},
                   {"page": 9}]:
        w.ok(path, "GET", path, 200, params=params)
    w.ok(path, "GET", path, 400, params={"filter.nope": "$eq:1"})
    w.bad(path, "GET", path, 400, "invalid_parameter",
          params={"sortBy": "narration:ASC"})
    cursor_walk(w, path, "id,link_uuid,status")
    w.bad(path, "GET", path, 401, "unauthorized", auth=False)

    t = "/v1/payout-links/{uuid}"
    for one in (made, claimed, old):
        w.ok(t, "GET", "%s/%s" % (path, one["link_uuid"]), 200)
    w.ok(t, "GET", "%s/%s" % (path, uuid.uuid4()), 404)
    w.bad(t, "GET", path + "/not-a-uuid", 400, "invalid_parameter")

    t = "/v1/payout-links/{uuid}/cancel"
    w.ok(t, "POST", "%s/%s/cancel" % (path, other["link_uuid"]), 200)
    w.ok(t, "POST", "%s/%s/cancel" % (path, other["link_uuid"]), 409)
    w.ok(t, "POST", "%s/%s/cancel" % (path, claimed["link_uuid"]), 409)
    w.ok(t, "POST", "%s/%s/cancel" % (path, old["link_uuid"]), 409)
    w.ok(t, "POST", "%s/%s/cancel" % (path, uuid.uuid4()), 404)
    w.bad(t, "POST", path + "/x/cancel", 400, "invalid_parameter")


def test_endpoint_routes(walk):
    w = walk
    path = "/v1/webhook-endpoints"
    e = w.ok(path, "POST", path, 201,
             {"url": "http://127.0.0.1:9/endpoint"}).json()
    w.ok(path, "GET", path, 200)
    w.ok(path, "POST", path, 400, {"url": "http://user:pw@example.com/"})
    w.bad(path, "POST", path, 400, "invalid_parameter",
          {"url": "ftp://example.com/"})
    w.bad(path, "POST", path, 400, "missing_parameter", {})
    t = "/v1/webhook-endpoints/{id}/rotate"
    w.ok(t, "POST", "%s/%d/rotate" % (path, e["id"]), 200)
    w.ok(t, "POST", "%s/999999/rotate" % path, 404)
    t = "/v1/webhook-endpoints/{id}"
    w.ok(t, "DELETE", "%s/%d" % (path, e["id"]), 200)
    w.ok(t, "DELETE", "%s/999999" % path, 404)
    w.bad(t, "DELETE", "%s/x" % path, 400, "invalid_parameter")


def test_provider_hooks(walk):
    w = walk
    u = w.ok("/v1/payouts", "POST", "/v1/payouts", 201,
             bank(bank_account_number="0123450007")).json()["payout_uuid"]
    t = "/hooks/{gateway}"
    body = sandbox_event(u, "succeeded")
    w.ok(t, "POST", "/hooks/sandbox", 200, body,
         headers={"Sandbox-Signature": sandbox_signature(body)}, auth=False)
    w.ok(t, "POST", "/hooks/sandbox", 200, body,        # a duplicate
         headers={"Sandbox-Signature": sandbox_signature(body)}, auth=False)
    other = sandbox_event(str(uuid.uuid4()), "succeeded")
    w.ok(t, "POST", "/hooks/sandbox", 200, other,
         headers={"Sandbox-Signature": sandbox_signature(other)},
         auth=False)
    w.ok(t, "POST", "/hooks/sandbox", 401, body,
         headers={"Sandbox-Signature": "t=1,v1=00"}, auth=False)
    w.ok(t, "POST", "/hooks/nope", 404, body, auth=False)

    # GET callbacks (PaynetEasy's): the query string is the callback
    def callback(ref, control=None, status="approved", orderid="9001"):
        if control is None:
            control = hashlib.sha1((status + orderid + ref + PNE_CONTROL)
                                   .encode()).hexdigest()
        return {"status": status, "merchant_order": ref,
                "client_orderid": ref, "orderid": orderid,
                "type": "payout", "amount": "10.00", "descriptor": "e2e",
                "control": control}
    ref = str(uuid.uuid4())
    r = w.ok(t, "GET", "/hooks/paysoft", 200, params=callback(ref),
             auth=False)
    assert r.json()["outcome"] == "unknown", r.text
    w.ok(t, "GET", "/hooks/paysoft", 200,
         params=callback(ref, status="processing"), auth=False)
    w.ok(t, "GET", "/hooks/paysoft", 401,
         params=callback(ref, control="0" * 40), auth=False)
    w.ok(t, "GET", "/hooks/paysoft", 401, auth=False)
    w.ok(t, "GET", "/hooks/sandbox", 405, params=callback(ref),
         auth=False)
    w.ok(t, "GET", "/hooks/nope", 405, params=callback(ref), auth=False)


def test_sandbox_provider(walk):
    w = walk
    ref = str(uuid.uuid4())
    body = {"reference": ref, "amount": 2500, "currency": "NGN",
            "destination": {"type": "bank_account",
                            "account_number": "0123450007",
                            "bank_code": "058", "account_name": "Ada Obi"},
            "narration": "May payout"}
    t = "/sandbox/transfers"
    w.ok(t, "POST", t, 201, body, headers={"Idempotency-Key": ref},
         auth=False)
    w.ok(t, "POST", t, 200, body, auth=False)
    rej = dict(body, reference=str(uuid.uuid4()),
               destination={"account_number": "0123450002"})
    w.ok(t, "POST", t, 422, rej, auth=False)
    w.ok(t, "POST", t, 400, body, headers={"Idempotency-Key":
                                           str(uuid.uuid4())}, auth=False)
    w.bad(t, "POST", t, 400, "invalid_request", dict(body, amount=0),
          auth=False)
    t = "/sandbox/transfers/{reference}"
    w.ok(t, "GET", "/sandbox/transfers/" + ref, 200, auth=False)
    w.ok(t, "GET", "/sandbox/transfers/%s" % uuid.uuid4(), 404, auth=False)
    t = "/sandbox/transfers/{reference}/cancel"
    w.ok(t, "POST", "/sandbox/transfers/%s/cancel" % ref, 200, auth=False)
    w.ok(t, "POST", "/sandbox/transfers/%s/cancel" % uuid.uuid4(), 404,
         auth=False)
    done = dict(body, reference=str(uuid.uuid4()),
                destination={"account_number": "0123456789"})
    w.ok("/sandbox/transfers", "POST", "/sandbox/transfers", 201, done,
         auth=False)
    wait_for(lambda: w.http.get(w.ngx.url("/sandbox/transfers/"
                                          + done["reference"])
                                ).json()["status"] == "succeeded",
             what="the sandbox transfer")
    w.ok(t, "POST", "/sandbox/transfers/%s/cancel" % done["reference"],
         409, auth=False)
    t = "/sandbox/ledger"
    w.ok(t, "GET", t, 200, auth=False)
    w.ok(t, "GET", t, 200, params={"reference": ref}, auth=False)
    t = "/sandbox/recipients"
    w.ok(t, "POST", t, 201, {"reference": ref, "currency": "NGN",
                             "destination": body["destination"]},
         auth=False)
    w.ok(t, "POST", t, 400, {"reference": ref, "destination":
                             {"account_number": "0123450002"}}, auth=False)


def test_error_codes_documented():
    """Every (status, code) of docs/api.md's error table is one the spec
    gives that status (an ErrorNNN enum, or the table of the default
    response), and the spec has no code the table lacks.  The sandbox
    provider's own codes (docs/sandbox.md) are left out."""
    spec = load_spec()
    with open(os.path.join(ROOT, "docs", "api.md")) as f:
        documented = table_codes(f.read())
    assert len(documented) > 30, documented
    other = spec["components"]["responses"]["Other"]
    given = table_codes(other["description"])
    for path, item in spec["paths"].items():
        if path.startswith("/sandbox/"):
            continue
        for m, op in item.items():
            if m not in METHODS:
                continue
            for status, response in op["responses"].items():
                if status != "default" and int(status) >= 400:
                    given |= {(int(status), c)
                              for c in error_codes(spec, response)}
    assert documented - given == set(), \
        "in docs/api.md, not in the spec: %s" % sorted(documented - given)
    assert given - documented == set(), \
        "in the spec, not in docs/api.md: %s" % sorted(given - documented)


def test_every_route_walked():
    """Every operation of the spec was walked, and nothing else."""
    if not WALKED:
        pytest.skip("the walks did not run in this session")
    ops = spec_operations()
    assert ops - WALKED == set(), "never walked: %s" % sorted(ops - WALKED)
    assert WALKED - ops == set(), \
        "walked, not in the spec: %s" % sorted(WALKED - ops)


def test_webhook_payloads_documented(nginx_factory, pg, tenant):
    """The payloads the server queues (a payout's, with next_action, and
    a link's) have exactly the fields of the spec's webhooks: schemas,
    and their values fit them."""
    spec = load_spec()
    schemas = spec["components"]["schemas"]
    for name, hook in (("PayoutWebhook", "payoutEvent"),
                       ("PayoutLinkWebhook", "payoutLinkEvent")):
        body = spec["webhooks"][hook]["post"]["requestBody"]
        assert body["content"]["application/json"]["schema"]["$ref"] \
            == "#/components/schemas/" + name
    assert schemas["PayoutWebhook"]["properties"]["next_action"] == \
        {"$ref": "#/components/schemas/NextAction"}
    kinds = [resolve(spec, k).get("properties", {}).get("type", {})
             .get("const") for k in schemas["NextAction"]["oneOf"]]
    assert kinds == [None, "otp_required", "redirect"], kinds

    ngx = sandbox_nginx(nginx_factory, http="payout_public_url %s;" % PUBLIC)
    http = requests.Session()
    auth = {"Authorization": "Bearer " + tenant.key}
    r = http.post(ngx.url("/v1/payouts"), json=bank(), headers=auth)
    assert r.status_code == 201, r.text
    r = http.post(ngx.url("/v1/payout-links"), json=link(), headers=auth)
    assert r.status_code == 201, r.text
    token = r.json()["url"].rsplit("/", 1)[1]
    assert pg.sql(CLAIM, (token_hash(token), os.urandom(32)))[0][0] \
        == "created"

    def payloads():
        rows = [p for (p,) in pg.sql(
            "SELECT payload FROM webhook_events WHERE tenant_id = %s "
            "ORDER BY id", (tenant.id,))]
        types = {p["event_type"] for p in rows}
        return {"payout.success", "payout_link.claimed"} <= types and rows
    rows = wait_for(payloads, timeout=15, what="the webhook events")
    for p in rows:
        schema = schemas["PayoutLinkWebhook"
                         if p["webhook_type"] == "payout_link"
                         else "PayoutWebhook"]
        assert set(p) == set(schema["properties"]) \
            == set(schema["required"]), p
        for k, v in p.items():
            s = resolve(spec, schema["properties"][k])
            if "enum" in s:
                assert v in s["enum"], (k, v)
            if "const" in s:
                assert v == s["const"], (k, v)
        if p["webhook_type"] == "payout":
            assert p["next_action"] is None or p["next_action"]["type"] \
                in ("otp_required", "redirect"), p
