"""The payout-link page (issue 10): GET/POST /pay/{token}, the status
page, every state of a link, CSRF, validation with the API's messages, a
replayed and a concurrent submit, the headers of every answer, escaping,
the token kept out of the logs, and the directives at nginx -t."""

import hashlib
import html.parser
import os
import re
import secrets
import tempfile
import threading
import time

import pytest
import requests

from conftest import Nginx

PAGE = "location /pay/ { payout_link_page; }"

CSP = ("default-src 'none'; style-src 'self'; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")


def make_link(pg, tenant, amount=250000, currency="NGN", gateway="sandbox",
              methods=("bank_account", "mobile_money"), narration=None,
              name=None, email=None, phone=None, expires="1 day"):
    """A link made the way POST /payout-links makes one (its SQL): the
    token is returned, only its hash is stored."""
    token = secrets.token_urlsafe(32)
    digest = hashlib.sha256(token.encode()).digest()
    row = pg.sql(
        "SELECT outcome, body->>'link_uuid' FROM payout_link_create("
        "p_tenant => %s, p_livemode => false, p_idempotency_key => NULL, "
        "p_request_hash => NULL, p_token_hash => %s, p_amount => %s, "
        "p_currency => %s, p_gateway => %s, "
        "p_expires_at => now() + %s::interval, p_name => %s, "
        "p_email => %s, p_phone => %s, p_methods => %s, "
        "p_narration => %s, p_metadata => NULL, p_webhook_urls => NULL, "
        "p_webhook_secret_enc => NULL)",
        (tenant.id, digest, amount, currency, gateway, expires, name, email,
         phone, list(methods), narration))[0]
    assert row[0] == "created", row
    return token, row[1]


def link_row(pg, link_uuid):
    return pg.sql("SELECT status, payout_id FROM payout_links "
                  "WHERE uuid = %s", (link_uuid,))[0]


def payouts_of(pg, link_uuid):
    return pg.sql("SELECT p.uuid, p.sub_status, p.amount FROM payouts p "
                  "JOIN payout_links l ON l.id = p.link_id "
                  "WHERE l.uuid = %s", (link_uuid,))


def csrf_of(page):
    m = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
    assert m, page
    return m.group(1)


BANK = {"recipient_type": "bank_account", "name": "Ada Obi",
        "bank_account_number": "0123456789", "bank_code": "058",
        "bank_account_name": "Ada Obi"}


def open_form(http, ngx, token):
    r = http.get(ngx.url("/pay/" + token))
    assert r.status_code == 200, r.text
    return csrf_of(r.text)


def submit(http, ngx, token, fields, csrf=None):
    data = dict(fields)
    data["csrf"] = csrf if csrf is not None else open_form(http, ngx, token)
    return http.post(ngx.url("/pay/" + token), data=data,
                     allow_redirects=False)


def check_headers(r, csp=CSP):
    assert r.headers["Content-Security-Policy"] == csp
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def wait_status(http, ngx, token, want, timeout=15):
    deadline = time.time() + timeout
    while True:
        r = http.get(ngx.url("/pay/%s/status" % token))
        assert r.status_code == 200, r.text
        if want in r.text or time.time() > deadline:
            return r
        time.sleep(0.3)


class Labels(html.parser.HTMLParser):
    """Every visible input and its label."""

    def __init__(self):
        super().__init__()
        self.inputs = []
        self.labels = set()
        self.lang = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "label" and "for" in a:
            self.labels.add(a["for"])
        if tag == "input" and a.get("type") not in ("hidden", "radio"):
            self.inputs.append(a.get("id"))


@pytest.fixture
def page(nginx_factory):
    return nginx_factory(sandbox=True, server=PAGE)


# the form


