"""POST /v1/payout-recipients/{uuid}/accounts (issue 8,
enroll_disburse_account): the recipient's destination is registered at
its gateway once, the gateway's code is stored on the recipient and
shown as gateway_recipient_code; a second call makes no provider call.
With the sandbox (POST /sandbox/recipients), and a Stripe gateway on a
dead loopback port for what the sandbox cannot show."""

import json
import os
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import free_port
from payout_helpers import assert_error, post_json, sandbox_nginx, sbx

assert sbx  # a fixture, used by name

PATH = "/v1/payout-recipients"
ACCT = "acct_1Nv0FGQ9RKHgCVdK"


def bank_recipient(account="0123456789", **kw):
    body = {"gateway": "sandbox", "bank_account_number": account,
            "bank_account_name": "JOHN SELLER", "bank_code": "058"}
    body.update(kw)
    return body


def create_recipient(http, ngx, tenant, body):
    r = post_json(http, ngx, tenant, PATH, body)
    assert r.status_code == 201, r.text
    return r.json()


def enroll(http, ngx, tenant, ruuid, body=None, **kw):
    data = "" if body is None else body
    return post_json(http, ngx, tenant, "%s/%s/accounts" % (PATH, ruuid),
                     data, **kw)


def sandbox_calls(ngx, status=None):
    """The sandbox's POST /recipients in the access log, by status."""
    path = os.path.join(os.path.dirname(ngx.error_log), "access.log")
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return sum(1 for line in f
                   if '"POST /sandbox/recipients ' in line
                   and (status is None or '" %d ' % status in line))


def stored_code(pg, ruuid):
    return pg.sql("SELECT gateway_recipient_code FROM recipients "
                  "WHERE uuid = %s", (ruuid,))[0][0]


def test_enroll_bank_once(sbx, pg, tenant, http):
    rec = create_recipient(http, sbx, tenant, bank_recipient())
    assert rec["gateway_recipient_code"] is None

    r = enroll(http, sbx, tenant, rec["uuid"])
    assert r.status_code == 201, r.text
    body = r.json()
    code = "SBX_RCP_" + rec["uuid"].replace("-", "").upper()[:20]
    assert body["uuid"] == rec["uuid"]
    assert body["gateway_recipient_code"] == code
    assert body["bank_account_number"] == "******6789"
    assert "0123456789" not in r.text
    assert stored_code(pg, rec["uuid"]) == code
    assert sandbox_calls(sbx, 201) == 1

    # again: the stored code, and the sandbox is not asked
    r = enroll(http, sbx, tenant, rec["uuid"], {})
    assert r.status_code == 200, r.text
    assert r.json()["gateway_recipient_code"] == code
    assert sandbox_calls(sbx) == 1

    # GET shows it too
    r = http.get(sbx.url(PATH + "/" + rec["uuid"]), headers=tenant.headers)
    assert r.json()["gateway_recipient_code"] == code


def test_enroll_mobile_with_currency(sbx, pg, tenant, http):
    rec = create_recipient(http, sbx, tenant,
                           {"gateway": "sandbox", "name": "Ama",
                            "mobile_money_number": "+233241234567",
                            "mobile_money_provider": "MTN"})
    r = enroll(http, sbx, tenant, rec["uuid"], {"currency": "ghs"})
    assert r.status_code == 201, r.text
    assert r.json()["gateway_recipient_code"].startswith("SBX_RCP_")
    assert sandbox_calls(sbx, 201) == 1


def test_sandbox_recipients_idempotent(sbx, pg, tenant, http):
    """The sandbox itself: the same reference is the same recipient."""
    ref = str(uuid.uuid4())
    body = {"reference": ref, "currency": "ngn",
            "destination": {"type": "bank_account",
                            "account_number": "0123456789",
                            "bank_code": "058"}}
    first = http.post(sbx.url("/sandbox/recipients"), json=body,
                      headers={"Idempotency-Key": ref})
    assert first.status_code == 201, first.text
    assert first.json() == {
        "recipient_code": "SBX_RCP_" + ref.replace("-", "").upper()[:20],
        "reference": ref, "type": "bank_account", "last4": "6789",
        "currency": "NGN"}
    again = http.post(sbx.url("/sandbox/recipients"), json=body)
    assert again.json() == first.json()

    bad = http.post(sbx.url("/sandbox/recipients"),
                    json=dict(body, reference=str(uuid.uuid4())),
                    headers={"Idempotency-Key": ref})
    assert bad.status_code == 400, bad.text
    assert bad.json()["error"]["code"] == "idempotency_key_mismatch"

    bad = http.post(sbx.url("/sandbox/recipients"),
                    json=dict(body, destination={"type": "iban"}))
    assert bad.status_code == 400, bad.text
    assert bad.json()["error"]["field"] == "destination.type"


