"""Payouts through the Adyen connector end to end (issue 9), against the
loopback stand-in of provider_standins.py: Balance Platform transfers
(POST /transfers with the destination inline, x-api-key,
Idempotency-Key = our payout uuid), transfer webhooks signed with
HmacSignature.  Create, webhook, success; returned after booked; an
unknown outcome re-sent with the same key (one transfer only); bad
signatures; no enrollment; test/live separation.

One nginx and one stand-in for the module; every test pays its own
IBAN or account number."""

import os
import shutil
import uuid as uuidlib

import pytest

from conftest import Nginx, Tenant, payoutctl
from payout_helpers import (assert_error, assert_history, create,
                            get_payout, payout_row, post_json, wait_status)
from provider_standins import (ADYEN_HMAC, ADYEN_KEY, Adyen, iban_of,
                               two_mode_site, xfail_unknown_connector)

LIVE_KEY = "AQE" + "e2eAdyenLive0123456789abcdefghijklmno"
BALANCE_ACCOUNT = "BA00000000000000000000001"
VECTORS = "/work/shared/specs/vectors"
UPDATED = "balancePlatform.transfer.updated"


@pytest.fixture(scope="module")
def env(pg):
    e = two_mode_site(pg, Adyen, "adyen", (ADYEN_KEY, LIVE_KEY), ADYEN_HMAC,
                      "balance_account=" + BALANCE_ACCOUNT)
    e.ad, e.live_ad = e.test, e.live
    yield e
    e.close()


@pytest.fixture
def ad(env):
    yield from env.fresh(env.ad)


@pytest.fixture
def ngx(env):
    return env.ngx


def iban():
    """A Dutch IBAN of a fresh account."""
    return iban_of(uuidlib.uuid4().int)


def bank(number=None, **kw):
    b = {"amount": 2500, "currency": "EUR", "gateway": "adyen",
         "narration": "Weekly seller settlement",
         "bank_account_number": number or iban(),
         "bank_account_name": "A. Klaassen", "bank_code": "ABNANL2A",
         "country": "NL"}
    b.update(kw)
    return b


def sent(ad, u):
    return [c for c in ad.got("POST", "/transfers")
            if c.json.get("reference") == u]


def transfer(http, ngx, tenant, ad, **kw):
    out = create(http, ngx, tenant, bank(**kw))
    u = out["payout_uuid"]
    assert out["status"] == "pending_promise", out
    assert ad.executed(u) == 1
    return u, ad.find(u)["id"]


def test_stand_in_signs_as_adyen():
    """The stand-in's HmacSignature reproduces Adyen's own vector."""
    with open(os.path.join(VECTORS, "adyen-accountHolderCreated.json"),
              "rb") as f:
        body = f.read()
    assert Adyen().sign(body, "11223344D785FBAE710E7F943F307971BB61B212"
                        "81C98C9129B3D4018A57B2EB") == \
        "UVBzHbDayhfT1XgaRGAkuKvxwoxrLoVCBdfi3WZU8lI="


