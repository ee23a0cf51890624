"""The built-in sandbox provider (SPEC §10, docs/sandbox.md): a fake
payment provider served by the module on loopback.  Outcomes by the last
four digits, an idempotent ledger keyed by our reference, and signed
webhooks sent by a background timer, at most once at a time across
workers and nginx nodes."""

import concurrent.futures
import hashlib
import hmac
import http.server
import json
import os
import threading
import time
import uuid

import pytest
import requests

from conftest import MASTER_KEY
from payout_helpers import assert_error

DELAY_MS = 200
SANDBOX = "location /sandbox/ { payout_sandbox; }"


# the signature scheme, computed independently of the module

def sandbox_secret():
    token_key = hmac.new(bytes.fromhex(MASTER_KEY), b"payout/v1/token",
                         hashlib.sha256).digest()
    return hmac.new(token_key, b"sandbox/webhook", hashlib.sha256).digest()


def verify_signature(header, body, tolerance=300):
    parts = dict(p.split("=", 1) for p in header.split(","))
    t = int(parts["t"])
    assert abs(time.time() - t) <= tolerance, header
    expected = hmac.new(sandbox_secret(), ("%d." % t).encode() + body,
                        hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, parts["v1"]), header
    return t


class Receiver:
    """A webhook endpoint on loopback that records every attempt.

    fail_first maps a reference to how many attempts for its events are
    answered 500 before the receiver says 200.
    """

    def __init__(self):
        self.attempts = []          # every request: dict
        self.fail_first = {}
        self.cond = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                event = json.loads(body)
                ref = event["data"]["reference"]
                with receiver.cond:
                    left = receiver.fail_first.get(ref, 0)
                    status = 500 if left else 200
                    if left:
                        receiver.fail_first[ref] = left - 1
                    receiver.attempts.append(dict(
                        path=self.path, headers=dict(self.headers),
                        raw=body, event=event, status=status,
                        at=time.time()))
                    receiver.cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/hook" % self.port

    def delivered(self, ref):
        """Events for ref that were answered 2xx, in arrival order."""
        with self.cond:
            return [a["event"] for a in self.attempts
                    if a["status"] == 200
                    and a["event"]["data"]["reference"] == ref]

    def tried(self, ref):
        with self.cond:
            return [a for a in self.attempts
                    if a["event"]["data"]["reference"] == ref]

    def wait(self, ref, count, timeout=10):
        deadline = time.time() + timeout
        with self.cond:
            while len([a for a in self.attempts if a["status"] == 200
                       and a["event"]["data"]["reference"] == ref]) < count:
                left = deadline - time.time()
                assert left > 0, "no %d webhooks for %s: %r" % (
                    count, ref, self.attempts[-5:])
                self.cond.wait(left)
        return self.delivered(ref)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def sandbox_conf(receiver, **kw):
    http = ("payout_sandbox_webhook_delay %dms;" % DELAY_MS)
    if receiver is not None:
        http += " payout_sandbox_webhook_url %s;" % receiver.url
    return dict(http=http, server=SANDBOX, **kw)


@pytest.fixture
def sandbox(nginx_factory, receiver):
    return nginx_factory(**sandbox_conf(receiver))


def transfer(number, ref=None, mobile=False, **extra):
    ref = ref or str(uuid.uuid4())
    if mobile:
        dest = {"type": "mobile_money", "mobile_number": number,
                "provider": "mtn"}
    else:
        dest = {"type": "bank_account", "account_number": number,
                "bank_code": "058", "account_name": "Ada Obi"}
    body = {"reference": ref, "amount": 250000, "currency": "NGN",
            "destination": dest, "narration": "test payout"}
    body.update(extra)
    return body


def post(ngx, body, headers=None, timeout=10):
    h = {"Idempotency-Key": body["reference"]} if isinstance(body, dict) \
        and isinstance(body.get("reference"), str) else {}
    h.update(headers or {})
    return requests.post(ngx.url("/sandbox/transfers"), json=body,
                         headers=h, timeout=timeout)


def get(ngx, ref):
    return requests.get(ngx.url("/sandbox/transfers/" + ref), timeout=10)


def cancel(ngx, ref):
    return requests.post(ngx.url("/sandbox/transfers/%s/cancel" % ref),
                         timeout=10)


