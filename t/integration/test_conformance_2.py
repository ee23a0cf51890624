"""Every request the Mollie and Adyen connectors send, for every
operation, driven through the real API, is accepted by the provider's
official OpenAPI spec (issue 9, Tests): nginx's gateways point at
RecordingProxies in front of prism (prism.py), and each exchange must be
a 2xx without sl-violations.  The headers the issue requires are checked
on the recorded requests: Idempotency-Key = our payout uuid,
Authorization: Bearer for Mollie, x-api-key for Adyen, Mollie's amounts
as decimal strings with the currency's exponent.

prism answers the specs' static examples (every Mollie payout is
payout_j8NvRAM2WNZtsykpLEX8J; Adyen's transfer has status "string").
Where a flow needs a real answer to go on (an id of its own to look up,
cancel or refetch), the proxy's rewrite hands nginx a provider-shaped
body instead; prism has checked the request all the same.  Adyen's own
"string" status is an unknown outcome: the reconciler sends the same
POST again, which conforms too."""

import itertools
import json

import pytest

from payout_helpers import create, get_payout, post_json, wait_status
from prism import RecordingProxy, prism_server
from provider_standins import Mollie, Site, iban_of
from test_conformance import accepted

assert prism_server  # a fixture, used by name

MOLLIE_KEY = "test_" + "c0nfMollieKey0123456789abcdefg"
MOLLIE_WHSEC = "c0nfMollieWebhookSecret012345678"
BALANCE = "bal_c0nfDefaultBalance1"
ADYEN_KEY = "AQE" + "c0nfAdyenKey0123456789abcdefghijklmnop"
ADYEN_HMAC = "0F" * 32
BALANCE_ACCOUNT = "BA00000000000000000000001"

_n = itertools.count(1)


@pytest.fixture(scope="module")
def env(pg, prism_server):
    e = Site(pg)
    e.mo = e.add(RecordingProxy(prism_server("mollie").port, "mollie"))
    e.ad = e.add(RecordingProxy(prism_server("adyen").port, "adyen"))
    e.start("""
    payout_gateway mollie connector=mollie mode=test url=%s
                   secret_file=%s webhook_secret_file=%s balance=%s
                   timeout=5s;
    payout_gateway adyen connector=adyen mode=test url=%s
                   secret_file=%s webhook_secret_file=%s
                   balance_account=%s timeout=5s;
""" % (e.mo.url, e.key("mollie.key", MOLLIE_KEY),
       e.key("mollie.whsec", MOLLIE_WHSEC), BALANCE, e.ad.url,
       e.key("adyen.key", ADYEN_KEY), e.key("adyen.hmac", ADYEN_HMAC),
       BALANCE_ACCOUNT))
    yield e
    e.close()
    e.mo.assert_clean()
    e.ad.assert_clean()


def checked(proxy, rewrite=None):
    """A test's proxy: rewrite set, clean at the end."""
    proxy.rewrite = rewrite
    yield proxy
    proxy.rewrite = None
    proxy.assert_clean()


@pytest.fixture
def mo(env):
    yield from checked(env.mo, mollie_answers)


@pytest.fixture
def ad(env):
    yield from checked(env.ad)


# -- Mollie ------------------------------------------------------------------

def mollie_answers(ex, body):
    """Each payout an id of its own (prism's example has one for all),
    and the state of the operation: requested, or canceled."""
    out = json.loads(body)
    if ex.method == "POST":
        out.update(id="payout_c0nf%d" % next(_n), status="requested",
                   balanceId=ex.json["balanceId"], amount=ex.json["amount"])
    else:
        out["id"] = ex.path.split("?")[0].split("/")[3]
        out["status"] = "canceled" if ex.method == "DELETE" else "requested"
    return json.dumps(out)


def mollie_headers(x, u=None):
    assert x.headers["authorization"] == "Bearer " + MOLLIE_KEY
    if u is not None:
        assert x.headers["idempotency-key"] == u, x.headers
        assert x.headers["content-type"].startswith("application/json")


def mollie_payout(http, ngx, tenant, mo, amount, currency, bal=None):
    body = {"amount": amount, "currency": currency, "gateway": "mollie",
            "narration": "Weekly seller settlement",
            "recipient_type": "balance"}
    if bal:
        body["balance_id"] = bal
    out = create(http, ngx, tenant, body)
    u = out["payout_uuid"]
    (x,) = accepted([x for x in mo.got("POST", "/v2/payouts")
                     if x.headers.get("idempotency-key") == u], "payout")
    mollie_headers(x, u)
    return u, x


def test_mollie_payout_amounts(mo, env, tenant, http):
    """A balance named by the payout, and the gateway's balance=; two-
    and zero-decimal currencies."""
    ngx = env.ngx
    u, x = mollie_payout(http, ngx, tenant, mo, 250000, "EUR",
                         "bal_c0nfSellerBalance1")
    assert x.json["balanceId"] == "bal_c0nfSellerBalance1"
    assert x.json["amount"] == {"currency": "EUR", "value": "2500.00"}
    assert x.json["description"] == "Weekly seller settlement"
    assert get_payout(http, ngx, tenant, u)["sub_status"] == \
        "pending_promise"
    u, x = mollie_payout(http, ngx, tenant, mo, 1000, "JPY")
    assert x.json["balanceId"] == BALANCE
    assert x.json["amount"] == {"currency": "JPY", "value": "1000"}


