"""Debug logging (issue 7, item 8): with "error_log ... debug" the module's
own lines ("payout api:", "payout auth:", "payout pg:", "payout http:")
show a request's whole path through the router, authentication, the
PostgreSQL pool and the HTTP client, and hold no secret: no API key, no
webhook secret, no account number, no SQL parameter value, no URL query
(docs/operations.md, "Logs")."""

import os
import re
import uuid as uuidlib

from conftest import free_port
from payout_helpers import bank, create, post_json, sandbox_nginx, wait_for
from test_secrets import (assert_only_core_dumps, debug_log, read_log,
                          whsec)

MODULE_LINE = re.compile(r"\[debug\] \d+#\d+: (?:\*(\d+) )?payout "
                         r"(?:api|auth|pg|http): ")


def module_lines(log):
    return [line for line in log.splitlines() if MODULE_LINE.search(line)]


def assert_in_order(lines, patterns):
    """Each pattern matches a line after the one the previous matched."""
    at = 0
    for pattern in patterns:
        regex = re.compile(pattern)
        for i in range(at, len(lines)):
            if regex.search(lines[i]):
                at = i + 1
                break
        else:
            raise AssertionError("no line matches %r after line %d of:\n%s"
                                 % (pattern, at, "\n".join(lines)))


def test_a_payout_shows_its_path(nginx_factory, tenant, http):
    ngx = sandbox_nginx(nginx_factory, edit=debug_log)
    secret = whsec()
    account = "55513%05d" % (os.getpid() % 100000)
    narration = "note-" + uuidlib.uuid4().hex
    token = "tok" + uuidlib.uuid4().hex
    hook = "http://127.0.0.1:%d/hook?token=%s" % (free_port(), token)

    create(http, ngx, tenant, bank(account, narration=narration,
                                   webhook_secret=secret,
                                   webhook_urls=[hook]))
    wait_for(lambda: re.search(r"payout http: POST http://127\.0\.0\.1:\d+"
                               r"/hook done", read_log(ngx)),
             what="the webhook's attempt")

    log = read_log(ngx)
    lines = module_lines(log)
    conn = re.search(r'\*(\d+) payout api: POST "payouts": payouts',
                     log).group(1)
    req = r"\*%s payout " % conn
    sandbox = r"http://127\.0\.0\.1:%d/sandbox/transfers" % ngx.port

    assert_in_order(lines, [
        req + r'api: POST "payouts": payouts$',
        req + r"api: reading the body$",
        req + r"api: body read$",
        req + r'auth: looking up the test key "%s\.\.\."$'
        % re.escape(tenant.key[:16]),
        req + r"pg: #\d+ (preparing|running) payout_\d+, 1 parameters: "
              r'"SELECT k\.tenant_id',
        req + r"pg: #\d+ result PGRES_TUPLES_OK, 1 rows, \d+ ms$",
        req + r"pg: query done: ok$",
        req + r"auth: 1 keys have the prefix$",
        req + r'auth: tenant %d "%s", test mode$' % (tenant.id, tenant.name),
        req + r"api: JSON body of \d+ bytes parsed$",
        req + r'api: running "payouts"$',
        req + r"pg: #\d+ (preparing|running) payout_\d+, \d+ parameters: ",
        req + r"pg: query done: ok$",
        r"payout http: POST %s added, 1000 ms, operator's destination"
        % sandbox,
        r'payout api: POST "transfers": transfers$',
        r"payout http: POST %s done: status 201, \d+ ms, no error$"
        % sandbox,
    ])

    # the merchant's webhook: its URL without the query
    assert re.search(r"payout http: POST http://127\.0\.0\.1:\d+/hook "
                     r"added, \d+ ms, webhook, private allowed", log), log

    for name, value in {"webhook secret": secret, "account number": account,
                        "SQL parameter (narration)": narration,
                        "URL token": token}.items():
        assert value not in log, "%s appears in the error log" % name
    assert_only_core_dumps(log, "API key", tenant.key)


def test_refusals_show_why(nginx_factory, tenant, http):
    ngx = sandbox_nginx(nginx_factory, edit=debug_log,
                        webhook_allow_private=False)

    unknown = "sk_test_" + uuidlib.uuid4().hex + "ABCDEFGH"
    malformed = "sk_live_" + uuidlib.uuid4().hex
    for key in (unknown, malformed):
        r = http.post(ngx.url("/v1/payouts"), data="{}",
                      headers={"Authorization": "Bearer " + key,
                               "Content-Type": "application/json"})
        assert r.status_code == 401, r.text

    r = post_json(http, ngx, tenant, "/v1/payouts", "{not json")
    assert r.status_code == 400, r.text

    r = http.delete(ngx.url("/v1/payouts"), headers=tenant.headers)
    assert r.status_code == 405, r.text

    # a name, which the API takes, for an address the guard refuses
    hook = "http://localhost:%d/hook" % free_port()
    create(http, ngx, tenant, bank(webhook_urls=[hook]))
    wait_for(lambda: "payout http: SSRF guard refused" in read_log(ngx),
             what="the SSRF guard's refusal")

    log = read_log(ngx)
    lines = module_lines(log)
    assert_in_order(lines, [
        r'payout auth: looking up the test key "%s\.\.\."$'
        % re.escape(unknown[:16]),
        r"payout auth: 0 keys have the prefix$",
        r"payout auth: refused: Unknown or revoked API key\.$",
        r"payout api: key refused before reading the body$",
        r"payout auth: refused: Invalid API key\.$",
        r"payout api: JSON body of 9 bytes refused$",
        r'payout api: DELETE "payouts": method not allowed$',
        r"payout http: POST %s added, \d+ ms, webhook, SSRF guard"
        % re.escape(hook),
        r"payout http: SSRF guard refused to connect to "
        r"(127\.0\.0\.1|\[::1\]):\d+$",
        r"payout http: POST %s done: status 0, \d+ ms, destination "
        r"address not allowed$" % re.escape(hook),
    ])

    for name, value in {"unknown key": unknown,
                        "malformed key": malformed}.items():
        assert_only_core_dumps(log, name, value)
