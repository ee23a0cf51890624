"""The send path's branches (issue 8): a rejection at initiation answers
400 gateway_rejected naming the payout, replays included; a Paystack
gateway enrolls the destination before the first transfer and reuses the
code; a transfer waiting for an OTP keeps its payout pending_created with
next_action {"type": "otp_required"} until POST /payouts/{uuid}/finalize; a refused
secret key ends the payout canceled_failure with one [error] naming the
gateway and never the key.

Paystack is played by a small loopback stand-in (PaystackStandIn): the
broad provider flows are the e2e suites' (test_prism.py and others)."""

import http.server
import json
import os
import re
import threading
import urllib.parse
import uuid as uuidlib

import pytest

from conftest import free_port
from payout_helpers import (bank, create, get_payout, post_json, sbx,
                            wait_for)

assert sbx  # a fixture, used by name

KEY = "sk_test_" + "s3nd" * 8       # the stand-in's secret key
OTP = "123456"


class StandIn:
    """A loopback provider: records every request (method, path,
    headers, parsed body) and answers with self.answer(req, body), which
    gives first what self.answers holds for the path (self.given())."""

    def __init__(self):
        self.port = free_port()
        self.requests = []              # (method, path, headers, body)
        self.answers = {}               # path prefix -> (status, body)
        self.lock = threading.Lock()
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                stand_in.handle(self, None)

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                stand_in.handle(self, self.rfile.read(n))

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1",
                                                       self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def calls(self, path, **match):
        """The requests to path whose body has the fields of match: the
        database is shared, so a reconciler may send other tests'
        payouts here too."""
        with self.lock:
            return [r for r in self.requests if r[1] == path
                    and all((r[3] or {}).get(k) == v
                            for k, v in match.items())]

    def parse(self, raw):
        return json.loads(raw) if raw else None

    def handle(self, req, raw):
        body = self.parse(raw)
        with self.lock:
            self.requests.append((req.command, req.path, dict(req.headers),
                                  body))
            status, out = self.answer(req, body)
        data = json.dumps(out).encode()
        req.send_response(status)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        req.wfile.write(data)

    def given(self, path):
        for prefix, answer in self.answers.items():
            if path.startswith(prefix):
                return answer
        return None


class PaystackStandIn(StandIn):
    """Paystack's /transferrecipient, /transfer,
    /transfer/finalize_transfer and /transfer/verify/{reference}; a
    transfer starts in transfer_status ("pending", "otp")."""

    def __init__(self):
        super().__init__()
        self.transfers = {}             # reference -> transfer object
        self.recipients = {}            # account number -> code
        self.transfer_status = "pending"

    def answer(self, req, body):
        path = req.path
        if req.headers.get("Authorization") != "Bearer " + KEY:
            return 401, {"status": False, "message": "Invalid key"}
        given = self.given(path)
        if given:
            return given
        if path == "/transferrecipient":
            code = self.recipients.setdefault(
                body["account_number"],
                "RCP_" + uuidlib.uuid4().hex[:14])
            return 201, {"status": True,
                         "message": "Transfer recipient created "
                                    "successfully",
                         "data": {"recipient_code": code, "active": True,
                                  "currency": body["currency"],
                                  "name": body["name"],
                                  "type": body["type"]}}
        if path == "/transfer":
            t = self.transfers.setdefault(body["reference"], {
                "reference": body["reference"], "amount": body["amount"],
                "currency": body["currency"],
                "recipient": body["recipient"], "source": "balance",
                "status": self.transfer_status,
                "transfer_code": "TRF_" + uuidlib.uuid4().hex[:14]})
            return 200, {"status": True,
                         "message": "Transfer requires OTP to continue"
                         if t["status"] == "otp"
                         else "Transfer has been queued", "data": t}
        if path == "/transfer/finalize_transfer":
            t = [t for t in self.transfers.values()
                 if t["transfer_code"] == body["transfer_code"]]
            if not t:
                return 400, {"status": False,
                             "message": "Transfer not found"}
            if body["otp"] != OTP:
                return 400, {"status": False, "message": "Invalid OTP"}
            t[0]["status"] = "success"
            return 200, {"status": True, "message": "Transfer has been "
                         "queued", "data": t[0]}
        if path.startswith("/transfer/verify/"):
            t = self.transfers.get(path.rsplit("/", 1)[1])
            if t is None:
                return 404, {"status": False,
                             "message": "Transfer not found"}
            return 200, {"status": True, "message": "Transfer retrieved",
                         "data": t}
        return 404, {"status": False, "message": "No such route"}


