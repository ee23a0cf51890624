"""Every request the Paystack and Stripe connectors send, for every
operation, driven through the real API, is accepted by the provider's
official OpenAPI spec (issue 8, Tests): nginx's gateways point at
RecordingProxies in front of prism (prism.py), and each exchange must be
a 2xx without sl-violations.  The headers the issue requires are checked
on the recorded requests.

prism answers static examples (a transfer's status "string"), which the
codecs read as an unknown outcome.  Where a flow needs a real answer to
go on (an id to look up or cancel, an OTP to finalize), the proxy's
rewrite hands nginx a provider-shaped body instead; prism has checked
the request all the same."""

import itertools
import json
import urllib.parse
import uuid as uuidlib

import pytest

from payout_helpers import create, get_payout, post_json
from prism import RecordingProxy, prism_server
from provider_standins import Site

assert prism_server  # a fixture, used by name

PAYSTACK_KEY = "sk_test_" + "c0nf" * 10
STRIPE_KEY = "sk_test_" + "c0nfStripeKey0123456789A"
STRIPE_WHSEC = "whsec_" + "c0nfWebhookSecret0123456789abcde"
ACCT = "acct_1C0nfBankOwner001"
FORM = "application/x-www-form-urlencoded"
VERSION = "2023-09-12"

_n = itertools.count(1)


@pytest.fixture(scope="module")
def env(pg, prism_server):
    e = Site(pg)
    e.ps = e.add(RecordingProxy(prism_server("paystack").port, "paystack"))
    e.st = e.add(RecordingProxy(prism_server("stripe").port, "stripe"))
    e.start("""
    payout_gateway paystack connector=paystack mode=test url=%s
                   secret_file=%s timeout=5s;
    payout_gateway stripe connector=stripe mode=test url=%s
                   secret_file=%s webhook_secret_file=%s account=%s
                   timeout=5s;
""" % (e.ps.url, e.key("paystack.key", PAYSTACK_KEY), e.st.url,
       e.key("stripe.key", STRIPE_KEY), e.key("stripe.whsec", STRIPE_WHSEC),
       ACCT))
    yield e
    e.close()
    e.ps.assert_clean()
    e.st.assert_clean()


@pytest.fixture
def ps(env):
    env.ps.rewrite = None
    yield env.ps
    env.ps.rewrite = None
    env.ps.assert_clean()


@pytest.fixture
def st(env):
    env.st.rewrite = None
    yield env.st
    env.st.rewrite = None
    env.st.assert_clean()


def accepted(xs, what):
    assert xs, "no %s reached the provider" % what
    for x in xs:
        assert x.accepted and not x.stand_in, "%s: %r" % (what, x)
    return xs


def digits(n=10):
    return "%0*d" % (n, uuidlib.uuid4().int % 10 ** n)


# -- Paystack --------------------------------------------------------------

def paystack_answers(ex, body):
    """Provider-shaped answers: a recipient code, a pending transfer."""
    out = json.loads(body)
    if ex.path == "/transferrecipient":
        out["data"]["recipient_code"] = "RCP_conf%d" % next(_n)
    elif ex.path == "/transfer":
        req = ex.json
        out["data"].update(reference=req["reference"],
                           amount=req["amount"], currency=req["currency"],
                           transfer_code="TRF_conf%d" % next(_n),
                           status="pending")
    return json.dumps(out)


def test_paystack_enroll(ps, env, tenant, http):
    ps.rewrite = paystack_answers
    ngx = env.ngx
    number = digits()
    r = post_json(http, ngx, tenant, "/v1/payout-recipients", {
        "gateway": "paystack", "bank_account_number": number,
        "bank_account_name": "JOHN SELLER", "bank_code": "058"})
    assert r.status_code == 201, r.text
    ru = r.json()["uuid"]
    r = post_json(http, ngx, tenant, "/v1/payout-recipients/%s/accounts"
                  % ru, {"currency": "NGN"})
    assert r.status_code == 201, r.text
    (x,) = accepted([x for x in ps.got("POST", "/transferrecipient")
                     if x.json["account_number"] == number], "enrollment")
    assert x.headers["authorization"] == "Bearer " + PAYSTACK_KEY
    assert x.headers["content-type"].startswith("application/json")
    assert x.json["type"] == "nuban" and x.json["currency"] == "NGN"