def test_form_shows_the_link(page, pg, tenant, http):
    pg.sql("UPDATE tenants SET display_name = 'Acme Ltd' WHERE id = %s",
           (tenant.id,))
    token, _ = make_link(pg, tenant, amount=250000, narration="March fees",
                         name="Ada Obi", email="ada@example.com",
                         phone="+2348012345678")
    r = http.get(page.url("/pay/" + token))
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    check_headers(r)
    body = r.text
    assert "Acme Ltd" in body
    assert "NGN 2,500.00" in body
    assert "March fees" in body
    assert re.search(r"\d+ \w{3} \d{4}, \d\d:\d\d UTC", body)
    # the hints, pre-filled
    assert 'value="Ada Obi"' in body
    assert 'value="ada@example.com"' in body
    assert 'value="+2348012345678"' in body
    # both methods offered
    assert 'value="bank_account"' in body and 'value="mobile_money"' in body
    # no script, no external resource, a label for every field
    assert "<script" not in body
    assert "http://" not in body and "https://" not in body
    parser = Labels()
    parser.feed(body)
    assert parser.lang == "en"
    assert parser.inputs and set(parser.inputs) <= parser.labels
    # the CSRF cookie
    cookie = r.headers["Set-Cookie"]
    assert re.match(r"payout_csrf=[0-9a-f]{32}; ", cookie)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Path=/pay/" in cookie and "Secure" not in cookie


def test_display_name_falls_back_to_tenant_name(page, pg, tenant, http):
    token, _ = make_link(pg, tenant, amount=1000, currency="JPY")
    body = http.get(page.url("/pay/" + token)).text
    assert tenant.name in body
    assert "JPY 1,000" in body


def test_one_method_shows_only_its_fields(page, pg, tenant, http):
    token, _ = make_link(pg, tenant, methods=("mobile_money",))
    body = http.get(page.url("/pay/" + token)).text
    assert 'name="mobile_money_number"' in body
    assert 'name="bank_account_number"' not in body
    assert 'type="radio"' not in body


def test_stylesheet(page, http):
    r = http.get(page.url("/pay/payout.css"))
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/css; charset=utf-8"
    check_headers(r)
    assert "font-family" in r.text


# claiming


def test_claim_pays_through_the_sandbox(page, pg, tenant, http):
    token, link_uuid = make_link(pg, tenant, narration="Refund")
    r = submit(http, page, token, BANK)
    assert r.status_code == 303
    check_headers(r)
    assert r.headers["Location"] == token + "/status"
    claim = r.headers["Set-Cookie"]
    assert re.match(r"payout_claim=[0-9a-f]{64}; Path=/pay/; HttpOnly; "
                    r"SameSite=Strict$", claim)

    assert link_row(pg, link_uuid)[0] == "claimed"
    [(payout_uuid, _, amount)] = payouts_of(pg, link_uuid)
    assert amount == 250000

    r = wait_status(http, page, token, "Paid")
    check_headers(r)
    assert "Paid" in r.text and "http-equiv" not in r.text
    assert str(payout_uuid) in r.text
    assert payouts_of(pg, link_uuid)[0][1] == "success"

    # the account number is stored sealed, never in the clear
    rows = pg.sql("SELECT r.account_number_last4, "
                  "position('0123456789' in encode(r.account_number_enc, "
                  "'escape')) FROM recipients r JOIN payouts p "
                  "ON p.recipient_id = r.id WHERE p.uuid = %s",
                  (payout_uuid,))
    assert rows == [("6789", 0)]

    # GET of the claimed link, by the claimer: its status
    r = http.get(page.url("/pay/" + token), allow_redirects=False)
    assert r.status_code == 303
    assert r.headers["Location"] == token + "/status"


def test_mobile_money_claim(page, pg, tenant, http):
    token, link_uuid = make_link(pg, tenant, currency="GHS", amount=5000)
    r = submit(http, page, token, {
        "recipient_type": "mobile_money", "name": "Kofi",
        "mobile_money_number": "+233 24 123 4567",
        "mobile_money_provider": "MTN",
        # the other destination's leftovers are ignored
        "bank_account_number": "x"})
    assert r.status_code == 303, r.text
    wait_status(http, page, token, "Paid")
    assert payouts_of(pg, link_uuid)[0][1] == "success"


def test_pending_refreshes_then_failed(nginx_factory, pg, tenant, http):
    ngx = nginx_factory(sandbox=True, server=PAGE, webhook_delay="2s")
    token, link_uuid = make_link(pg, tenant)
    fields = dict(BANK, bank_account_number="0123450004")
    assert submit(http, ngx, token, fields).status_code == 303
    r = http.get(ngx.url("/pay/%s/status" % token))
    assert "Pending" in r.text
    assert re.search(r'<meta http-equiv="refresh" content="\d+">', r.text)
    r = wait_status(http, ngx, token, "Failed")
    assert "Failed" in r.text and "http-equiv" not in r.text
    assert payouts_of(pg, link_uuid)[0][1] == "canceled_failure"