class StripeStandIn(StandIn):
    """Stripe's POST /v1/transfers, form-encoded: a transfer object."""

    def parse(self, raw):
        return dict(urllib.parse.parse_qsl(raw.decode())) if raw else None

    def answer(self, req, body):
        given = self.given(req.path)
        if given:
            return given
        if req.path == "/v1/transfers":
            return 200, {"id": "tr_" + uuidlib.uuid4().hex[:16],
                         "object": "transfer",
                         "amount": int(body["amount"]),
                         "currency": body["currency"],
                         "destination": body["destination"],
                         "metadata": {"payout_uuid":
                                      body["metadata[payout_uuid]"]},
                         "reversed": False}
        return 404, {"error": {"type": "invalid_request_error",
                               "message": "Unrecognized request URL"}}


def secret_file(tmp_path, name, value):
    path = tmp_path / name
    path.write_text(value + "\n")
    os.chmod(path, 0o600)
    return path


def provider_nginx(nginx_factory, tmp_path, name, stand_in):
    """nginx with gateway name (connector name) on the stand-in; the
    reconciler looks at a payout left pending_created after 1 s."""
    return nginx_factory(http="""
    payout_gateway %s connector=%s mode=test url=%s
                   secret_file=%s timeout=3s;
    payout_reconcile_interval 300ms;
    payout_reconcile_grace 1s;
""" % (name, name, stand_in.url, secret_file(tmp_path, name + ".key", KEY)))


@pytest.fixture
def paystack(nginx_factory, tmp_path):
    """(nginx with gateway "paystack" on the stand-in, the stand-in)."""
    stand_in = PaystackStandIn()
    yield provider_nginx(nginx_factory, tmp_path, "paystack", stand_in), \
        stand_in
    stand_in.stop()


@pytest.fixture
def stripe(nginx_factory, tmp_path):
    """(nginx with gateway "stripe" on the stand-in, the stand-in)."""
    stand_in = StripeStandIn()
    yield provider_nginx(nginx_factory, tmp_path, "stripe", stand_in), \
        stand_in
    stand_in.stop()


def new_account():
    """A destination of this test alone."""
    return "%010d" % (uuidlib.uuid4().int % 10 ** 10)


def paystack_bank(account, **kw):
    return bank(account, gateway="paystack", currency="NGN", **kw)


def read_log(ngx):
    with open(ngx.error_log, errors="replace") as f:
        return f.read()


def finalize(http, ngx, tenant, u, body):
    return post_json(http, ngx, tenant, "/v1/payouts/%s/finalize" % u, body)


def enrolled_recipient(http, ngx, tenant, pg, code, account):
    """A Paystack recipient that already has its code."""
    r = post_json(http, ngx, tenant, "/v1/payout-recipients",
                  {"gateway": "paystack", "name": "Ada Obi",
                   "bank_account_number": account, "bank_code": "058",
                   "bank_account_name": "ADA OBI"})
    assert r.status_code in (200, 201), r.text
    u = r.json()["uuid"]
    pg.sql("UPDATE recipients SET gateway_recipient_code = %s "
           "WHERE uuid = %s", (code, u))
    return u


# rejected at initiation: seed 004's 400 --

def test_rejected_create_is_400_and_so_is_its_replay(sbx, pg, tenant, http):
    body = bank("5550000002", idempotency_key="rej-" + uuidlib.uuid4().hex)
    err = create(http, sbx, tenant, body, status=400)["error"]
    assert err["code"] == "gateway_rejected", err
    assert err["sub_status"] == "canceled_rejected"
    assert err["failure_reason"] == "invalid_account"
    assert err["resource_created"] is True
    u = err["payout_uuid"]
    assert get_payout(http, sbx, tenant, u)["sub_status"] \
        == "canceled_rejected"

    again = create(http, sbx, tenant, body, status=400)["error"]
    assert again["code"] == "gateway_rejected"
    assert again["payout_uuid"] == u
    assert again["sub_status"] == "canceled_rejected"
    assert again["failure_reason"] == "invalid_account"
    assert again["resource_created"] is False
    assert pg.sql("SELECT count(*) FROM payouts WHERE uuid = %s",
                  (u,))[0][0] == 1


# enroll before initiate --

