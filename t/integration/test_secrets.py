"""Secrets in logs (issue 13, item 7): API keys, webhook secrets and
account numbers sent through failure paths never reach the error log,
even at debug level, except in the header dumps nginx's core writes at
info and debug before the module runs (docs/operations.md, "Logging")."""

import base64
import os
import re
import socket
import uuid as uuidlib

import pytest

from conftest import Nginx, free_port
from payout_helpers import bank, create, post_json, sandbox_nginx, wait_for

# nginx core's own lines that carry request headers verbatim
CORE_HEADER_DUMP = re.compile(
    r'\[debug\] .*http header: "Authorization: '
    r'|\[info\] .*client sent duplicate header line: "Authorization: ')

LEVEL = re.compile(r"\[(debug|info|notice|warn|error|crit|alert|emerg)\]")


def debug_log(conf):
    """The whole error log at debug level."""
    assert "error.log info;" in conf
    return conf.replace("error.log info;", "error.log debug;")


def read_log(ngx):
    with open(ngx.error_log, errors="replace") as f:
        return f.read()


def whsec():
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def raw_request(ngx, lines, body=b""):
    s = socket.create_connection(("127.0.0.1", ngx.port), timeout=5)
    try:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    finally:
        s.close()
    return out


def assert_not_logged(log, secrets):
    for name, value in secrets.items():
        assert value not in log, "%s appears in the error log" % name


def assert_only_core_dumps(log, name, value):
    """value appears only where nginx's core dumps headers, at info or
    debug: never at notice or above, never in a line of the module."""
    for line in log.splitlines():
        if value not in line:
            continue
        assert CORE_HEADER_DUMP.search(line), \
            "%s appears in the error log: %s" % (name, line)
        assert LEVEL.search(line).group(1) in ("debug", "info"), line


def test_no_secret_in_a_debug_log(nginx_factory, pg, tenant, http):
    ngx = sandbox_nginx(nginx_factory, edit=debug_log)
    closed = free_port()
    token = "tok" + uuidlib.uuid4().hex
    secret = whsec()
    account = "55512%05d" % (os.getpid() % 100000)
    secrets = {"webhook secret": secret, "account number": account,
               "URL token": token}
    keys = {"tenant's key": tenant.key}

    # an unknown key and a malformed one
    unknown = "sk_test_" + uuidlib.uuid4().hex + "ABCDEFGH"
    malformed = "sk_live_" + uuidlib.uuid4().hex
    keys.update({"unknown key": unknown, "malformed key": malformed})
    for key in (unknown, malformed):
        r = http.post(ngx.url("/v1/payouts"), data="{}",
                      headers={"Authorization": "Bearer " + key,
                               "Content-Type": "application/json"})
        assert r.status_code == 401, r.text

    # a duplicate Authorization header: nginx refuses it, 400
    out = raw_request(ngx, [
        "GET /v1/payouts HTTP/1.1", "Host: localhost", "Connection: close",
        "Authorization: Bearer " + tenant.key,
        "Authorization: Bearer " + unknown])
    assert out.startswith(b"HTTP/1.1 400"), out[:200]

    # a payout and an endpoint whose deliveries fail (nothing listens)
    url = "http://127.0.0.1:%d/hook?token=%s" % (closed, token)
    r = post_json(http, ngx, tenant, "/v1/webhook-endpoints", {"url": url})
    assert r.status_code == 201, r.text
    secrets["endpoint secret"] = r.json()["secret"]
    out = create(http, ngx, tenant, bank(account, webhook_urls=[url],
                                         webhook_secret=secret))
    u = out["payout_uuid"]

    wait_for(lambda: pg.sql(
        "SELECT count(*) FROM webhook_deliveries d JOIN payouts p "
        "ON p.id = d.payout_id WHERE p.uuid = %s AND d.attempts > 0 "
        "AND d.last_error IS NOT NULL", (u,))[0][0] >= 1,
        what="failed deliveries: %r" % (pg.sql(
            "SELECT d.url, d.state, d.attempts, d.last_error FROM "
            "webhook_deliveries d JOIN payouts p ON p.id = d.payout_id "
            "WHERE p.uuid = %s", (u,)),))
    wait_for(lambda: "failed: " in read_log(ngx), what="the failure log")

    # a rejected transfer, whose account number is the sandbox's 0002
    create(http, ngx, tenant, bank(account[:-4] + "0002",
                                   webhook_secret=secret), status=400)

    log = read_log(ngx)
    assert "[debug]" in log and "/hook" in log and " failed: " in log
    assert_not_logged(log, secrets)
    for name, value in keys.items():
        assert_only_core_dumps(log, name, value)


@pytest.fixture
def leaky_trigger(pg):
    """Makes payout inserts fail the way a bad value would: a data error
    (22P02, whose message quotes the value) and a check violation (whose
    detail holds the whole row), for narrations marked so."""
    pg.sql("""
CREATE OR REPLACE FUNCTION test_leaky() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.narration LIKE 'leakcast-%%' THEN
        PERFORM NEW.narration::uuid;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER test_leaky BEFORE INSERT ON payouts
    FOR EACH ROW EXECUTE FUNCTION test_leaky();
ALTER TABLE payouts ADD CONSTRAINT test_leaky_row
    CHECK (narration NOT LIKE 'leakrow-%%') NOT VALID;
""")
    yield
    pg.sql("DROP TRIGGER test_leaky ON payouts; DROP FUNCTION test_leaky(); "
           "ALTER TABLE payouts DROP CONSTRAINT test_leaky_row;")


def test_failed_query_logs_no_value(nginx_factory, pg, tenant, http,
                                    leaky_trigger):
    ngx = sandbox_nginx(nginx_factory, edit=debug_log)
    for prefix in ("leakcast-", "leakrow-"):
        marker = prefix + uuidlib.uuid4().hex
        r = post_json(http, ngx, tenant, "/v1/payouts",
                      bank(narration=marker))
        assert r.status_code == 500, r.text
        assert marker not in r.text
        log = read_log(ngx)
        assert marker not in log, "the failed query's value is logged"
        assert "Failing row" not in log and "DETAIL" not in log

    log = read_log(ngx)
    assert "database query failed: SQLSTATE 22P02: invalid input syntax " \
           "for type uuid" in log, log[-3000:]
    assert "database query failed: SQLSTATE 23514: new row for relation " \
           "\"payouts\" violates check constraint \"test_leaky_row\"" in log


def test_misspelt_gateway_secret_is_not_logged(pg):
    """A provider secret written inline by mistake ("secret=..." instead
    of secret_file=) fails the configuration without being echoed."""
    value = "prov_" + uuidlib.uuid4().hex
    ngx = Nginx(pg, http="payout_gateway acme connector=sandbox "
                "url=http://127.0.0.1:9/ secret=%s;" % value)
    try:
        out = ngx.check_config()
        assert out.returncode != 0, out
        text = out.stdout + out.stderr + read_log(ngx)
        assert 'invalid parameter "secret=..."' in text, text
        assert value not in text, text
    finally:
        ngx.destroy()