def test_the_send_finishes_without_the_browser(page, pg, tenant, http):
    token, link_uuid = make_link(pg, tenant)
    csrf = open_form(http, page, token)
    # the answer is never read: the payout is sent all the same
    with requests.post(page.url("/pay/" + token),
                       data=dict(BANK, csrf=csrf),
                       cookies=http.cookies, allow_redirects=False,
                       stream=True):
        pass
    deadline = time.time() + 15
    while time.time() < deadline:
        rows = payouts_of(pg, link_uuid)
        if rows and rows[0][1] == "success":
            break
        time.sleep(0.3)
    assert payouts_of(pg, link_uuid)[0][1] == "success"


# bad input


def api_error(page, tenant, http, recipient):
    """What POST /v1/payouts says of the same recipient."""
    body = {"amount": 100, "currency": "NGN", "gateway": "sandbox"}
    body.update(recipient)
    r = http.post(page.url("/v1/payouts"), json=body,
                  headers=tenant.headers)
    assert r.status_code == 400, r.text
    return r.json()["error"]


@pytest.mark.parametrize("field,value", [
    ("bank_account_number", "12"),
    ("bank_code", "0"),
    ("email", "not-an-email"),
    ("phone", "12ab"),
    ("name", "x" * 300),
])
def test_bad_input_shown_next_to_the_field(page, pg, tenant, http, field,
                                           value):
    token, link_uuid = make_link(pg, tenant)
    fields = dict(BANK, email="ada@example.com")
    fields[field] = value
    r = submit(http, page, token, fields)
    assert r.status_code == 400
    check_headers(r)

    recipient = {k: v for k, v in fields.items()}
    err = api_error(page, tenant, requests, recipient)
    assert err["field"] == field
    message = html.escape(err["message"], quote=True).replace("&#x27;",
                                                              "&#39;")
    m = re.search(r'<p class="error" id="%s-error">(.*?)</p>' % field,
                  r.text)
    assert m, r.text
    assert m.group(1) == message
    assert 'aria-describedby="%s-error"' % field in r.text \
        or '%s-error"' % field in r.text
    # what was typed is kept
    assert 'value="%s"' % html.escape(value, quote=True) in r.text
    assert 'value="Ada Obi"' in r.text
    # nothing written
    assert link_row(pg, link_uuid) == ("open", None)
    assert payouts_of(pg, link_uuid) == []


def test_missing_destination(page, pg, tenant, http):
    token, link_uuid = make_link(pg, tenant)
    r = submit(http, page, token, {"recipient_type": "bank_account",
                                   "name": "Ada"})
    assert r.status_code == 400
    assert 'class="error"' in r.text or 'class="alert"' in r.text
    assert link_row(pg, link_uuid) == ("open", None)


def test_method_the_link_does_not_pay(page, pg, tenant, http):
    token, link_uuid = make_link(pg, tenant, methods=("bank_account",))
    r = submit(http, page, token, {
        "recipient_type": "mobile_money", "mobile_money_number": "233241234567",
        "mobile_money_provider": "MTN"})
    assert r.status_code == 400
    assert "only to a bank account" in r.text
    assert link_row(pg, link_uuid) == ("open", None)


def test_form_body_limits(page, pg, tenant, http):
    token, link_uuid = make_link(pg, tenant)
    csrf = open_form(http, page, token)
    r = http.post(page.url("/pay/" + token),
                  data={"csrf": csrf, "name": "x" * 9000})
    assert r.status_code == 413
    check_headers(r)
    # far larger: refused before a byte of it is read
    r = http.post(page.url("/pay/" + token), data={"x": "y" * 1100000})
    assert r.status_code == 413
    check_headers(r)
    r = http.post(page.url("/pay/" + token), json=dict(BANK, csrf=csrf))
    assert r.status_code == 415
    check_headers(r)
    assert link_row(pg, link_uuid) == ("open", None)


# CSRF