def ledger(ngx, ref):
    r = requests.get(ngx.url("/sandbox/ledger"), params={"reference": ref},
                     timeout=10)
    assert r.status_code == 200, r.text
    return [t for t in r.json()["transfers"] if t["reference"] == ref]


def wait_status(ngx, ref, status, timeout=10):
    deadline = time.time() + timeout
    while True:
        t = get(ngx, ref).json()
        if t.get("status") == status or time.time() > deadline:
            assert t.get("status") == status, t
            return t
        time.sleep(0.05)


def assert_transfer(t, ref, status, amount=250000):
    assert t["id"].startswith("sbx_tr_") and t["id"][7:].isdigit(), t
    assert t["reference"] == ref
    assert t["status"] == status
    assert t["amount"] == amount
    assert t["currency"] == "NGN"
    assert t["created_at"].endswith("Z") and "T" in t["created_at"]
    assert "failure_reason" in t and "updated_at" in t


# outcomes

@pytest.mark.parametrize("number,code", [("0123450002", "invalid_account"),
                                         ("0123450003",
                                          "insufficient_funds")])
def test_rejected_at_initiation(sandbox, receiver, number, code):
    body = transfer(number)
    ref = body["reference"]

    assert_error(post(sandbox, body), 422, code)
    # the same reference again: the same answer, still one ledger row
    assert_error(post(sandbox, body), 422, code)

    rows = ledger(sandbox, ref)
    assert len(rows) == 1
    assert rows[0]["status"] == "rejected"
    assert rows[0]["failure_reason"] == code
    assert get(sandbox, ref).json()["status"] == "rejected"

    time.sleep(3 * DELAY_MS / 1000)
    assert receiver.tried(ref) == []


def test_default_succeeds_with_signed_webhook(sandbox, receiver):
    body = transfer("0123456789")
    ref = body["reference"]

    r = post(sandbox, body)
    assert r.status_code == 201, r.text
    t = r.json()
    assert_transfer(t, ref, "pending")
    assert t["failure_reason"] is None

    events = receiver.wait(ref, 1)
    attempt = receiver.tried(ref)[0]
    assert attempt["path"] == "/hook"
    assert attempt["headers"]["Content-Type"] == "application/json"
    verify_signature(attempt["headers"]["Sandbox-Signature"], attempt["raw"])

    ev = events[0]
    assert set(ev) == {"id", "type", "created", "data"}
    assert ev["id"].startswith("evt_") and ev["id"][4:].isdigit()
    assert ev["type"] == "transfer.succeeded"
    assert isinstance(ev["created"], int)
    assert abs(ev["created"] - time.time()) < 60
    assert_transfer(ev["data"], ref, "succeeded")
    assert ev["data"]["id"] == t["id"]

    got = get(sandbox, ref)
    assert got.status_code == 200
    assert_transfer(got.json(), ref, "succeeded")


def test_signature_rejects_tampering(sandbox, receiver):
    body = transfer("0123456789")
    assert post(sandbox, body).status_code == 201
    receiver.wait(body["reference"], 1)
    a = receiver.tried(body["reference"])[0]
    with pytest.raises(AssertionError):
        verify_signature(a["headers"]["Sandbox-Signature"],
                         a["raw"].replace(b"succeeded", b"failed"))


def test_mobile_money_outcome_by_number(sandbox, receiver):
    body = transfer("+2348010000004", mobile=True)
    r = post(sandbox, body)
    assert r.status_code == 201, r.text
    ev = receiver.wait(body["reference"], 1)[0]
    assert ev["type"] == "transfer.failed"


def test_fails_later(sandbox, receiver):
    body = transfer("1234560004")
    ref = body["reference"]
    r = post(sandbox, body)
    assert r.status_code == 201
    assert r.json()["status"] == "pending"

    ev = receiver.wait(ref, 1)[0]
    assert ev["type"] == "transfer.failed"
    assert ev["data"]["status"] == "failed"
    assert ev["data"]["failure_reason"] == "account_closed"

    t = get(sandbox, ref).json()
    assert t["status"] == "failed"
    assert t["failure_reason"] == "account_closed"


