"""Errors are always JSON in API locations (SPEC §5), including the ones
nginx itself produces (client_max_body_size, limit_req); other locations
keep nginx's own pages (SPEC §4: nginx directives keep working)."""

import json
import socket

import pytest
from payout_helpers import assert_error

STATIC = 'location = /static { return 200 "ok"; }'
HTML = 'location /html/ { return 404; }'
LIMIT_HTTP = 'limit_req_zone $binary_remote_addr zone=z:1m rate=1r/m;'


def assert_retry_after(r):
    assert int(r.headers["Retry-After"]) > 0


@pytest.mark.parametrize("path", ["/v1/nope", "/v1/", "/v1/payouts/x/y/z",
                                  "/v1/payoutsx"])
def test_unknown_route_is_404_json(nginx, http, path):
    r = http.get(nginx.url(path))
    assert_error(r, 404)


def test_unknown_route_is_404_before_auth(nginx, tenant, http):
    r = http.get(nginx.url("/v1/nope"), headers=tenant.headers)
    assert_error(r, 404)
    assert "WWW-Authenticate" not in r.headers


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_wrong_method_is_405_with_allow(nginx, http, method):
    # no key: the method is checked before the key
    r = http.request(method, nginx.url("/v1/payouts"), data="{}",
                     headers={"Content-Type": "application/json"})
    assert_error(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "GET, HEAD, POST"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_wrong_method_on_a_read_only_route(nginx, http, method):
    r = http.request(method, nginx.url("/v1/health"), data="{}",
                     headers={"Content-Type": "application/json"})
    assert_error(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "GET, HEAD"


def test_head(nginx, tenant, http):
    r = http.head(nginx.url("/v1/payouts"), headers=tenant.headers)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.content == b""
    # the connection is still usable: HEAD sent no stray body
    r = http.get(nginx.url("/v1/payouts"), headers=tenant.headers)
    assert r.status_code == 200
    assert r.json()["data"] == []


def test_head_without_key_is_401(nginx, http):
    r = http.head(nginx.url("/v1/payouts"))
    assert r.status_code == 401
    assert r.headers["Content-Type"] == "application/json"
    assert r.content == b""


def test_body_too_large_is_413_json(nginx_factory, tenant, http):
    ngx = nginx_factory(location="client_max_body_size 1k;")
    body = '{"pad":"%s"}' % ("x" * 4096)
    headers = dict(tenant.headers, **{"Content-Type": "application/json"})
    r = http.post(ngx.url("/v1/payouts"), data=body, headers=headers)
    assert_error(r, 413, "body_too_large")
    assert b"<html" not in r.content.lower()


def test_chunked_body_too_large_is_413_json(nginx_factory, tenant, http):
    ngx = nginx_factory(location="client_max_body_size 1k;")

    def chunks():
        for _ in range(8):
            yield b"x" * 1024

    r = http.get(ngx.url("/v1/payouts"), data=chunks(),
                 headers=tenant.headers)
    assert_error(r, 413, "body_too_large")


def test_small_body_under_limit_passes(nginx_factory, tenant, http):
    ngx = nginx_factory(location="client_max_body_size 1k;")
    r = http.get(ngx.url("/v1/payouts"), data="x" * 100,
                 headers=tenant.headers)
    assert r.status_code == 200


def test_limit_req_429_json(nginx_factory, http):
    ngx = nginx_factory(http=LIMIT_HTTP + " limit_req_status 429;",
                        location="limit_req zone=z;")
    r = http.get(ngx.url("/v1/health"))
    assert r.status_code == 200
    r = http.get(ngx.url("/v1/health"))
    assert_error(r, 429, "rate_limited")
    assert_retry_after(r)


def test_limit_req_default_503_json(nginx_factory, http):
    ngx = nginx_factory(http=LIMIT_HTTP, location="limit_req zone=z;")
    r = http.get(ngx.url("/v1/nope"))
    assert_error(r, 404)
    r = http.get(ngx.url("/v1/nope"))
    assert_error(r, 503, "service_unavailable")
    assert_retry_after(r)


def test_non_api_locations_untouched(nginx_factory, http):
    ngx = nginx_factory(server=STATIC + " " + HTML)
    r = http.get(ngx.url("/static"))
    assert r.status_code == 200
    assert r.text == "ok"
    assert "json" not in r.headers.get("Content-Type", "")

    r = http.get(ngx.url("/html/x"))
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("text/html")
    assert b"<html>" in r.content

    # no location at all: nginx's own 404 page for a missing file
    r = http.get(ngx.url("/nowhere"))
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("text/html")


def test_non_api_limit_req_stays_html(nginx_factory, http):
    # "return" would answer before limit_req runs: serve a (missing) file
    ngx = nginx_factory(http=LIMIT_HTTP,
                        server='location = /limited { limit_req zone=z; }')
    assert http.get(ngx.url("/limited")).status_code == 404
    r = http.get(ngx.url("/limited"))
    assert r.status_code == 503
    assert r.headers["Content-Type"].startswith("text/html")
    assert "Retry-After" not in r.headers


def raw_request(port, data, timeout=5):
    """Send bytes, return the whole response (nginx closes after it)."""
    with socket.create_connection(("127.0.0.1", port), timeout) as s:
        s.sendall(data)
        s.settimeout(timeout)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def test_malformed_chunked_body_is_400_json(nginx, tenant):
    """nginx's own 400 for a broken body, inside an API location."""
    resp = raw_request(nginx.port, (
        "GET /v1/payouts HTTP/1.1\r\nHost: x\r\n"
        "Authorization: Bearer %s\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
        "zz\r\nnot a chunk\r\n0\r\n\r\n" % tenant.key).encode())
    head, _, body = resp.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"\r\nContent-Type: application/json\r\n" in head + b"\r\n"
    assert json.loads(body)["error"]["code"]


def test_discarded_body_keeps_the_connection_usable(nginx, http):
    """A 405 with a body nginx discards; the next request on the same
    keep-alive connection is answered normally."""
    r = http.post(nginx.url("/v1/health"), data="x" * 5000,
                  headers={"Content-Type": "application/json"})
    assert_error(r, 405)
    r = http.get(nginx.url("/v1/health"))
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


# Requests nginx rejects before it picks a location.  Every configuration
# we ship includes conf/payout_errors.conf at server level, so these are
# JSON too, with nginx's status.
BEFORE_LOCATION = [
    ("bad_request_line", b"GARBAGE\r\n\r\n", 400, "bad_request"),
    ("missing_host", b"GET /v1/health HTTP/1.1\r\n\r\n", 400,
     "bad_request"),
    ("duplicate_host", b"GET /v1/health HTTP/1.1\r\nHost: a\r\n"
     b"Host: b\r\n\r\n", 400, "bad_request"),
    ("duplicate_authorization", b"GET /v1/payouts HTTP/1.1\r\nHost: a\r\n"
     b"Authorization: Bearer x\r\nAuthorization: Bearer y\r\n\r\n", 400,
     "bad_request"),
    ("uri_too_long", b"GET /v1/" + b"a" * 20000 + b" HTTP/1.1\r\n"
     b"Host: a\r\n\r\n", 414, "uri_too_long"),
    ("header_too_large", b"GET /v1/health HTTP/1.1\r\nHost: a\r\n"
     b"X-Big: " + b"a" * 20000 + b"\r\n\r\n", 400, "header_too_large"),
    ("transfer_encoding", b"POST /v1/payouts HTTP/1.1\r\nHost: a\r\n"
     b"Transfer-Encoding: gzip\r\n\r\n", 501, "not_implemented"),
    ("http_version", b"GET /v1/health HTTP/2.0\r\nHost: a\r\n\r\n", 505,
     "http_version_not_supported"),
]


@pytest.mark.parametrize("raw,status,code",
                         [c[1:] for c in BEFORE_LOCATION],
                         ids=[c[0] for c in BEFORE_LOCATION])
def test_errors_before_a_location_are_json(nginx, raw, status, code):
    resp = raw_request(nginx.port, raw)
    head, _, body = resp.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d" % status), head
    assert b"\r\nContent-Type: application/json\r\n" in head + b"\r\n"
    error = json.loads(body)["error"]
    assert error["code"] == code
    assert error["message"]


def test_error_pages_are_internal(nginx, http):
    r = http.get(nginx.url("/.payout-error/400"))
    assert r.status_code == 404


def test_without_the_error_pages_nginx_answers_html(nginx_factory):
    """What operators get if their own server block lacks the include."""
    ngx = nginx_factory(json_errors=False)
    resp = raw_request(ngx.port, BEFORE_LOCATION[0][1])
    assert resp.startswith(b"HTTP/1.1 400")
    assert b"<html>" in resp