def test_csrf_refusals(page, pg, tenant, http):
    token, link_uuid = make_link(pg, tenant)
    other, _ = make_link(pg, tenant)
    csrf = open_form(http, page, token)

    cases = [
        # no field
        (http, {}),
        # a wrong field
        (http, {"csrf": "0" * 64}),
        # the field of another link
        (http, {"csrf": open_form(http, page, other)}),
    ]
    # the right field without the cookie
    cases.append((requests.Session(), {"csrf": csrf}))
    # the right field with another browser's cookie
    s = requests.Session()
    open_form(s, page, token)
    cases.append((s, {"csrf": csrf}))

    for session, extra in cases:
        r = session.post(page.url("/pay/" + token),
                         data=dict(BANK, **extra), allow_redirects=False)
        assert r.status_code == 403, extra
        check_headers(r)
        assert "could not be accepted" in r.text
        assert link_row(pg, link_uuid) == ("open", None)

    assert submit(http, page, token, BANK, csrf=csrf).status_code == 303


def test_cookie_kept_across_views(page, pg, tenant, http):
    token, _ = make_link(pg, tenant)
    r1 = http.get(page.url("/pay/" + token))
    assert "Set-Cookie" in r1.headers
    r2 = http.get(page.url("/pay/" + token))
    # one nonce per browser: a second tab's form stays valid
    assert "Set-Cookie" not in r2.headers
    assert csrf_of(r1.text) == csrf_of(r2.text)


# replay, concurrency, states


def test_replayed_submit_changes_nothing(page, pg, tenant, http):
    token, link_uuid = make_link(pg, tenant)
    csrf = open_form(http, page, token)
    assert submit(http, page, token, BANK, csrf=csrf).status_code == 303
    first = [row[0] for row in payouts_of(pg, link_uuid)]
    other = dict(BANK, bank_account_number="9999999999")
    r = submit(http, page, token, other, csrf=csrf)
    assert r.status_code == 303
    assert r.headers["Location"] == token + "/status"
    assert [row[0] for row in payouts_of(pg, link_uuid)] == first
    assert http.get(page.url("/pay/%s/status" % token)).status_code == 200


def test_concurrent_submits_make_one_payout(nginx_factory, pg, tenant):
    ngx = nginx_factory(sandbox=True, server=PAGE, workers=2, pool=4)
    for _ in range(3):
        token, link_uuid = make_link(pg, tenant)
        sessions = [requests.Session() for _ in range(4)]
        tokens = [open_form(s, ngx, token) for s in sessions]
        barrier = threading.Barrier(len(sessions))
        codes = [None] * len(sessions)

        def go(i):
            barrier.wait()
            r = sessions[i].post(ngx.url("/pay/" + token),
                                 data=dict(BANK, csrf=tokens[i],
                                           bank_account_number="01234567%02d"
                                           % i),
                                 allow_redirects=False)
            codes[i] = r.status_code

        threads = [threading.Thread(target=go, args=(i,))
                   for i in range(len(sessions))]
        # each browser its own account: one claims, the others are late
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        assert sorted(codes) == [303, 410, 410, 410], codes
        assert len(payouts_of(pg, link_uuid)) == 1
        winner = sessions[codes.index(303)]
        loser = sessions[codes.index(410)]
        assert winner.get(ngx.url("/pay/%s/status" % token)).status_code \
            == 200
        r = loser.get(ngx.url("/pay/%s/status" % token))
        assert r.status_code == 410 and "already used" in r.text