def test_enroll_then_transfer_with_the_code(paystack, pg, tenant, http):
    ngx, ps = paystack
    acct = new_account()
    out = create(http, ngx, tenant, paystack_bank(acct))
    assert out["status"] == "pending_promise", out
    [enroll] = ps.calls("/transferrecipient", account_number=acct)
    assert enroll[3] == {"type": "nuban", "name": "JOHN SELLER",
                         "account_number": acct, "bank_code": "058",
                         "currency": "NGN"}
    assert enroll[2]["Authorization"] == "Bearer " + KEY
    code = ps.recipients[acct]
    [transfer] = ps.calls("/transfer", reference=out["payout_uuid"])
    assert transfer[3]["recipient"] == code
    assert pg.sql("SELECT gateway_recipient_code FROM recipients "
                  "WHERE uuid = %s", (out["recipient_uuid"],)) == [(code,)]

    # the second payout to that recipient reuses the code
    again = create(http, ngx, tenant, {
        "amount": 700, "currency": "NGN", "gateway": "paystack",
        "recipient_uuid": out["recipient_uuid"]})
    assert again["status"] == "pending_promise", again
    assert len(ps.calls("/transferrecipient", account_number=acct)) == 1
    [second] = ps.calls("/transfer", reference=again["payout_uuid"])
    assert second[3]["recipient"] == code


def test_refused_destination_is_rejected(paystack, pg, tenant, http):
    ngx, ps = paystack
    ps.answers["/transferrecipient"] = (400, {
        "status": False, "message": "Account number is invalid"})
    err = create(http, ngx, tenant, paystack_bank(new_account()),
                 status=400)["error"]
    assert err["code"] == "gateway_rejected", err
    assert err["sub_status"] == "canceled_rejected"
    assert err["failure_reason"] == "Account number is invalid"
    assert ps.calls("/transfer", reference=err["payout_uuid"]) == []


def test_enrollment_without_answer_stays_created(paystack, pg, tenant,
                                                 http):
    ngx, ps = paystack
    ps.answers["/transferrecipient"] = (502, {"status": False,
                                              "message": "Bad gateway"})
    out = create(http, ngx, tenant, paystack_bank(new_account()))
    assert out["status"] == "pending_created", out
    assert ps.calls("/transfer", reference=out["payout_uuid"]) == []
    assert pg.sql("SELECT gateway_recipient_code FROM recipients "
                  "WHERE uuid = %s", (out["recipient_uuid"],)) == [(None,)]


def test_reconciler_enrolls_again(paystack, pg, tenant, http):
    """No answer to the enrollment: the reconciler finds no transfer
    (/transfer/verify: 404) and sends the payout again, through the same
    enrollment, once Paystack answers."""
    ngx, ps = paystack
    ps.answers["/transferrecipient"] = (502, {"status": False,
                                              "message": "Bad gateway"})
    acct = new_account()
    out = create(http, ngx, tenant, paystack_bank(acct))
    assert out["status"] == "pending_created", out
    u = out["payout_uuid"]
    with ps.lock:
        del ps.answers["/transferrecipient"]

    p = wait_for(lambda: (lambda p: p if p["sub_status"] != "pending_created"
                          else None)(get_payout(http, ngx, tenant, u)),
                 timeout=15, what="the reconciler's send")
    assert p["sub_status"] == "pending_promise", p
    assert len(ps.calls("/transferrecipient", account_number=acct)) >= 2
    # each send, however many, is the same transfer: Paystack's
    # idempotency is the reference (the reconciler may also send other
    # tests' payouts of the shared database)
    transfers = ps.calls("/transfer", reference=u)
    assert transfers
    assert {t[3]["recipient"] for t in transfers} == {ps.recipients[acct]}


def test_connected_account_is_paid_without_enrollment(stripe, pg, tenant,
                                                      http):
    """A Stripe connected account is the destination itself: nothing to
    enroll, the transfer goes straight to it."""
    ngx, st = stripe
    out = create(http, ngx, tenant, {
        "amount": 1500, "currency": "USD", "gateway": "stripe",
        "account_id": "acct_1Nnlp9GPxmnHQRkJ", "name": "Shop"})
    assert out["status"] == "success", out
    [call] = st.calls("/v1/transfers",
                      **{"metadata[payout_uuid]": out["payout_uuid"]})
    assert [r for r in st.requests if r[1].startswith("/v1/accounts")] == []
    assert call[3]["destination"] == "acct_1Nnlp9GPxmnHQRkJ"
    assert call[3]["metadata[payout_uuid]"] == out["payout_uuid"]
    assert call[3]["currency"] == "usd"
    assert call[2]["Idempotency-Key"] == out["payout_uuid"]
    assert "Stripe-Account" not in call[2]
    assert out["gateway_payout_id"].startswith("tr_")