def test_refused_by_the_gateway(sbx, pg, tenant, http):
    rec = create_recipient(http, sbx, tenant,
                           bank_recipient(account="1234560002"))
    r = enroll(http, sbx, tenant, rec["uuid"])
    err = assert_error(r, 400, "gateway_rejected")
    assert "invalid_account" in err["message"]
    assert stored_code(pg, rec["uuid"]) is None
    assert sandbox_calls(sbx, 400) == 1


def test_other_tenant_and_mode_404(sbx, pg, tenant, tenant_factory, http):
    rec = create_recipient(http, sbx, tenant, bank_recipient())
    other = tenant_factory()
    assert_error(enroll(http, sbx, other, rec["uuid"]), 404, "not_found")
    assert_error(enroll(http, sbx, tenant, str(uuid.uuid4())), 404,
                 "not_found")
    assert_error(enroll(http, sbx, tenant, "nope"), 400,
                 "invalid_parameter", "uuid")

    # the same tenant's live key does not see a test recipient
    live_key = __import__("conftest").payoutctl(
        pg, "key", "create", "--tenant", tenant.name, "--mode",
        "live").stdout.strip()
    r = enroll(http, sbx, None, rec["uuid"],
               headers={"Authorization": "Bearer " + live_key})
    assert_error(r, 404, "not_found")
    assert sandbox_calls(sbx) == 0
    assert stored_code(pg, rec["uuid"]) is None


@pytest.mark.parametrize("body,status,code,field", [
    ({"currency": "NGN", "extra": 1}, 400, "unknown_parameter", "extra"),
    ({"gateway": "sandbox"}, 400, "unknown_parameter", "gateway"),
    ({"currency": "XXX1"}, 400, "invalid_parameter", "currency"),
    ({"currency": 566}, 400, "invalid_parameter", "currency"),
    ("[]", 400, "invalid_json", None),
    ("{", 400, "invalid_json", None),
])
def test_bad_body(sbx, pg, tenant, http, body, status, code, field):
    rec = create_recipient(http, sbx, tenant, bank_recipient())
    assert_error(enroll(http, sbx, tenant, rec["uuid"], body), status, code,
                 field)
    assert sandbox_calls(sbx) == 0


def test_sandbox_has_no_connected_accounts(sbx, pg, tenant, http):
    rec = create_recipient(http, sbx, tenant,
                           {"gateway": "sandbox", "account_id": ACCT})
    err = assert_error(enroll(http, sbx, tenant, rec["uuid"]), 422,
                       "not_supported")
    assert "sandbox" in err["message"]
    assert "connected_account" in err["message"]
    assert stored_code(pg, rec["uuid"]) is None
    assert sandbox_calls(sbx) == 0


def test_unconfigured_gateway(sbx, pg, tenant, http):
    rec = create_recipient(http, sbx, tenant, bank_recipient())
    pg.sql("UPDATE recipients SET gateway = 'gone' WHERE uuid = %s",
           (rec["uuid"],))
    assert_error(enroll(http, sbx, tenant, rec["uuid"]), 400,
                 "unknown_gateway")


# -- a Stripe gateway on a dead loopback port ------------------------------

def stripe_nginx(nginx_factory, tmp_path, port):
    """The sandbox and a Stripe gateway (a test key) at loopback port."""
    key = tmp_path / "stripe.key"
    key.write_text("sk_test_4eC39HqLyjWDarjtT1zdp7dc\n")
    os.chmod(key, 0o600)
    return sandbox_nginx(nginx_factory, http="""
    payout_gateway stripe connector=stripe mode=test secret_file=%s
                   url=http://127.0.0.1:%d timeout=2s;
""" % (key, port))


@pytest.fixture
def stripe(nginx_factory, tmp_path):
    return stripe_nginx(nginx_factory, tmp_path, free_port())


def test_stripe_connected_account_not_supported(stripe, pg, tenant, http):
    rec = create_recipient(http, stripe, tenant,
                           {"gateway": "stripe", "account_id": ACCT})
    err = assert_error(enroll(http, stripe, tenant, rec["uuid"]), 422,
                       "not_supported")
    assert "stripe" in err["message"]
    assert "connected_account" in err["message"]


def test_stripe_bank_without_country(stripe, pg, tenant, http):
    rec = create_recipient(http, stripe, tenant,
                           bank_recipient(gateway="stripe", account_id=ACCT))
    err = assert_error(enroll(http, stripe, tenant, rec["uuid"],
                              {"currency": "USD"}), 422, "not_supported")
    assert "missing" in err["message"]


def test_stripe_unreachable_is_retryable(stripe, pg, tenant, http):
    rec = create_recipient(http, stripe, tenant,
                           bank_recipient(gateway="stripe", account_id=ACCT,
                                          country="US"))
    r = enroll(http, stripe, tenant, rec["uuid"], {"currency": "USD"})
    assert_error(r, 503, "gateway_unavailable")
    assert r.headers.get("Retry-After")
    assert stored_code(pg, rec["uuid"]) is None
    with open(stripe.error_log) as f:
        assert "sk_test_4eC39" not in f.read()