def test_paystack_transfer_status_and_reconcile(ps, env, tenant, http):
    ps.rewrite = paystack_answers
    ngx = env.ngx
    number = digits()
    out = create(http, ngx, tenant, {
        "amount": 150000, "currency": "NGN", "gateway": "paystack",
        "narration": "Weekly seller settlement",
        "bank_account_number": number, "bank_account_name": "JOHN SELLER",
        "bank_code": "058"})
    u = out["payout_uuid"]
    enrolls = [x for x in ps.got("POST", "/transferrecipient")
               if x.json["account_number"] == number]
    accepted(enrolls, "enrollment")
    (t,) = accepted([x for x in ps.got("POST", "/transfer")
                     if x.path == "/transfer"
                     and x.json["reference"] == u], "transfer")
    assert t.json["amount"] == 150000 and isinstance(t.json["amount"], int)
    assert t.json["source"] == "balance"
    assert t.json["reference"] == u
    assert t.json["currency"] == "NGN"
    assert t.json["reason"] == "Weekly seller settlement"

    # live status and the reconciler both verify by our reference
    r = http.get(ngx.url("/v1/payouts/%s/status" % u),
                 headers=tenant.headers)
    assert r.status_code == 200, r.text
    verify = "/transfer/verify/" + u
    ps.wait(lambda xs: len([x for x in xs if x.path == verify]) >= 2,
            timeout=10, what="two verifies (status, reconciler)")
    accepted(ps.got("GET", verify), "verify")


def test_paystack_unknown_answer_is_verified(ps, env, tenant, http):
    """prism's own answer (status "string"): unknown, the reconciler
    verifies; that call conforms too."""
    out = create(http, env.ngx, tenant, {
        "amount": 1000, "currency": "NGN", "gateway": "paystack",
        "bank_account_number": digits(), "bank_account_name": "JOHN SELLER",
        "bank_code": "058"})
    u = out["payout_uuid"]
    assert out["status"] == "pending_created", out
    ps.wait(lambda xs: [x for x in xs if x.path == "/transfer/verify/" + u],
            timeout=10, what="the reconciler's verify")
    accepted(ps.got("GET", "/transfer/verify/" + u), "verify")


def test_paystack_finalize(ps, env, tenant, http):
    def otp(ex, body):
        out = json.loads(body)
        if ex.path == "/transfer":
            out["data"].update(reference=ex.json["reference"],
                               status="otp", transfer_code="TRF_otp%d"
                               % next(_n))
            return json.dumps(out)
        return paystack_answers(ex, body)

    ps.rewrite = otp
    ngx = env.ngx
    out = create(http, ngx, tenant, {
        "amount": 1000, "currency": "NGN", "gateway": "paystack",
        "bank_account_number": digits(), "bank_account_name": "JOHN SELLER",
        "bank_code": "058"})
    u = out["payout_uuid"]
    assert get_payout(http, ngx, tenant, u)["next_action"] == {"type": "otp_required"}
    r = post_json(http, ngx, tenant, "/v1/payouts/%s/finalize" % u,
                  {"otp": "123456"})
    assert r.status_code == 200, r.text
    code = get_payout(http, ngx, tenant, u)["gateway_payout_id"]
    assert code.startswith("TRF_otp")
    (x,) = accepted([x for x in ps.got("POST", "/transfer/finalize_transfer")
                     if x.json["transfer_code"] == code], "finalize")
    assert x.json["otp"] == "123456"


# -- Stripe ------------------------------------------------------------------

def stripe_answers(ex, body):
    """Objects with ids and states the codec can act on."""
    out = json.loads(body)
    p = ex.path
    u = form_of(ex).get("metadata[payout_uuid]")
    if p.endswith("/external_accounts"):
        out.update(id="ba_conf%d" % next(_n), object="bank_account")
    elif p == "/v1/payouts":
        out.update(id="po_conf%d" % next(_n), object="payout",
                   status="pending", metadata={"payout_uuid": u},
                   reversed_by=None)
    elif p == "/v1/transfers":
        out.update(id="tr_conf%d" % next(_n), object="transfer",
                   reversed=False, metadata={"payout_uuid": u})
    elif p.endswith("/cancel"):
        out.update(id=p.split("/")[3], object="payout", status="canceled",
                   reversed_by=None)
    elif p.startswith("/v1/payouts/"):
        out.update(id=p.split("/")[3], object="payout", status="pending",
                   reversed_by=None)
    elif p.startswith("/v1/transfers/"):
        out.update(id=p.split("/")[3], object="transfer", reversed=False)
    return json.dumps(out)


def form_of(x):
    return dict(urllib.parse.parse_qsl(x.body.decode(),
                                       keep_blank_values=True))


def stripe_post_headers(x, key):
    assert x.headers["content-type"] == FORM, x.headers
    assert x.headers["idempotency-key"] == key, x.headers
    assert x.headers["stripe-version"] == VERSION, x.headers
    assert x.headers["authorization"] == "Bearer " + STRIPE_KEY