@pytest.mark.parametrize("body", [
    # a bank account with no connected account to hold it (no account=)
    {"bank_account_number": "000123456789", "bank_account_name": "JENNY",
     "bank_code": "110000000", "country": "US"},
    # a destination Stripe does not pay at all
    {"mobile_money_number": "233241000001", "mobile_money_provider": "MTN",
     "name": "Ama"}])
def test_unsendable_destination_is_rejected_at_once(stripe, pg, tenant, http,
                                                    body):
    """What the connector cannot build is never sent and never left for
    the reconciler: the payout is rejected, the create answers 400."""
    ngx, st = stripe
    body = dict(body, amount=1500, currency="USD", gateway="stripe")
    err = create(http, ngx, tenant, body, status=400)["error"]
    assert err["code"] == "gateway_rejected", err
    assert err["sub_status"] == "canceled_rejected"
    assert err["failure_reason"] == "unsupported_destination"
    assert st.requests == []
    assert "nothing was sent" in read_log(ngx)


# the OTP --

def otp_payout(paystack, pg, tenant, http):
    ngx, ps = paystack
    ps.transfer_status = "otp"
    acct = new_account()
    r = enrolled_recipient(http, ngx, tenant, pg, "RCP_known", acct)
    out = create(http, ngx, tenant, {"amount": 5000, "currency": "NGN",
                                     "gateway": "paystack",
                                     "recipient_uuid": r})
    assert out["status"] == "pending_created", out
    assert out.get("next_action") == {"type": "otp_required"}, out
    assert ps.calls("/transferrecipient", account_number=acct) == []
    [transfer] = ps.calls("/transfer", reference=out["payout_uuid"])
    assert transfer[3]["recipient"] == "RCP_known"
    return out["payout_uuid"]


def test_otp_then_finalize(paystack, pg, tenant, http):
    ngx, ps = paystack
    u = otp_payout(paystack, pg, tenant, http)
    p = get_payout(http, ngx, tenant, u)
    assert p["sub_status"] == "pending_created"
    assert p["next_action"] == {"type": "otp_required"}
    code = ps.transfers[u]["transfer_code"]
    assert p["gateway_payout_id"] == code

    # a wrong code: 400 with the provider's reason, nothing changes
    r = finalize(http, ngx, tenant, u, {"otp": "999999"})
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == "gateway_rejected"
    assert err["failure_reason"] == "Invalid OTP"
    assert err["payout_uuid"] == u
    assert err["sub_status"] == "pending_created"
    p = get_payout(http, ngx, tenant, u)
    assert (p["sub_status"], p["next_action"]) \
        == ("pending_created", {"type": "otp_required"})

    r = finalize(http, ngx, tenant, u, {"otp": OTP})
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["uuid"] == u
    assert p["sub_status"] == "success"
    assert p["next_action"] is None
    calls = ps.calls("/transfer/finalize_transfer")
    assert [c[3] for c in calls] == [
        {"transfer_code": code, "otp": "999999"},
        {"transfer_code": code, "otp": OTP}]

    # done: no second finalize
    r = finalize(http, ngx, tenant, u, {"otp": OTP})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "invalid_state"

    log = read_log(ngx)
    assert OTP not in log and "999999" not in log
    assert KEY not in log


@pytest.mark.parametrize("body,field", [
    ({"otp": "12a456"}, "otp"), ({"otp": "123"}, "otp"),
    ({"otp": "12345678901"}, "otp"), ({"otp": 123456}, "otp"),
    ({}, "otp"), ({"otp": OTP, "pin": "1"}, "pin")])
