"""Authenticate before parsing the body (issue 13, item 10): a client
without a valid API key never gets its JSON parsed, whatever it sends."""

import pytest

from payout_helpers import assert_error, post_json

BAD_JSON = '{"amount": 1000, "currency": '        # cut short

FORGED = "sk_test_" + "A" * 40                      # well-formed, unknown


class Anonymous:
    headers = {}


class Key:
    def __init__(self, value):
        self.headers = {"Authorization": value}


@pytest.mark.parametrize("who", [
    Anonymous(), Key("Basic dXNlcjpwYXNz"), Key("Bearer not-a-key"),
    Key("Bearer " + FORGED)],
    ids=["no key", "not bearer", "malformed key", "unknown key"])
@pytest.mark.parametrize("path", ["/v1/payouts", "/v1/payout-recipients",
                                  "/v1/webhook-endpoints"])
def test_unauthenticated_invalid_json_is_401(nginx, http, who, path):
    r = post_json(http, nginx, who, path, BAD_JSON)
    assert_error(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_authenticated_invalid_json_is_400(nginx, http, tenant):
    r = post_json(http, nginx, tenant, "/v1/payouts", BAD_JSON)
    assert_error(r, 400, "invalid_json")


def test_unauthenticated_big_body_keeps_the_connection(nginx, http, tenant):
    """The refused body is read or discarded: the next request on the same
    connection is answered normally."""
    big = "[" + "1," * 400000 + "1]"                # ~800 KB of JSON
    for who in (Anonymous(), Key("Bearer " + FORGED)):
        r = post_json(http, nginx, who, "/v1/payouts", big)
        assert_error(r, 401, "unauthorized")
        r = http.get(nginx.url("/v1/payouts"), headers=tenant.headers)
        assert r.status_code == 200, r.text


def test_public_route_needs_no_key(nginx, http):
    r = http.get(nginx.url("/v1/health"))
    assert r.status_code in (200, 503), r.text