def test_succeeds_then_reversed_in_order(sandbox, receiver):
    body = transfer("1234560005")
    ref = body["reference"]
    assert post(sandbox, body).status_code == 201

    events = receiver.wait(ref, 2)
    assert [e["type"] for e in events] == ["transfer.succeeded",
                                           "transfer.reversed"]
    assert [e["data"]["status"] for e in events] == ["succeeded",
                                                     "reversed"]
    assert int(events[0]["id"][4:]) < int(events[1]["id"][4:])
    assert get(sandbox, ref).json()["status"] == "reversed"
    # a reversed transfer is no longer cancelable
    assert_error(cancel(sandbox, ref), 409, "not_cancelable")


def test_stays_pending_until_canceled(sandbox, receiver):
    body = transfer("1234560007")
    ref = body["reference"]
    assert post(sandbox, body).status_code == 201

    time.sleep(4 * DELAY_MS / 1000)
    assert get(sandbox, ref).json()["status"] == "pending"
    assert receiver.tried(ref) == []

    r = cancel(sandbox, ref)
    assert r.status_code == 200, r.text
    assert_transfer(r.json(), ref, "canceled")

    # idempotent
    r = cancel(sandbox, ref)
    assert r.status_code == 200
    assert r.json()["status"] == "canceled"
    assert get(sandbox, ref).json()["status"] == "canceled"
    assert len(ledger(sandbox, ref)) == 1


def test_cancel_after_success_is_409(sandbox, receiver):
    body = transfer("0123456789")
    ref = body["reference"]
    assert post(sandbox, body).status_code == 201
    receiver.wait(ref, 1)

    r = cancel(sandbox, ref)
    assert_error(r, 409, "not_cancelable")
    assert r.json()["error"]["message"] == "transfer is succeeded"


def test_cancel_drops_scheduled_events(sandbox, receiver, pg):
    body = transfer("0123456789")
    ref = body["reference"]
    assert post(sandbox, body).status_code == 201

    # canceled before its success fell due: no webhook, ever
    r = cancel(sandbox, ref)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "canceled"
    time.sleep(4 * DELAY_MS / 1000)
    assert receiver.tried(ref) == []
    assert get(sandbox, ref).json()["status"] == "canceled"
    assert pg.sql("SELECT count(*) FROM sandbox_events e "
                  "JOIN sandbox_transfers t ON t.id = e.transfer_id "
                  "WHERE t.reference = %s", (ref,))[0][0] == 0


def test_no_answer_but_executed(sandbox, receiver):
    body = transfer("1234560006")
    ref = body["reference"]

    with pytest.raises(requests.exceptions.ReadTimeout):
        post(sandbox, body, timeout=1)

    # the provider's truth: it executed, exactly once
    assert_transfer(get(sandbox, ref).json(), ref, "succeeded")
    rows = ledger(sandbox, ref)
    assert len(rows) == 1 and rows[0]["status"] == "succeeded"

    # a retry with the same key is answered, and pays nothing more
    r = post(sandbox, body)
    assert r.status_code == 200, r.text
    assert_transfer(r.json(), ref, "succeeded")
    assert len(ledger(sandbox, ref)) == 1
    assert receiver.tried(ref) == []

    # nginx noticed the client giving up (499 in the access log)
    deadline = time.time() + 5
    while time.time() < deadline:
        with open(os.path.join(sandbox.dir, "access.log")) as f:
            if '"POST /sandbox/transfers HTTP/1.1" 499' in f.read():
                break
        time.sleep(0.1)
    else:
        pytest.fail("the abandoned request was not logged with 499")


def held_request(ngx, body, result):
    try:
        result["response"] = post(ngx, body, timeout=30)
    except requests.exceptions.RequestException as e:
        result["error"] = e
    result["at"] = time.time()


def start_held(ngx):
    body = transfer("9990000006")
    result = {}
    th = threading.Thread(target=held_request, args=(ngx, body, result),
                          daemon=True)
    th.start()
    deadline = time.time() + 10
    while not ledger(ngx, body["reference"]):
        assert time.time() < deadline
        time.sleep(0.05)
    time.sleep(0.2)
    return th, result


def test_quit_with_unanswered_request(nginx_factory, receiver):
    ngx = nginx_factory(**sandbox_conf(receiver))
    th, result = start_held(ngx)

    started = time.time()
    ngx.stop()
    assert time.time() - started < 5, "the held request delayed shutdown"
    th.join(5)
    assert "error" in result, result     # closed without an answer
    # the fixture fails the test on any [alert] (e.g. an open socket left)


