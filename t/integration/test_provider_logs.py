"""No secret of a real provider reaches nginx's error log, at any level
(issue 8): with "error_log ... debug", a Paystack payout that asks for
an OTP and is finalized, and a Stripe bank payout that is enrolled,
paid and confirmed by a signed webhook, leave no API secret, webhook
secret, OTP or account number in the log, except where nginx's core
dumps the request's own headers at debug level (the merchant's API key)."""

import os
import shutil
import tempfile
import uuid as uuidlib

import pytest

from conftest import Nginx
from payout_helpers import create, post_json, wait_status
from provider_standins import (HOOKS, OTP, PAYSTACK_KEY, STRIPE_KEY,
                               STRIPE_WHSEC, Paystack, Stripe)
from test_secrets import assert_only_core_dumps, debug_log, read_log

OWNER = "acct_1LogsBankOwner0001"


def secret_file(d, name, content):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(content + "\n")
    os.chmod(path, 0o600)
    return path


@pytest.fixture(scope="module")
def site(pg):
    d = tempfile.mkdtemp(prefix="payout-logs-")
    ps, st = Paystack().start(), Stripe().start()
    ngx = Nginx(pg, workers=1, server=HOOKS, edit=debug_log, http="""
    payout_gateway paystack connector=paystack mode=test url=%s
                   secret_file=%s timeout=2s;
    payout_gateway stripe connector=stripe mode=test url=%s
                   secret_file=%s webhook_secret_file=%s
                   account=%s timeout=2s;
""" % (ps.url, secret_file(d, "paystack.key", PAYSTACK_KEY), st.url,
       secret_file(d, "stripe.key", STRIPE_KEY),
       secret_file(d, "stripe.whsec", STRIPE_WHSEC), OWNER)).start()
    yield ngx, ps, st
    problems = ngx.destroy()
    ps.stop()
    st.stop()
    shutil.rmtree(d, ignore_errors=True)
    assert not problems, "nginx error log:\n" + "\n".join(problems)


def digits(n):
    return "%0*d" % (n, uuidlib.uuid4().int % 10 ** n)


def test_no_provider_secret_in_a_debug_log(site, tenant, http):
    ngx, ps, st = site

    # Paystack: enrolled, asks for an OTP, finalized, confirmed
    ps_number = digits(10)
    ps.outcome[ps_number] = "otp"
    out = create(http, ngx, tenant, {
        "amount": 150000, "currency": "NGN", "gateway": "paystack",
        "bank_account_number": ps_number, "bank_account_name": "JOHN SELLER",
        "bank_code": "058"})
    u = out["payout_uuid"]
    assert out["next_action"] == {"type": "otp_required"}, out
    r = post_json(http, ngx, tenant, "/v1/payouts/%s/finalize" % u,
                  {"otp": OTP})
    assert r.status_code == 200, r.text
    assert ps.hook(ngx, "transfer.success", u).status_code == 200
    wait_status(http, ngx, tenant, u, "success")

    # Stripe: the bank account enrolled on the owner, paid, confirmed
    st_number = digits(12)
    out = create(http, ngx, tenant, {
        "amount": 2500, "currency": "USD", "gateway": "stripe",
        "bank_account_number": st_number, "bank_account_name": "JENNY ROSEN",
        "bank_code": "110000000", "country": "US"})
    u = out["payout_uuid"]
    assert out["status"] == "pending_promise", out
    po = st.find(u)["id"]
    assert st.hook(ngx, "payout.paid", po, status="paid").status_code == 200
    wait_status(http, ngx, tenant, u, "success")

    log = read_log(ngx)
    assert "[debug]" in log and "payout http:" in log, "no debug lines"
    for name, value in {"Paystack secret key": PAYSTACK_KEY,
                        "Stripe secret key": STRIPE_KEY,
                        "Stripe webhook secret": STRIPE_WHSEC,
                        "OTP": '"otp":"%s"' % OTP,
                        "Paystack account number": ps_number,
                        "Stripe account number": st_number}.items():
        assert value not in log, "%s appears in the error log" % name
    assert_only_core_dumps(log, "API key", tenant.key)
