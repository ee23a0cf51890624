"""GET /v1/payouts/{uuid} is rendered in C from plain columns (issue 12,
src/ngx_http_payout_render.c): its keys, their order and their values
are those of payout_json(p), the SQL definition the lists still use,
for every kind of payout and recipient."""

import json
import uuid as uuidlib

import pytest

from payout_helpers import bank, create, mobile, sandbox_nginx

RECIPIENTS = {
    "bank": dict(recipient_type="bank_account", name="Jane \"Q\" Doe",
                 email="jane@example.com", phone="+2348000000000",
                 bank_code="058", bank_name="GTBank",
                 bank_account_name="JANE DOE", account_number_last4="6789",
                 metadata='{"ref": "a\\u00e9\\"b", "n": 12, "x": 1.5, '
                          '"ok": true, "none": null}',
                 idempotency_key="rk-1"),
    "mobile": dict(recipient_type="mobile_money",
                   mobile_money_provider="MTN",
                   mobile_money_last4="4567", country="GH"),
    "connected": dict(recipient_type="connected_account",
                      account_id="acct_1Nv0FGQ9RKHgCVdK", country="US"),
    "balance": dict(recipient_type="bank_account", gateway="paystack",
                    balance_id="bal_123"),
}

PAYOUTS = {
    "plain": dict(),
    "metadata": dict(metadata='{"order": "ord_1", "tags": 3, '
                              '"nested_ok": "\\u2603", "z": -0.25}',
                     narration="Rent \u2014 \"March\"\n",
                     idempotency_key="pk-1"),
    "failed": dict(status="canceled", sub_status="canceled_failure",
                   failure_reason="Account closed: \"no\"",
                   gateway_payout_id="tr_123"),
    "next_action": dict(next_action="otp_required",
                        gateway_payout_id="TRF_1"),
    "redirect": dict(next_action="redirect",
                     next_action_url="https://pay.example/3ds?x=1&y=\"2\"",
                     gateway_payout_id="PNE_1"),
    "webhooks": dict(webhook_urls=["https://a.example/h?x=1,2",
                                   "https://b.example/\"q\" {x}"]),
    "success": dict(status="success", sub_status="success"),
    # larger than the renderer's first guess at a page's size: it grows
    "big": dict(metadata='{"notes": "%s", "tags": [%s]}'
                         % ("\u00e9x\\\"" * 1500,
                            ", ".join(['"t%d"' % i for i in range(300)])),
                narration="n" * 400),
}


def insert_recipient(pg, tenant, fields):
    row = dict(tenant_id=tenant.id, gateway="sandbox",
               fingerprint=uuidlib.uuid4().bytes * 2)
    row.update(fields)
    cols = ", ".join(row)
    return pg.sql("INSERT INTO recipients (%s) VALUES (%s) RETURNING id"
                  % (cols, ", ".join(["%s"] * len(row))),
                  tuple(row.values()))[0][0]


def insert_payout(pg, tenant, recipient_id, fields):
    row = dict(tenant_id=tenant.id, recipient_id=recipient_id,
               amount=12345, currency="NGN", gateway="sandbox",
               status="pending", sub_status="pending_created")
    row.update(fields)
    cols = ", ".join(row)
    return pg.sql("INSERT INTO payouts (%s) VALUES (%s) RETURNING uuid"
                  % (cols, ", ".join(["%s"] * len(row))),
                  tuple(row.values()))[0][0]


def ordered(text):
    return json.loads(text, object_pairs_hook=list)


def assert_same_as_sql(http, ngx, pg, tenant, payout_uuid):
    r = http.get(ngx.url("/v1/payouts/" + str(payout_uuid)),
                 headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    want = pg.sql("SELECT payout_json(p)::text FROM payouts p "
                  "WHERE uuid = %s", (str(payout_uuid),))[0][0]
    assert ordered(r.text) == ordered(want)
    return r.json()


@pytest.mark.parametrize("recipient", sorted(RECIPIENTS) + [None])
@pytest.mark.parametrize("payout", sorted(PAYOUTS))
def test_get_renders_like_payout_json(nginx, pg, tenant, http, recipient,
                                      payout):
    rid = (insert_recipient(pg, tenant, RECIPIENTS[recipient])
           if recipient else None)
    body = assert_same_as_sql(http, nginx, pg, tenant,
                              insert_payout(pg, tenant, rid,
                                            PAYOUTS[payout]))
    assert (body["recipient"] is None) == (recipient is None)


def test_live_payout_and_recipient(nginx, pg, tenant_factory, http):
    live = tenant_factory(mode="live")
    rid = insert_recipient(pg, live, dict(RECIPIENTS["bank"], livemode=True))
    uuid = insert_payout(pg, live, rid, dict(livemode=True))
    body = assert_same_as_sql(http, nginx, pg, live, uuid)
    assert body["livemode"] is True and body["recipient"]["livemode"] is True


def test_sandbox_payouts(nginx_factory, pg, tenant, http):
    ngx = sandbox_nginx(nginx_factory)
    for body in (bank(metadata={"a": "b", "n": 1}, narration="x"),
                 mobile(webhook_urls=["https://example.com/h"])):
        out = create(http, ngx, tenant, body)
        got = assert_same_as_sql(http, ngx, pg, tenant, out["payout_uuid"])
        assert got["recipient"]["bank_account_number"] in (
            None, "******6789")


def test_unknown_and_other_tenant_are_404(nginx, pg, tenant, tenant_factory,
                                          http):
    uuid = insert_payout(pg, tenant, None, {})
    other = tenant_factory()
    for t, u in ((other, uuid), (tenant, uuidlib.uuid4())):
        r = http.get(nginx.url("/v1/payouts/%s" % u), headers=t.headers)
        assert r.status_code == 404, r.text


def test_list_renders_like_payout_json(nginx, pg, tenant, http):
    # page mode renders in C too: every kind on one page, and a page
    # past the end, and an empty list
    r = http.get(nginx.url("/v1/payouts"), headers=tenant.headers)
    assert r.status_code == 200 and r.json()["data"] == []
    for recipient in sorted(RECIPIENTS) + [None]:
        rid = (insert_recipient(pg, tenant, RECIPIENTS[recipient])
               if recipient else None)
        for payout in sorted(PAYOUTS):
            fields = dict(PAYOUTS[payout])
            if "idempotency_key" in fields:
                fields["idempotency_key"] += "-%s" % recipient
            insert_payout(pg, tenant, rid, fields)
    want = pg.sql("SELECT payout_json(p)::text FROM payouts p "
                  "WHERE tenant_id = %s ORDER BY id DESC", (tenant.id,))
    for params, rows in (({"limit": 100}, want),
                         ({"limit": 7, "page": 2}, want[7:14]),
                         ({"limit": 7, "page": 99},
                          want[(len(want) - 1) // 7 * 7:]),
                         ({"limit": 5, "sortBy": "id:ASC"},
                          list(reversed(want))[:5])):
        r = http.get(nginx.url("/v1/payouts"), params=params,
                     headers=tenant.headers)
        assert r.status_code == 200, r.text
        body = json.loads(r.text, object_pairs_hook=list)
        data = dict(body)["data"]
        assert data == [ordered(w[0]) for w in rows], params
