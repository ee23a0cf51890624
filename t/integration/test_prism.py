"""The mock-provider harness itself (prism.py): prism serves each spec,
accepts what the spec allows and flags what it does not, directly and
through the recording proxy that stands where nginx's provider calls go.
Connector tests rely on both directions: a clean run means the requests
were valid, not that nothing was checked."""

import pytest
import requests

from prism import Exchange, assert_accepted, mock_provider, prism_server

assert mock_provider and prism_server  # fixtures, used by name

REF = "2b1f9a70-6c2e-4f5e-9a1b-1c2d3e4f5a6b"
PAYSTACK_AUTH = {"Authorization": "Bearer sk_test_" + "0" * 40}
STRIPE_AUTH = {"Authorization": "Bearer sk_test_" + "0" * 24}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
MOLLIE_AUTH = {"Authorization": "Bearer test_" + "0" * 30,
               "Idempotency-Key": REF}
ADYEN_AUTH = {"x-api-key": "AQE" + "0" * 40, "Idempotency-Key": REF}


def paystack_transfer(base, amount):
    return requests.post(base + "/transfer", headers=PAYSTACK_AUTH, json={
        "source": "balance", "amount": amount, "recipient": "RCP_t4dn8o5v",
        "reason": "invoice 42", "currency": "NGN", "reference": REF},
        timeout=10)


def stripe_payout(base, json_body=False):
    headers = dict(STRIPE_AUTH, **{"Idempotency-Key": REF,
                                   "Stripe-Account": "acct_123"})
    fields = {"amount": "1000", "currency": "usd", "destination": "ba_1",
              "metadata[payout_uuid]": REF}
    if json_body:
        return requests.post(base + "/v1/payouts", headers=headers,
                             json={"amount": 1000, "currency": "usd"},
                             timeout=10)
    return requests.post(base + "/v1/payouts", data=fields,
                         headers=dict(headers, **FORM), timeout=10)


def refused(response, code=None):
    assert response.status_code >= 400, response.status_code
    v = response.headers.get("sl-violations")
    assert v, response.headers
    if code is not None:
        assert code in v, v
    with pytest.raises(AssertionError):
        assert_accepted(response)


def mollie_payout(base, value):
    return requests.post(base + "/v2/payouts", headers=MOLLIE_AUTH, json={
        "balanceId": "bal_gVMhHKqSSRYJyPsuoPNFH",
        "amount": {"currency": "EUR", "value": value},
        "description": "invoice 42"}, timeout=10)


def adyen_transfer(base, value):
    return requests.post(base + "/transfers", headers=ADYEN_AUTH, json={
        "amount": {"value": value, "currency": "EUR"},
        "balanceAccountId": "BA00000000000000000000001", "category": "bank",
        "counterparty": {"bankAccount": {
            "accountHolder": {"fullName": "A. Klaassen"},
            "accountIdentification": {"type": "iban",
                                      "iban": "NL91ABNA0417164300"}}},
        "priority": "regular", "reference": REF,
        "referenceForBeneficiary": "invoice 42",
        "description": "invoice 42"}, timeout=10)


# -- prism directly --

def test_paystack_direct(prism_server):
    base = prism_server("paystack").url
    r = paystack_transfer(base, 100000)
    assert_accepted(r)
    assert r.json()["status"] is True
    refused(paystack_transfer(base, "100000"), "must be integer")


def test_stripe_direct(prism_server):
    base = prism_server("stripe").url
    assert_accepted(stripe_payout(base))
    refused(stripe_payout(base, json_body=True), "x-www-form-urlencoded")


def test_mollie_direct(prism_server):
    """The whole OpenAPI 3.1 file loads; a hal+json payout answers, and a
    number where Mollie wants a decimal string is refused."""
    base = prism_server("mollie").url
    r = mollie_payout(base, "10.00")
    assert_accepted(r)
    assert r.headers["content-type"].startswith("application/hal+json")
    assert r.json()["resource"] == "payout"
    refused(mollie_payout(base, 1000), "must be string")
    assert_accepted(requests.get(base + "/v2/payouts/payout_j8NvRAM2WNZtsy"
                                 "kpLEX8J", headers=MOLLIE_AUTH, timeout=10))
    assert_accepted(requests.delete(base + "/v2/payouts/payout_j8NvRAM2WN"
                                    "ZtsykpLEX8J", headers=MOLLIE_AUTH,
                                    timeout=10))


def test_adyen_direct(prism_server):
    base = prism_server("adyen").url
    assert_accepted(adyen_transfer(base, 1000))
    refused(adyen_transfer(base, "1000"), "must be integer")
    r = requests.post(base + "/transfers", json={}, timeout=10)
    assert r.status_code == 401
    refused(r)


def test_missing_credential_is_refused(prism_server):
    r = requests.post(prism_server("stripe").url + "/v1/payouts",
                      data={"amount": "1", "currency": "usd"}, headers=FORM,
                      timeout=10)
    assert r.status_code == 401
    refused(r)


# -- through the recording proxy, as nginx's calls go --

def test_paystack_through_proxy(mock_provider):
    good = mock_provider("paystack")
    assert_accepted(paystack_transfer(good.url, 100000))
    (ex,) = good.got("POST", "/transfer")
    assert ex.accepted and ex.status == 200 and ex.violations is None
    assert ex.json["reference"] == REF
    assert ex.headers["authorization"] == PAYSTACK_AUTH["Authorization"]
    good.assert_clean()

    bad = mock_provider("paystack", strict=False)
    paystack_transfer(bad.url, "100000")
    (ex,) = bad.wait(lambda xs: xs)
    assert not ex.accepted and ex.status == 422
    assert any(v["location"] == ["request", "body", "amount"]
               for v in ex.violations), ex.violations
    with pytest.raises(AssertionError, match="must be integer"):
        bad.assert_clean()


def test_stripe_through_proxy(mock_provider):
    good = mock_provider("stripe")
    assert_accepted(stripe_payout(good.url))
    (ex,) = good.got("POST", "/v1/payouts")
    assert ex.accepted
    assert ex.body.startswith(b"amount=1000&")
    assert ex.headers["idempotency-key"] == REF
    assert ex.headers["stripe-account"] == "acct_123"
    good.assert_clean()

    bad = mock_provider("stripe", strict=False)
    stripe_payout(bad.url, json_body=True)
    (ex,) = bad.got()
    assert ex.status == 415 and ex.violations
    assert bad.problems() == [ex]


def test_stand_in_answers(mock_provider):
    """respond: answers prism cannot give (a 500, a specific status), not
    checked against the spec and not forwarded."""
    p = mock_provider("paystack")
    p.respond = lambda ex: (500, None, '{"status":false}') \
        if ex.path == "/transfer" else None
    r = paystack_transfer(p.url, 100000)
    assert r.status_code == 500 and r.json() == {"status": False}
    r = requests.get(p.url + "/transfer/verify/" + REF,
                     headers=PAYSTACK_AUTH, timeout=10)
    assert_accepted(r)
    stand_in, verify = p.got()
    assert stand_in.stand_in and stand_in.status == 500
    assert not verify.stand_in and verify.accepted
    assert p.problems() == []


def test_exchange_repr_names_the_violation():
    ex = Exchange("POST", "/transfer", {}, b"{}")
    ex.status, ex.violations = 422, [{"message": "amount must be integer"}]
    assert "amount must be integer" in repr(ex) and not ex.accepted