def test_reload_with_unanswered_request(nginx_factory, receiver):
    ngx = nginx_factory(**sandbox_conf(receiver))
    th, result = start_held(ngx)

    started = time.time()
    ngx.reload()
    th.join(10)
    assert "error" in result, result
    assert result["at"] - started < 5

    # the new workers serve, and their sender runs
    body = transfer("0123456789")
    r = post(ngx, body)
    assert r.status_code == 201, r.text
    receiver.wait(body["reference"], 1)


# idempotency

def test_same_reference_twice_is_one_transfer(sandbox, receiver):
    body = transfer("0123456789")
    ref = body["reference"]

    first = post(sandbox, body)
    assert first.status_code == 201
    second = post(sandbox, body)
    assert second.status_code == 200, second.text
    assert second.json()["id"] == first.json()["id"]
    assert len(ledger(sandbox, ref)) == 1

    # one transfer, so one webhook
    receiver.wait(ref, 1)
    time.sleep(3 * DELAY_MS / 1000)
    assert len(receiver.delivered(ref)) == 1

    # and a replay later shows the transfer as it is now
    third = post(sandbox, body)
    assert third.status_code == 200
    assert third.json()["status"] == "succeeded"


def test_idempotency_key_without_header(sandbox):
    body = transfer("0123450007")
    r = requests.post(sandbox.url("/sandbox/transfers"), json=body,
                      timeout=10)
    assert r.status_code == 201, r.text