def test_iban_transfer_success(ad, env, ngx, tenant, http):
    n = iban()
    u, tid = transfer(http, ngx, tenant, ad, number=n)
    (c,) = sent(ad, u)
    assert c.headers["x-api-key"] == ADYEN_KEY
    assert "authorization" not in c.headers
    assert c.headers["idempotency-key"] == u
    b = c.json
    assert b["amount"] == {"value": 2500, "currency": "EUR"}
    assert b["balanceAccountId"] == BALANCE_ACCOUNT
    assert b["category"] == "bank" and b["priority"] == "regular"
    acct = b["counterparty"]["bankAccount"]
    assert acct["accountHolder"]["fullName"] == "A. Klaassen"
    ident = acct["accountIdentification"]
    assert ident["type"] == "iban" and ident["iban"] == n, ident
    assert payout_row(env.pg, u)["gateway_payout_id"] == tid

    r = http.get(ngx.url("/v1/payouts/%s/status" % u),
                 headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert ad.got("GET", "/transfers/" + tid)

    r = ad.hook(ngx, UPDATED, tid, status="booked")
    assert r.status_code in (200, 202, 204), r.text
    wait_status(http, ngx, tenant, u, "success")
    assert ad.executed(u) == 1


def test_local_scheme_transfer(ad, env, ngx, tenant, http):
    """A GBP account number and sort code: the UK local scheme."""
    number = "%08d" % (uuidlib.uuid4().int % 10 ** 8)
    u, tid = transfer(http, ngx, tenant, ad, number=number,
                      currency="GBP", bank_code="040004", country="GB")
    (c,) = sent(ad, u)
    ident = c.json["counterparty"]["bankAccount"]["accountIdentification"]
    assert ident["type"] != "iban", ident
    assert ident["accountNumber"] == number, ident


def test_returned_after_booked_is_reversed(ad, env, ngx, tenant, http):
    u, tid = transfer(http, ngx, tenant, ad)
    assert ad.hook(ngx, UPDATED, tid, status="booked").status_code < 300
    wait_status(http, ngx, tenant, u, "success")
    assert ad.hook(ngx, UPDATED, tid, status="returned").status_code < 300
    wait_status(http, ngx, tenant, u, "canceled_reversed")
    assert assert_history(env.pg, u)[-2:] == ["success", "canceled_reversed"]


def test_failed_and_refused(ad, env, ngx, tenant, http):
    """failed after acceptance: canceled_failure; refused (Adyen would
    not move the money): canceled_rejected, as the codec's table says."""
    for status, ours in (("failed", "canceled_failure"),
                         ("refused", "canceled_rejected")):
        u, tid = transfer(http, ngx, tenant, ad)
        r = ad.hook(ngx, UPDATED, tid, status=status,
                    reason="notEnoughBalance")
        assert r.status_code < 300, r.text
        p = wait_status(http, ngx, tenant, u, ours)
        assert p["failure_reason"], p


def test_unknown_outcome_is_sent_again_with_the_same_key(ad, env, ngx,
                                                         tenant, http):
    n = iban()
    ad.outcome[n] = "drop"
    out = create(http, ngx, tenant, bank(n))
    u = out["payout_uuid"]
    assert out["status"] == "pending_created", out
    wait_status(http, ngx, tenant, u, "pending_promise", timeout=15)
    xs = sent(ad, u)
    assert len(xs) >= 2 and {c.headers["idempotency-key"] for c in xs} == {u}
    assert len({c.body for c in xs}) == 1
    assert ad.executed(u) == 1
    assert len([t for t in ad.transfers.values() if t["reference"] == u]) \
        == 1


def test_bad_signatures_change_nothing(ad, env, ngx, tenant, http):
    u, tid = transfer(http, ngx, tenant, ad)
    before = payout_row(env.pg, u)
    b = ad.event(UPDATED, tid, apply=False, status="booked")
    other = "00" * 32
    for sig in (ad.sign(b, other), ad.sign(b + b" "), ad.sign(b)[:-4],
                "", "not base64"):
        r = ad.hook(ngx, None, tid, body=b, signature=sig)
        assert r.status_code == 401, (sig, r.text)
    assert payout_row(env.pg, u) == before
    assert get_payout(http, ngx, tenant, u)["sub_status"] == \
        "pending_promise"


def test_enrollment_is_not_supported(ad, env, ngx, tenant, http):
    n = iban()
    r = post_json(http, ngx, tenant, "/v1/payout-recipients", {
        "gateway": "adyen", "bank_account_number": n,
        "bank_account_name": "A. Klaassen", "bank_code": "ABNANL2A",
        "country": "NL"})
    assert r.status_code == 201, r.text
    r = post_json(http, ngx, tenant, "/v1/payout-recipients/%s/accounts"
                  % r.json()["uuid"], {"currency": "EUR"})
    assert_error(r, 422, "not_supported")
    assert not [c for c in ad.calls if n.encode() in c.body]


def test_a_test_key_cannot_use_the_live_gateway(env, ngx, tenant, http):
    live_key = payoutctl(env.pg, "key", "create", "--tenant", tenant.name,
                         "--mode", "live").stdout.strip()
    live = Tenant(env.pg, tenant.name, live_key, "live")
    numbers = [iban(), iban()]
    r = post_json(http, ngx, tenant, "/v1/payouts",
                  bank(numbers[0], gateway="adyen_live"))
    assert_error(r, 400, "gateway_mode_mismatch", "gateway")
    r = post_json(http, ngx, live, "/v1/payouts", bank(numbers[1]))
    assert_error(r, 400, "gateway_mode_mismatch", "gateway")
    assert env.live_ad.calls == []
    assert not [c for c in env.ad.calls
                if any(x.encode() in c.body for x in numbers)]


def test_a_bad_hmac_key_file_fails_nginx_t(env):
    """webhook_secret_file holds the key as hex: anything else is an
    [emerg] that does not show it."""
    bad = env.key("adyen-bad.hmac", "not hex at all")
    ngx = Nginx(env.pg, http="payout_gateway ay connector=adyen mode=test "
                "url=%s secret_file=%s webhook_secret_file=%s "
                "balance_account=%s;" % (env.ad.url, env.keys["test"], bad,
                                         BALANCE_ACCOUNT))
    try:
        out = ngx.check_config()
    finally:
        shutil.rmtree(ngx.dir, ignore_errors=True)
    xfail_unknown_connector(out.stderr)
    assert out.returncode != 0, out.stderr
    assert "[emerg]" in out.stderr and "not hex" not in out.stderr