def test_mollie_status_and_cancel(mo, env, tenant, http):
    ngx = env.ngx
    u, _ = mollie_payout(http, ngx, tenant, mo, 1250, "EUR")
    pid = get_payout(http, ngx, tenant, u)["gateway_payout_id"]
    assert pid.startswith("payout_c0nf")
    r = http.get(ngx.url("/v1/payouts/%s/status" % u),
                 headers=tenant.headers)
    assert r.status_code == 200, r.text
    for x in accepted(mo.got("GET", "/v2/payouts/" + pid), "lookup"):
        mollie_headers(x)
    r = post_json(http, ngx, tenant, "/v1/payouts/%s/cancel" % u, {})
    assert r.status_code == 200, r.text
    (x,) = accepted(mo.got("DELETE", "/v2/payouts/" + pid), "cancel")
    mollie_headers(x)
    wait_status(http, ngx, tenant, u, "canceled_voided")


def test_mollie_refetch_from_a_webhook(mo, env, tenant, http):
    ngx = env.ngx
    u, _ = mollie_payout(http, ngx, tenant, mo, 990, "EUR")
    pid = get_payout(http, ngx, tenant, u)["gateway_payout_id"]
    before = len(mo.got("GET", "/v2/payouts/" + pid))
    body = json.dumps({"resource": "event", "id": "event_c0nf%d" % next(_n),
                       "type": "payout.initiated", "entityId": pid,
                       "createdAt": "2026-08-21T10:00:00+00:00"},
                      separators=(",", ":")).encode()
    r = http.post(ngx.url("/hooks/mollie"), data=body, timeout=10,
                  headers={"Content-Type": "application/json",
                           "X-Mollie-Signature":
                               Mollie(whsec=MOLLIE_WHSEC).sign(body)})
    assert r.status_code < 300, r.text
    def looks(xs):
        return [x for x in xs if x.method == "GET"
                and x.path.startswith("/v2/payouts/" + pid)]
    xs = mo.wait(lambda xs: len(looks(xs)) > before and looks(xs),
                 timeout=10, what="the refetch")
    accepted(xs, "refetch")


# -- Adyen -------------------------------------------------------------------

def adyen_answers(ex, body):
    """A transfer of its own, authorised (prism's has status "string")."""
    out = json.loads(body)
    if ex.method == "POST":
        out.update(id="C0NF%012d" % next(_n), status="authorised",
                   reference=ex.json["reference"], amount=ex.json["amount"])
    else:
        out.update(id=ex.path.split("/")[2], status="authorised")
    return json.dumps(out)


def adyen_transfer(http, ngx, tenant, ad, **kw):
    body = {"amount": 2500, "currency": "EUR", "gateway": "adyen",
            "narration": "Weekly seller settlement",
            "bank_account_number": iban_of(next(_n)),
            "bank_account_name": "A. Klaassen", "bank_code": "ABNANL2A",
            "country": "NL"}
    body.update(kw)
    out = create(http, ngx, tenant, body)
    u = out["payout_uuid"]
    xs = accepted([x for x in ad.got("POST", "/transfers")
                   if x.json.get("reference") == u], "transfer")
    for x in xs:
        assert x.headers["x-api-key"] == ADYEN_KEY
        assert "authorization" not in x.headers
        assert x.headers["idempotency-key"] == u
    return out, xs


def test_adyen_iban_transfer_and_status(ad, env, tenant, http):
    ad.rewrite = adyen_answers
    ngx = env.ngx
    out, (x,) = adyen_transfer(http, ngx, tenant, ad)
    u = out["payout_uuid"]
    assert out["status"] == "pending_promise", out
    b = x.json
    assert b["amount"] == {"value": 2500, "currency": "EUR"}
    assert b["balanceAccountId"] == BALANCE_ACCOUNT
    assert b["category"] == "bank" and b["reference"] == u
    assert b["counterparty"]["bankAccount"]["accountIdentification"][
        "type"] == "iban"
    tid = get_payout(http, ngx, tenant, u)["gateway_payout_id"]
    r = http.get(ngx.url("/v1/payouts/%s/status" % u),
                 headers=tenant.headers)
    assert r.status_code == 200, r.text
    for x in accepted(ad.got("GET", "/transfers/" + tid), "lookup"):
        assert x.headers["x-api-key"] == ADYEN_KEY


def test_adyen_local_scheme(ad, env, tenant, http):
    ad.rewrite = adyen_answers
    out, (x,) = adyen_transfer(http, env.ngx, tenant, ad, currency="GBP",
                               bank_account_number="%08d" % next(_n),
                               bank_code="040004", country="GB")
    ident = x.json["counterparty"]["bankAccount"]["accountIdentification"]
    assert ident["type"] == "ukLocal", ident
    assert ident["sortCode"] == "040004", ident


def test_adyen_unknown_outcome_is_sent_again(ad, env, tenant, http):
    """prism's own answer (status "string"): unknown; the reconciler
    sends the same POST with the same key."""
    out, _ = adyen_transfer(http, env.ngx, tenant, ad)
    u = out["payout_uuid"]
    assert out["status"] == "pending_created", out

    def sent(xs):
        return [x for x in xs if x.method == "POST"
                and x.path == "/transfers" and x.json.get("reference") == u]
    xs = ad.wait(lambda xs: len(sent(xs)) >= 2 and sent(xs), timeout=10,
                 what="the reconciler's second send")
    accepted(xs, "transfer")
    assert {x.headers["idempotency-key"] for x in xs} == {u}
    assert len({x.body for x in xs}) == 1