def test_stripe_enroll(st, env, tenant, http):
    st.rewrite = stripe_answers
    ngx = env.ngx
    r = post_json(http, ngx, tenant, "/v1/payout-recipients", {
        "gateway": "stripe", "bank_account_number": "000" + digits(9),
        "bank_account_name": "JENNY ROSEN", "bank_code": "110000000",
        "country": "US"})
    assert r.status_code == 201, r.text
    ru = r.json()["uuid"]
    r = post_json(http, ngx, tenant, "/v1/payout-recipients/%s/accounts"
                  % ru, {"currency": "USD"})
    assert r.status_code == 201, r.text
    (x,) = accepted([x for x in st.got("POST", "/v1/accounts/%s/"
                                       "external_accounts" % ACCT)
                     if form_of(x)["metadata[recipient_uuid]"] == ru],
                    "enrollment")
    stripe_post_headers(x, "enroll-" + ru)
    f = form_of(x)
    assert f["external_account[country]"] == "US"
    assert f["external_account[currency]"] == "usd"


def test_stripe_bank_payout_status_and_cancel(st, env, tenant, http):
    st.rewrite = stripe_answers
    ngx = env.ngx
    out = create(http, ngx, tenant, {
        "amount": 2500, "currency": "USD", "gateway": "stripe",
        "narration": "Weekly seller settlement",
        "bank_account_number": "000" + digits(9),
        "bank_account_name": "JENNY ROSEN", "bank_code": "110000000",
        "country": "US"})
    u = out["payout_uuid"]
    assert out["status"] == "pending_promise", out
    (x,) = accepted([x for x in st.got("POST", "/v1/payouts")
                     if x.path == "/v1/payouts"
                     and form_of(x).get("metadata[payout_uuid]") == u],
                    "payout")
    stripe_post_headers(x, u)
    assert x.headers["stripe-account"] == ACCT
    f = form_of(x)
    assert f["currency"] == "usd" and f["amount"] == "2500"
    assert f["destination"].startswith("ba_conf")
    po = get_payout(http, ngx, tenant, u)["gateway_payout_id"]
    assert po.startswith("po_conf")

    r = http.get(ngx.url("/v1/payouts/%s/status" % u),
                 headers=tenant.headers)
    assert r.status_code == 200, r.text
    looks = accepted(st.got("GET", "/v1/payouts/" + po), "payout lookup")
    for x in looks:
        assert x.headers["stripe-account"] == ACCT
        assert x.headers["stripe-version"] == VERSION
        assert "idempotency-key" not in x.headers

    r = post_json(http, ngx, tenant, "/v1/payouts/%s/cancel" % u, {})
    assert r.status_code == 200, r.text
    (x,) = accepted(st.got("POST", "/v1/payouts/%s/cancel" % po), "cancel")
    stripe_post_headers(x, "cancel-" + u)
    assert x.headers["stripe-account"] == ACCT


def test_stripe_transfer_and_lookup(st, env, tenant, http):
    st.rewrite = stripe_answers
    ngx = env.ngx
    acct = "acct_1C0nf" + digits(12)
    out = create(http, ngx, tenant, {
        "amount": 2500, "currency": "EUR", "gateway": "stripe",
        "narration": "Weekly seller settlement",
        "recipient_type": "connected_account", "account_id": acct})
    u = out["payout_uuid"]
    (x,) = accepted([x for x in st.got("POST", "/v1/transfers")
                     if form_of(x).get("metadata[payout_uuid]") == u],
                    "transfer")
    stripe_post_headers(x, u)
    assert "stripe-account" not in x.headers
    f = form_of(x)
    assert f["destination"] == acct and f["currency"] == "eur"
    assert f["transfer_group"] == u
    tr = get_payout(http, ngx, tenant, u)["gateway_payout_id"]
    assert tr.startswith("tr_conf")

    r = http.get(ngx.url("/v1/payouts/%s/status" % u),
                 headers=tenant.headers)
    assert r.status_code == 200, r.text
    for x in accepted(st.got("GET", "/v1/transfers/" + tr),
                      "transfer lookup"):
        assert "stripe-account" not in x.headers


def test_stripe_unknown_answer_is_sent_again(st, env, tenant, http):
    """prism's own answers: a bank account "string", then a payout of
    status "string", an unknown outcome; the reconciler sends the same
    POST with the same key, which conforms too.  (prism's transfer is a
    readable transfer, a success: nothing to send again.)"""
    out = create(http, env.ngx, tenant, {
        "amount": 700, "currency": "USD", "gateway": "stripe",
        "bank_account_number": "000" + digits(9),
        "bank_account_name": "JENNY ROSEN", "bank_code": "110000000",
        "country": "US"})
    u = out["payout_uuid"]
    assert out["status"] == "pending_created", out

    def sent(xs):
        return [x for x in xs if x.path == "/v1/payouts"
                and form_of(x).get("metadata[payout_uuid]") == u]
    xs = st.wait(lambda xs: len(sent(xs)) >= 2 and sent(xs), timeout=10,
                 what="the reconciler's second send")
    accepted(xs, "payout")
    assert {x.headers["idempotency-key"] for x in xs} == {u}
    assert {x.headers["stripe-account"] for x in xs} == {ACCT}
    assert len({x.body for x in xs}) == 1