# -- Stripe through a loopback stand-in ------------------------------------

class StandIn:
    """Answers every request with the next scripted (status, JSON body)
    and records what it got."""

    def __init__(self):
        self.answers = []
        self.requests = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                stand_in.requests.append((self.path, dict(self.headers),
                                          self.rfile.read(n).decode()))
                status, body = stand_in.answers.pop(0)
                out = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stripe_stand_in(nginx_factory, tmp_path):
    stand_in = StandIn()
    ngx = stripe_nginx(nginx_factory, tmp_path, stand_in.port)
    yield ngx, stand_in
    stand_in.stop()


BANK_ACCOUNT = {"id": "ba_1NvQ2g2eZvKYlo2CdbAunIQJ", "object": "bank_account",
                "account": ACCT, "country": "US", "currency": "usd",
                "last4": "6789", "status": "new"}


def test_stripe_enrolls_a_bank_account(stripe_stand_in, pg, tenant, http):
    ngx, stand_in = stripe_stand_in
    rec = create_recipient(http, ngx, tenant,
                           bank_recipient(gateway="stripe", account_id=ACCT,
                                          country="US",
                                          bank_code="110000000"))
    stand_in.answers.append((200, BANK_ACCOUNT))
    r = enroll(http, ngx, tenant, rec["uuid"], {"currency": "USD"})
    assert r.status_code == 201, r.text
    assert r.json()["gateway_recipient_code"] == BANK_ACCOUNT["id"]
    assert stored_code(pg, rec["uuid"]) == BANK_ACCOUNT["id"]

    path, headers, body = stand_in.requests[0]
    assert path == "/v1/accounts/%s/external_accounts" % ACCT
    assert headers["Idempotency-Key"] == "enroll-" + rec["uuid"]
    assert headers["Authorization"].startswith("Bearer sk_test_")
    assert "external_account%5Bcountry%5D=US" in body \
        or "external_account[country]=US" in body
    assert "0123456789" in body      # the opened number, to Stripe only

    # enrolled: Stripe is not asked again
    r = enroll(http, ngx, tenant, rec["uuid"])
    assert r.status_code == 200, r.text
    assert len(stand_in.requests) == 1
    with open(ngx.error_log) as f:
        log = f.read()
    assert "0123456789" not in log and "sk_test_4eC39" not in log


@pytest.mark.parametrize("status,answer,code,http_status", [
    (400, {"error": {"type": "invalid_request_error",
                     "code": "account_number_invalid",
                     "message": "The account number is invalid."}},
     "gateway_rejected", 400),
    (401, {"error": {"type": "invalid_request_error",
                     "message": "Invalid API Key provided."}},
     "gateway_auth_failed", 502),
    (500, {"error": {"type": "api_error", "message": "boom"}},
     "gateway_unavailable", 503),
])
def test_stripe_enrollment_errors(stripe_stand_in, pg, tenant, http, status,
                                  answer, code, http_status):
    ngx, stand_in = stripe_stand_in
    rec = create_recipient(http, ngx, tenant,
                           bank_recipient(gateway="stripe", account_id=ACCT,
                                          country="US"))
    stand_in.answers.append((status, answer))
    err = assert_error(enroll(http, ngx, tenant, rec["uuid"]), http_status,
                       code)
    if code == "gateway_rejected":
        assert err["message"] == ("The gateway refused the recipient: "
                                  "account_number_invalid")
    assert stored_code(pg, rec["uuid"]) is None


def test_enrolled_sql_by_id_or_uuid(sbx, pg, tenant, http):
    """payout_recipient_enrolled(): by id, or by uuid for a caller (the
    send path) that has no id; the first code stays."""
    a = create_recipient(http, sbx, tenant, bank_recipient())
    b = create_recipient(http, sbx, tenant, bank_recipient("1111222233"))
    rid = pg.sql("SELECT id FROM recipients WHERE uuid = %s",
                 (a["uuid"],))[0][0]
    q = ("SELECT gateway_recipient_code, body->>'uuid' FROM "
         "payout_recipient_enrolled(p_tenant => %s, p_id => %s, "
         "p_uuid => %s, p_code => %s)")
    assert pg.sql(q, (tenant.id, rid, None, "RCP_A")) == [("RCP_A",
                                                           a["uuid"])]
    assert pg.sql(q, (tenant.id, None, b["uuid"], "RCP_B")) == [("RCP_B",
                                                                 b["uuid"])]
    # again with another code: the first stays
    assert pg.sql(q, (tenant.id, None, b["uuid"], "RCP_X")) == [("RCP_B",
                                                                 b["uuid"])]
    # another tenant's: nothing
    assert pg.sql(q, (tenant.id + 100000, rid, None, "RCP_Y")) == []
