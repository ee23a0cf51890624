"""POST /v1/payouts makes at most two database round trips on the
gateway side (issue 12): the create, which also returns what the send
needs, and the transition; none for a key the worker has cached.  Read
from the debug log's "payout pg: ... running" lines (the first 64
characters of each statement)."""

import re

from payout_helpers import bank, create, sandbox_nginx
from test_secrets import debug_log, read_log

QUERY = re.compile(r'payout pg: #\d+ (?:running|preparing) \S+, '
                   r'\d+ parameters: "([^"]*)"')

KINDS = {
    "key": "SELECT k.tenant_id, k.mode",
    "create": "SELECT i_payout_uuid, i_amount",
    "instruction": "SELECT i.payout_uuid, i.amount",
    "transition": "SELECT applied, sub_status, gateway_payout_id",
}


def queries(text):
    found = dict.fromkeys(KINDS, 0)
    for sql in QUERY.findall(text):
        for kind, prefix in KINDS.items():
            if sql.startswith(prefix):
                found[kind] += 1
    return found


def test_create_makes_two_round_trips(nginx_factory, tenant, http):
    ngx = sandbox_nginx(nginx_factory, edit=debug_log)

    # the key is looked up once, then cached
    r = http.get(ngx.url("/v1/payouts?limit=1"), headers=tenant.headers)
    assert r.status_code == 200
    assert queries(read_log(ngx))["key"] == 1

    before = len(read_log(ngx))
    out = create(http, ngx, tenant, bank())
    assert out["status"] == "pending_promise", out
    during = read_log(ngx)[before:]

    assert queries(during) == {"key": 0, "create": 1, "instruction": 0,
                               "transition": 1}, during[-4000:]


def test_replay_and_staged_send_nothing(nginx_factory, tenant, http):
    ngx = sandbox_nginx(nginx_factory, edit=debug_log)
    first = create(http, ngx, tenant, bank(idempotency_key="rt-1"))
    before = len(read_log(ngx))
    again = create(http, ngx, tenant, bank(idempotency_key="rt-1"))
    assert again["payout_uuid"] == first["payout_uuid"]
    assert not again["resource_created"]
    staged = create(http, ngx, tenant, bank(stage=True))
    assert staged["status"] == "pending_staged"
    assert queries(read_log(ngx)[before:]) == {
        "key": 0, "create": 2, "instruction": 0, "transition": 0}