def test_idempotency_key_must_match_reference(sandbox):
    body = transfer("0123456789")
    r = post(sandbox, body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert_error(r, 400, "idempotency_key_mismatch", "reference")
    assert ledger(sandbox, body["reference"]) == []


def test_concurrent_duplicates_make_one_row(nginx_factory, receiver):
    ngx = nginx_factory(workers=2, pool=4, **sandbox_conf(receiver))
    body = transfer("0123456789")
    ref = body["reference"]

    with concurrent.futures.ThreadPoolExecutor(20) as ex:
        answers = list(ex.map(lambda _: post(ngx, body), range(20)))

    codes = sorted(a.status_code for a in answers)
    assert codes == [200] * 19 + [201], codes
    assert len({a.json()["id"] for a in answers}) == 1
    assert len(ledger(ngx, ref)) == 1

    receiver.wait(ref, 1)
    time.sleep(3 * DELAY_MS / 1000)
    assert len(receiver.delivered(ref)) == 1


# bad input, unknown things

DROP = "<drop>"

BAD = [
    ({"reference": DROP}, "reference"),
    ({"reference": None}, "reference"),
    ({"reference": "not-a-uuid"}, "reference"),
    ({"amount": 0}, "amount"),
    ({"amount": -5}, "amount"),
    ({"amount": 10.5}, "amount"),
    ({"amount": "100"}, "amount"),
    ({"currency": "NG"}, "currency"),
    ({"currency": "N1N"}, "currency"),
    ({"currency": 566}, "currency"),
    ({"destination": DROP}, "destination"),
    ({"destination": "0123456789"}, "destination"),
    ({"destination": {"type": "card", "account_number": "1"}},
     "destination.type"),
    ({"destination": {"type": "bank_account"}},
     "destination.account_number"),
    ({"destination": {"type": "bank_account", "account_number": ""}},
     "destination.account_number"),
    ({"destination": {"type": "mobile_money", "account_number": "1"}},
     "destination.mobile_number"),
    ({"narration": 5}, "narration"),
    ({"narration": "x" * 300}, "narration"),
]


@pytest.mark.parametrize("change,field", BAD)
def test_bad_input_is_400(sandbox, change, field):
    body = transfer("0123456789")
    for k, v in change.items():
        if v == DROP:
            del body[k]
        else:
            body[k] = v
    r = requests.post(sandbox.url("/sandbox/transfers"), json=body,
                      timeout=10)
    assert_error(r, 400, "invalid_request", field)


def test_malformed_json_is_400(sandbox):
    r = requests.post(sandbox.url("/sandbox/transfers"), data=b"{nope",
                      headers={"Content-Type": "application/json"},
                      timeout=10)
    assert_error(r, 400, "invalid_json")
    r = requests.post(sandbox.url("/sandbox/transfers"), data=b"[1]",
                      headers={"Content-Type": "application/json"},
                      timeout=10)
    assert_error(r, 400, "invalid_json")


def test_body_must_be_json(sandbox):
    r = requests.post(sandbox.url("/sandbox/transfers"), data=b"{}",
                      headers={"Content-Type": "text/plain"}, timeout=10)
    assert_error(r, 415, "unsupported_media_type")


def test_unknown_reference_is_404(sandbox):
    ref = str(uuid.uuid4())
    assert_error(get(sandbox, ref), 404, "not_found")
    assert_error(cancel(sandbox, ref), 404, "not_found")
    assert_error(get(sandbox, "nope"), 404, "not_found")


def test_routes(sandbox):
    assert_error(requests.get(sandbox.url("/sandbox/nope"), timeout=10),
                 404, "route_not_found")
    r = requests.get(sandbox.url("/sandbox/transfers"), timeout=10)
    assert_error(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "POST"
    r = requests.delete(sandbox.url("/sandbox/transfers/%s" % uuid.uuid4()),
                        timeout=10)
    assert_error(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "GET, HEAD"
    assert_error(requests.get(sandbox.url("/sandbox/ledger"),
                              params={"reference": "x"}, timeout=10),
                 400, "invalid_parameter", "reference")
    r = requests.get(sandbox.url("/sandbox/ledger"), timeout=10)
    assert r.status_code == 200
    assert isinstance(r.json()["transfers"], list)


# delivery

def test_failed_webhook_is_retried(sandbox, receiver):
    body = transfer("0123456789")
    ref = body["reference"]
    receiver.fail_first[ref] = 2
    assert post(sandbox, body).status_code == 201

    ev = receiver.wait(ref, 1, timeout=15)[0]
    tries = receiver.tried(ref)
    assert [a["status"] for a in tries] == [500, 500, 200]
    # the same event each time, so the receiver can deduplicate
    assert len({a["event"]["id"] for a in tries}) == 1
    assert ev["type"] == "transfer.succeeded"
    for a in tries:
        verify_signature(a["headers"]["Sandbox-Signature"], a["raw"])
    # with a backoff between attempts
    assert tries[1]["at"] - tries[0]["at"] >= 0.8
    # the provider's truth changed on time, whatever the receiver said
    assert get(sandbox, ref).json()["status"] == "succeeded"


def test_reversal_waits_for_earlier_delivery(sandbox, receiver):
    body = transfer("1234560005")
    ref = body["reference"]
    receiver.fail_first[ref] = 1
    assert post(sandbox, body).status_code == 201

    events = receiver.wait(ref, 2, timeout=15)
    assert [e["type"] for e in events] == ["transfer.succeeded",
                                           "transfer.reversed"]
    # each event carries the transfer as of its own moment
    assert events[0]["data"]["status"] == "succeeded"


def test_without_webhook_url_status_still_changes(nginx_factory, pg):
    ngx = nginx_factory(**sandbox_conf(None))
    body = transfer("1234560005")
    ref = body["reference"]
    assert post(ngx, body).status_code == 201

    wait_status(ngx, ref, "reversed")
    deadline = time.time() + 5
    while pg.sql("SELECT count(*) FROM sandbox_events e "
                 "JOIN sandbox_transfers t ON t.id = e.transfer_id "
                 "WHERE t.reference = %s", (ref,))[0][0]:
        assert time.time() < deadline, "events were not dropped"
        time.sleep(0.05)


def test_two_nodes_deliver_each_event_once(nginx_factory, receiver):
    nodes = [nginx_factory(workers=2, **sandbox_conf(receiver))
             for _ in range(2)]
    refs = []
    for i in range(40):
        body = transfer("0123456789" if i % 2 else "1234560005")
        refs.append((body["reference"], 1 if i % 2 else 2))
        assert post(nodes[i % 2], body).status_code == 201

    for ref, n in refs:
        receiver.wait(ref, n, timeout=20)
    time.sleep(1)

    for ref, n in refs:
        events = receiver.delivered(ref)
        ids = [e["id"] for e in events]
        assert len(ids) == n and len(set(ids)) == n, events