def test_double_click_is_one_claim(nginx_factory, pg, tenant):
    """Two submits of one form at once (a double click, two tabs): the
    browser may keep only the second answer, which must be the status."""
    ngx = nginx_factory(sandbox=True, server=PAGE, workers=2, pool=4)
    for _ in range(3):
        token, link_uuid = make_link(pg, tenant)
        s = requests.Session()
        csrf = open_form(s, ngx, token)
        barrier = threading.Barrier(2)
        answers = [None, None]

        def go(i):
            barrier.wait()
            answers[i] = requests.post(ngx.url("/pay/" + token),
                                       data=dict(BANK, csrf=csrf),
                                       cookies=s.cookies,
                                       allow_redirects=False)

        threads = [threading.Thread(target=go, args=(i,)) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [a.status_code for a in answers] == [303, 303]
        assert len(payouts_of(pg, link_uuid)) == 1
        for a in answers:
            assert a.headers["Location"] == token + "/status"
            assert "payout_claim=" in a.headers["Set-Cookie"]


def test_same_details_again_see_the_status(page, pg, tenant, http):
    token, link_uuid = make_link(pg, tenant)
    other = requests.Session()
    late = open_form(other, page, token)     # opened before the claim
    assert submit(http, page, token, BANK).status_code == 303
    # other details: too late
    r = submit(other, page, token, dict(BANK, bank_account_number="111122"),
               csrf=late)
    assert r.status_code == 410 and "already used" in r.text
    # bad details: too late as well, and never the form
    r = submit(other, page, token, dict(BANK, bank_account_number="1"),
               csrf=late)
    assert r.status_code == 410 and 'name="csrf"' not in r.text
    # a forged form: refused before anything
    r = submit(other, page, token, BANK, csrf="0" * 64)
    assert r.status_code == 403
    # the same destination is the same claim: its status
    r = submit(other, page, token, BANK, csrf=late)
    assert r.status_code == 303
    assert r.headers["Location"] == token + "/status"
    assert other.get(page.url("/pay/%s/status" % token)).status_code == 200
    assert len(payouts_of(pg, link_uuid)) == 1


def test_claimed_link_is_gone_for_others(page, pg, tenant, http):
    token, _ = make_link(pg, tenant)
    assert submit(http, page, token, BANK).status_code == 303
    for path in ("/pay/" + token, "/pay/%s/status" % token):
        r = requests.get(page.url(path))
        assert r.status_code == 410
        check_headers(r)
        assert "already used" in r.text
        assert 'name="csrf"' not in r.text


def test_expired_link(page, pg, tenant, http):
    token, link_uuid = make_link(pg, tenant)
    csrf = open_form(http, page, token)
    pg.sql("UPDATE payout_links SET expires_at = now() - interval '1s' "
           "WHERE uuid = %s", (link_uuid,))
    r = http.get(page.url("/pay/" + token))
    assert r.status_code == 410
    check_headers(r)
    assert "has expired" in r.text and 'name="csrf"' not in r.text
    r = submit(http, page, token, BANK, csrf=csrf)
    assert r.status_code == 410 and "has expired" in r.text
    assert payouts_of(pg, link_uuid) == []


def test_canceled_link(page, pg, tenant, http):
    token, link_uuid = make_link(pg, tenant)
    csrf = open_form(http, page, token)
    assert pg.sql("SELECT outcome FROM payout_link_cancel(p_tenant => %s, "
                  "p_livemode => false, p_uuid => %s)",
                  (tenant.id, link_uuid))[0][0] in ("canceled", "ok")
    assert link_row(pg, link_uuid)[0] == "canceled"
    r = http.get(page.url("/pay/" + token))
    assert r.status_code == 410 and "was canceled" in r.text
    r = submit(http, page, token, BANK, csrf=csrf)
    assert r.status_code == 410 and "was canceled" in r.text
    assert payouts_of(pg, link_uuid) == []


@pytest.mark.parametrize("path", [
    "/pay/", "/pay/short", "/pay/" + "A" * 43 + "/x", "/pay/a.b.c.d.e.f.g.h.i",
    "/pay/" + "A" * 200,
])
def test_unknown_pages(page, http, path):
    r = http.get(page.url(path))
    assert r.status_code == 404
    check_headers(r)
    assert "does not exist" in r.text


def test_unknown_token(page, http):
    r = http.get(page.url("/pay/" + secrets.token_urlsafe(32)))
    assert r.status_code == 404
    check_headers(r)
    r = http.post(page.url("/pay/" + secrets.token_urlsafe(32)),
                  data={"csrf": "0" * 64})
    assert r.status_code == 404


def test_open_link_status_goes_to_the_form(page, pg, tenant, http):
    token, _ = make_link(pg, tenant)
    r = http.get(page.url("/pay/%s/status" % token), allow_redirects=False)
    assert r.status_code == 303
    check_headers(r)
    assert r.headers["Location"] == "../" + token
    assert http.get(page.url("/pay/%s/status" % token)).status_code == 200


def test_other_methods(page, pg, tenant, http):
    token, _ = make_link(pg, tenant)
    r = http.delete(page.url("/pay/" + token))
    assert r.status_code == 405
    check_headers(r)
    r = http.post(page.url("/pay/%s/status" % token), data={})
    assert r.status_code == 405
    r = http.head(page.url("/pay/" + token))
    assert r.status_code == 200 and r.text == ""


# escaping


def test_hints_and_narration_are_escaped(page, pg, tenant, http):
    pg.sql("UPDATE tenants SET display_name = %s WHERE id = %s",
           ("Acme <b>&</b>", tenant.id))
    evil = '"><script>alert(1)</script>'
    token, _ = make_link(pg, tenant, name=evil,
                         narration="<img src=x onerror=alert(1)>'\"")
    r = http.get(page.url("/pay/" + token))
    body = r.text
    assert "<script" not in body and "<img" not in body
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&lt;img src=x onerror=alert(1)&gt;&#39;&quot;" in body
    assert "Acme &lt;b&gt;&amp;&lt;/b&gt;" in body

    # posted input comes back escaped too
    r = submit(http, page, token, dict(BANK, bank_code=evil))
    assert r.status_code == 400
    assert "<script" not in r.text


# the token never reaches a log line


def test_token_not_logged(nginx_factory, pg, tenant, http):
    ngx = nginx_factory(sandbox=True, server=PAGE)
    token, _ = make_link(pg, tenant)
    bad = secrets.token_urlsafe(32)
    open_form(http, ngx, token)
    submit(http, ngx, token, dict(BANK, bank_account_number="1"))
    submit(http, ngx, token, BANK)
    http.get(ngx.url("/pay/%s/status" % token))
    http.get(ngx.url("/pay/" + bad))
    http.post(ngx.url("/pay/" + token), data={"csrf": "x"})
    time.sleep(0.5)
    for name in ("access.log", "error.log"):
        with open(os.path.join(ngx.dir, name)) as f:
            text = f.read()
        assert token not in text and bad not in text, name
        assert token[:12] not in text
    with open(os.path.join(ngx.dir, "access.log")) as f:
        assert '"GET /pay/[token] HTTP/1.1" 200' in f.read()


# directives


def test_frame_ancestors(nginx_factory, pg, tenant, http):
    ngx = nginx_factory(sandbox=True, server=PAGE, http="""
    payout_link_frame_ancestors 'self' https://shop.example;""")
    token, _ = make_link(pg, tenant)
    r = http.get(ngx.url("/pay/" + token))
    check_headers(r, CSP.replace("frame-ancestors 'none'",
                                 "frame-ancestors 'self' "
                                 "https://shop.example"))


def test_secure_cookie_when_https(nginx_factory, pg, tenant, http):
    ngx = nginx_factory(sandbox=True, server=PAGE, http="""
    payout_public_url https://pay.example;""")
    token, _ = make_link(pg, tenant)
    r = http.get(ngx.url("/pay/" + token))
    assert "; Secure" in r.headers["Set-Cookie"]


def nginx_t(pg, **kw):
    ngx = Nginx(pg, **kw)
    try:
        return ngx.check_config()
    finally:
        ngx.destroy()


@pytest.mark.parametrize("value,message", [
    ("'none' 'self'", "takes 'none' only alone"),
    ("\"'self';script-src\"", "is not a CSP source"),
    ('"https://a.example, https://b"', "is not a CSP source"),
])
def test_frame_ancestors_bad_values(pg, value, message):
    r = nginx_t(pg, sandbox=True, server=PAGE,
                http="payout_link_frame_ancestors %s;" % value)
    assert r.returncode != 0
    assert "[emerg]" in r.stderr and message in r.stderr


def test_link_page_directive_checks(pg):
    r = nginx_t(pg, sandbox=True,
                server="location /pay/ { payout_link_page; "
                       "payout_link_page; }")
    assert r.returncode != 0 and "is duplicate" in r.stderr
    r = nginx_t(pg, sandbox=True, server=PAGE,
                http="payout_link_frame_ancestors 'self';"
                     "payout_link_frame_ancestors 'none';")
    assert r.returncode != 0 and "is duplicate" in r.stderr


def write_templates(files):
    d = tempfile.mkdtemp(prefix="payout-templates-")
    os.chmod(d, 0o755)
    for name, text in files.items():
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
    return d


@pytest.mark.parametrize("text,line,reason", [
    ("<p>\n\n{{#if payer}}open\n", 3, "{{#if}} is not closed by {{/if}}"),
    ("<p>{{{payer}}}</p>", 1, "unescaped output"),
    ("a\n{{paier}}", 2, 'unknown value \\"paier\\"'),
    ("a\nb\nc\n{{/if}}", 4, "never opened"),
])
def test_broken_template_is_emerg(pg, text, line, reason):
    d = write_templates({"gone.html": text})
    r = nginx_t(pg, sandbox=True, server=PAGE,
                http="payout_link_templates %s;" % d)
    assert r.returncode != 0
    m = re.search(r"\[emerg\].*payout_link_templates: \"(.*?)\", line (\d+): "
                  r"(.*) in ", r.stderr)
    assert m, r.stderr
    assert m.group(1) == os.path.join(d, "gone.html")
    assert int(m.group(2)) == line
    assert reason.replace('\\"', '"') in m.group(3)


def test_templates_dir_must_exist(pg):
    r = nginx_t(pg, sandbox=True, server=PAGE,
                http="payout_link_templates /nonexistent/payout;")
    assert r.returncode != 0 and "is not a directory" in r.stderr


def test_custom_templates(nginx_factory, pg, tenant, http):
    d = write_templates({
        "notfound.html": "<!DOCTYPE html><html lang=\"fr\"><title>Non"
                         "</title><p>Lien inconnu</p></html>",
        "payout.css": "body{color:red}",
        "form.html": "<html lang=\"fr\"><p>{{payer}} {{amount}}</p>"
                     "<form method=post><input type=hidden name=csrf "
                     "value=\"{{csrf}}\"></form></html>",
    })
    ngx = nginx_factory(sandbox=True, server=PAGE,
                        http="payout_link_templates %s;" % d)
    r = http.get(ngx.url("/pay/" + secrets.token_urlsafe(32)))
    assert r.status_code == 404 and "Lien inconnu" in r.text
    check_headers(r)
    assert http.get(ngx.url("/pay/payout.css")).text == "body{color:red}"
    token, _ = make_link(pg, tenant)
    r = http.get(ngx.url("/pay/" + token))
    assert "NGN 2,500.00" in r.text and 'lang="fr"' in r.text
    # a page not in the directory keeps its default
    pg.sql("UPDATE payout_links SET expires_at = now() - interval '1s' "
           "WHERE token_hash = %s", (hashlib.sha256(token.encode())
                                      .digest(),))
    assert "has expired" in http.get(ngx.url("/pay/" + token)).text


def test_dev_conf_serves_the_page():
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    with open(os.path.join(root, "conf", "nginx.dev.conf")) as f:
        conf = f.read()
    assert re.search(r"location /pay/ \{\s*payout_link_page;\s*\}", conf)
    assert "payout_public_url http://127.0.0.1:@PORT@;" in conf


# the whole story: one API call, a browser, the sandbox pays


def test_api_link_to_paid(nginx_factory, pg, tenant, http):
    def public_url(conf):
        # payout_public_url is this server, as in `make run`
        port = re.search(r"listen 127.0.0.1:(\d+)", conf).group(1)
        return conf.replace("http {", "http {\n    payout_public_url "
                            "http://127.0.0.1:%s;" % port, 1)

    ngx = nginx_factory(sandbox=True, server=PAGE, edit=public_url)
    r = http.post(ngx.url("/v1/payout-links"), headers=tenant.headers,
                  json={"amount": 123456, "currency": "NGN",
                        "gateway": "sandbox", "narration": "Invoice 7",
                        "name": "Ada Obi"})
    assert r.status_code == 201, r.text
    link = r.json()
    assert link["url"].startswith(ngx.url("/pay/"))
    browser = requests.Session()
    page = browser.get(link["url"])
    assert page.status_code == 200
    assert "NGN 1,234.56" in page.text and "Invoice 7" in page.text
    r = browser.post(link["url"], data=dict(BANK, csrf=csrf_of(page.text)))
    # requests follows the 303 to the status page
    assert r.status_code == 200 and r.url == link["url"] + "/status"
    r = wait_status(browser, ngx, link["url"].rsplit("/", 1)[1], "Paid")
    assert "Paid" in r.text
    got = http.get(ngx.url("/v1/payout-links/" + link["link_uuid"]),
                   headers=tenant.headers).json()
    assert got["status"] == "claimed" and got["payout_uuid"]
    assert got["payout_status"] in ("pending", "success")


def test_documented_log_format_and_limit_req(nginx_factory, pg, tenant,
                                             http):
    """docs/payout-links.md's log_format, map and limit_req, as written."""
    ngx = nginx_factory(sandbox=True, http=r"""
    log_format payout_link '$remote_addr [$time_local] "$request_method /pay/…" '
                           '$status $body_bytes_sent $request_time';
    map $request_uri $loggable_uri {
        ~^/pay/        /pay/[token];
        default        $request_uri;
    }
    log_format main '$remote_addr [$time_local] "$request_method $loggable_uri" '
                    '$status $body_bytes_sent "$http_user_agent"';
    map $request_method $pay_submit_key {
        POST    $binary_remote_addr;
        default "";
    }
    limit_req_zone $pay_submit_key zone=pay_post:10m rate=5r/m;
""", server="""
        location /pay/ {
            payout_link_page;
            access_log %s/pay.log payout_link;
            access_log %s/main.log main;
            limit_req zone=pay_post burst=2 nodelay;
            limit_req_status 429;
        }
""" % (("@DIR@",) * 2), edit=lambda c: c.replace(
        "@DIR@", re.search(r"pid (\S+)/nginx.pid", c).group(1)))
    token, _ = make_link(pg, tenant)
    for _ in range(3):
        assert http.get(ngx.url("/pay/" + token)).status_code == 200
    codes = [http.post(ngx.url("/pay/" + token),
                       data={"csrf": "0" * 64}).status_code
             for _ in range(5)]
    assert codes[:3] == [403, 403, 403] and 429 in codes[3:], codes
    # nginx's own page gets the page's headers too
    r = http.post(ngx.url("/pay/" + token), data={"csrf": "0" * 64})
    assert r.status_code == 429
    check_headers(r)
    time.sleep(0.3)
    for name in ("pay.log", "main.log", "access.log", "error.log"):
        with open(os.path.join(ngx.dir, name)) as f:
            text = f.read()
        assert token not in text, name
    # limit_req's own [error] names the request, masked: the token is
    # read in the rewrite phase, before limit_req and access
    with open(ngx.error_log) as f:
        assert 'limiting requests' in f.read()


def test_database_away(nginx_factory, http):
    from conftest import free_port
    ngx = nginx_factory(server=PAGE, database="host=127.0.0.1 port=%d "
                        "dbname=payouts user=payout" % free_port())
    token = secrets.token_urlsafe(32)
    for r in (http.get(ngx.url("/pay/" + token), timeout=10),
              http.post(ngx.url("/pay/" + token), data={"csrf": "x"},
                        timeout=10)):
        assert r.status_code == 503
        check_headers(r)
        assert r.headers["Retry-After"] == "2"
        assert "try again" in r.text
    # the stylesheet needs no database
    assert http.get(ngx.url("/pay/payout.css")).status_code == 200


def test_reload_keeps_serving(page, pg, tenant, http):
    token, _ = make_link(pg, tenant)
    page.reload()
    time.sleep(1)
    assert http.get(page.url("/pay/" + token)).status_code == 200


def test_link_page_needs_its_keys(pg):
    r = nginx_t(pg, server=PAGE, edit=lambda c: re.sub(
        r"payout_master_key_file [^;]*;", "", c))
    assert r.returncode != 0
    assert "[emerg]" in r.stderr
    assert "payout_link_page needs payout_database and " \
        "payout_master_key_file" in r.stderr
    r = nginx_t(pg, server="location = pay { payout_link_page; }")
    assert r.returncode != 0 and "ends in" in r.stderr


def test_debug_log_has_the_token_only_in_nginx_own_lines(nginx_factory, pg,
                                                          tenant, http):
    """At debug level nginx itself prints the request line and URI as it
    parses them, before any module runs, and the response headers (the
    303's relative Location); nothing else holds the token, the module's
    own lines included (docs/payout-links.md, "Logs")."""
    ngx = nginx_factory(sandbox=True, server=PAGE, edit=lambda c: c.replace(
        "error.log info;", "error.log debug;"))
    token, _ = make_link(pg, tenant)
    assert submit(http, ngx, token, BANK).status_code == 303
    http.get(ngx.url("/pay/%s/status" % token))
    time.sleep(0.3)
    with open(ngx.error_log, errors="replace") as f:
        lines = [line for line in f if token in line]
    assert lines
    for line in lines:
        # the header dump is one message over several lines
        assert re.search(r"\] \d+#\d+: \*\d+ (http request line: |"
                         r"http uri: )", line) \
            or line.startswith("Location: " + token), line