def test_finalize_bad_bodies(paystack, pg, tenant, http, body, field):
    ngx, ps = paystack
    u = otp_payout(paystack, pg, tenant, http)
    r = finalize(http, ngx, tenant, u, body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["field"] == field, r.text
    assert ps.calls("/transfer/finalize_transfer") == []
    assert get_payout(http, ngx, tenant, u)["next_action"] == {"type": "otp_required"}


def test_finalize_unknown_other_tenant_and_not_waiting(paystack, pg, tenant,
                                                       tenant_factory,
                                                       http):
    ngx, ps = paystack
    r = finalize(http, ngx, tenant, str(uuidlib.uuid4()), {"otp": OTP})
    assert r.status_code == 404, r.text

    u = otp_payout(paystack, pg, tenant, http)
    other = tenant_factory()
    r = finalize(http, ngx, other, u, {"otp": OTP})
    assert r.status_code == 404, r.text

    # a payout that waits for nothing
    ps.transfer_status = "pending"
    out = create(http, ngx, tenant, {
        "amount": 900, "currency": "NGN", "gateway": "paystack",
        "recipient_uuid": get_payout(http, ngx, tenant,
                                     u)["recipient_uuid"]})
    assert out["status"] == "pending_promise", out
    r = finalize(http, ngx, tenant, out["payout_uuid"], {"otp": OTP})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "invalid_state"
    assert ps.calls("/transfer/finalize_transfer") == []


def test_finalize_without_answer_is_503(paystack, pg, tenant, http):
    ngx, ps = paystack
    u = otp_payout(paystack, pg, tenant, http)
    ps.answers["/transfer/finalize_transfer"] = (503, {"status": False,
                                                       "message": "Down"})
    r = finalize(http, ngx, tenant, u, {"otp": OTP})
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "gateway_unavailable"
    assert r.headers["Retry-After"]
    p = get_payout(http, ngx, tenant, u)
    assert (p["sub_status"], p["next_action"]) \
        == ("pending_created", {"type": "otp_required"})


def test_finalize_with_a_refused_key_is_502(paystack, pg, tenant, http):
    ngx, ps = paystack
    u = otp_payout(paystack, pg, tenant, http)
    ps.answers["/transfer/finalize_transfer"] = (401, {
        "status": False, "message": "Invalid key"})
    r = finalize(http, ngx, tenant, u, {"otp": OTP})
    assert r.status_code == 502, r.text
    assert r.json()["error"]["code"] == "gateway_auth_failed"
    p = get_payout(http, ngx, tenant, u)
    assert (p["sub_status"], p["next_action"]) \
        == ("pending_created", {"type": "otp_required"})
    log = read_log(ngx)
    assert re.search(r'\[error\].*gateway "paystack" refused its secret '
                     r'key .*on the finalization of payout %s' % u, log)
    assert KEY not in log and OTP not in log


def test_finalize_on_sandbox_is_not_supported(sbx, pg, tenant, http):
    """A sandbox payout never waits for an OTP: 409 before any call."""
    out = create(http, sbx, tenant, bank("5550000007"))
    r = finalize(http, sbx, tenant, out["payout_uuid"], {"otp": OTP})
    assert r.status_code == 409, r.text


# a refused secret key --

def test_refused_key_is_canceled_failure(paystack, pg, tenant, http):
    ngx, ps = paystack
    ps.answers["/"] = (401, {"status": False, "message": "Invalid key"})
    out = create(http, ngx, tenant, paystack_bank(new_account()))
    assert out["status"] == "canceled_failure", out
    assert out["failure_reason"] == "gateway_auth_failed"
    assert ps.calls("/transfer", reference=out["payout_uuid"]) == []

    u = out["payout_uuid"]
    log = wait_for(lambda: (lambda t: t if u in t else None)(read_log(ngx)),
                   what="the [error]")
    lines = [line for line in log.splitlines()
             if "refused its secret key" in line and u in line]
    assert len(lines) == 1, lines
    assert re.search(r'\[error\].*gateway "paystack"', lines[0]), lines
    assert KEY not in log and KEY[8:] not in log


def test_refused_key_at_transfer(paystack, pg, tenant, http):
    ngx, ps = paystack
    r = enrolled_recipient(http, ngx, tenant, pg, "RCP_known",
                           new_account())
    ps.answers["/transfer"] = (403, {"status": False,
                                     "message": "Forbidden"})
    out = create(http, ngx, tenant, {"amount": 5000, "currency": "NGN",
                                     "gateway": "paystack",
                                     "recipient_uuid": r})
    assert out["status"] == "canceled_failure", out
    assert out["failure_reason"] == "gateway_auth_failed"
    assert re.search(r'\[error\].*gateway "paystack" refused its secret '
                     r'key .* payout %s' % out["payout_uuid"],
                     read_log(ngx))
    assert KEY not in read_log(ngx)

