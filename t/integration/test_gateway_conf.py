"""payout_gateway for real connectors, checked by nginx -t: the default
url=, plain http:// only to loopback, the connector's check of its
account, the reconcile window against the provider's idempotency key
lifetime, and the rules for secret files.

Cases of a real connector are skipped while this build does not have it
("unknown connector"), so they run as soon as it is registered."""

import os
import re

import pytest

from conftest import Nginx

SANDBOX = "payout_gateway gw connector=sandbox url=%s;"


def check(pg, http):
    ngx = Nginx(pg, http=http)
    try:
        out = ngx.check_config()
        with open(ngx.error_log, errors="replace") as f:
            log = f.read()
        return out.returncode, out.stdout + out.stderr + log
    finally:
        ngx.destroy()


def real(pg, http, connector):
    """check() of a configuration with a real connector, skipped while
    this build does not know it."""
    rc, text = check(pg, http)
    if 'unknown connector "%s"' % connector in text:
        pytest.skip("no %s connector in this build" % connector)
    return rc, text


def secret(tmp_path, name, content, mode=0o600):
    path = tmp_path / name
    path.write_text(content)
    os.chmod(path, mode)
    return str(path)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/sandbox", "http://127.1.2.3:9", "http://[::1]:9/x",
    "http://localhost:9/", "HTTP://LOCALHOST/", "https://example.com/",
    "https://user@10.0.0.1:8443/p"])
def test_url_accepted(pg, url):
    rc, text = check(pg, SANDBOX % url)
    assert rc == 0, text


@pytest.mark.parametrize("url", [
    "http://example.com/", "http://10.0.0.1:8080/", "http://128.0.0.1/",
    "http://127.0.0.1.example.com/", "http://127.0.0.1@example.com/",
    "http://[::2]/", "http://localhost.example.com/", "example.com/x",
    "ftp://127.0.0.1/"])
def test_url_refused(pg, url):
    rc, text = check(pg, SANDBOX % url)
    assert rc != 0, text
    assert re.search(r'\[emerg\].*gateway "gw": .*url=', text), text


def test_sandbox_needs_url(pg):
    rc, text = check(pg, "payout_gateway gw connector=sandbox;")
    assert rc != 0 and "needs url=" in text, text


def test_secret_file_missing(pg, tmp_path):
    path = str(tmp_path / "nope.key")
    rc, text = check(pg, "payout_gateway gw connector=sandbox "
                     "url=http://127.0.0.1:9 secret_file=%s;" % path)
    assert rc != 0, text
    assert re.search(r"\[emerg\].*%s" % re.escape(path), text), text


@pytest.mark.parametrize("content", ["", "\n", "  \r\n"])
def test_secret_file_empty(pg, tmp_path, content):
    path = secret(tmp_path, "empty.key", content)
    rc, text = check(pg, "payout_gateway gw connector=sandbox "
                     "url=http://127.0.0.1:9 webhook_secret_file=%s;" % path)
    assert rc != 0, text
    assert re.search(r'\[emerg\] .*secret file "%s" is empty'
                     % re.escape(path), text), text


def test_secret_file_world_readable(pg, tmp_path):
    value = "sk_test_" + "q" * 24
    path = secret(tmp_path, "open.key", value + "\n", 0o644)
    rc, text = check(pg, "payout_gateway gw connector=sandbox "
                     "url=http://127.0.0.1:9 secret_file=%s;" % path)
    assert rc == 0, text
    assert re.search(r'\[warn\] .*secret file "%s" is readable by every '
                     'user' % re.escape(path), text), text
    assert value not in text


def test_secret_file_private_no_warning(pg, tmp_path):
    path = secret(tmp_path, "closed.key", "sk_test_abc\n")
    rc, text = check(pg, "payout_gateway gw connector=sandbox "
                     "url=http://127.0.0.1:9 secret_file=%s;" % path)
    assert rc == 0, text
    assert path not in text, text


# real connectors: skipped until registered

PROVIDERS = {
    "paystack": ("https://api.paystack.co", "sk_test_", "sk_live_", ""),
    "stripe": ("https://api.stripe.com", "sk_test_", "sk_live_",
               " account=acct_123"),
    "mollie": ("https://api.mollie.com", "test_", "live_",
               " balance=bal_123"),
}


def real_gateway(pg, tmp_path, name, mode="test", url="", key=None):
    """check() of a gateway of the real connector name."""
    value = key if key is not None else PROVIDERS[name][1] + "a" * 24
    path = secret(tmp_path, "k", value)
    return real(pg, "payout_gateway gw connector=%s%s%s secret_file=%s%s;"
                % (name, " mode=" + mode if mode else "",
                   " url=" + url if url else "", path, PROVIDERS[name][3]),
                name)


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_real_default_url(pg, tmp_path, name):
    rc, text = real_gateway(pg, tmp_path, name)
    assert rc == 0, text
    assert "needs url=" not in text


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_real_http_remote_refused(pg, tmp_path, name):
    rc, text = real_gateway(pg, tmp_path, name, url="http://api.example.com")
    assert rc != 0, text
    assert re.search(r'\[emerg\].*gateway "gw": an http:// url=', text), text


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_real_http_loopback_accepted(pg, tmp_path, name):
    rc, text = real_gateway(pg, tmp_path, name, url="http://127.0.0.1:9")
    assert rc == 0, text


@pytest.mark.parametrize("name,mode,which", [
    (n, m, w) for n in sorted(PROVIDERS)
    for m, w in (("live", 1), ("test", 2))])
def test_real_key_mode_mismatch(pg, tmp_path, name, mode, which):
    """check(): a test key on a live gateway, a live key on a test one."""
    value = PROVIDERS[name][which] + "z" * 24
    rc, text = real_gateway(pg, tmp_path, name, mode, "http://127.0.0.1:9",
                            value)
    assert rc != 0, text
    assert re.search(r'\[emerg\].*gateway "gw": ', text), text
    assert value not in text


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_real_needs_mode(pg, tmp_path, name):
    rc, text = real_gateway(pg, tmp_path, name, None, "http://127.0.0.1:9")
    assert rc != 0 and "needs mode=test or mode=live" in text, text


@pytest.mark.parametrize("setting", ["balance=bal_", "balance=acct_1",
                                     "balance=bal_1/x", "account=bal_1"])
def test_mollie_setting_refused(pg, tmp_path, setting):
    path = secret(tmp_path, "k", "test_" + "a" * 24)
    rc, text = real(pg, "payout_gateway gw connector=mollie mode=test "
                    "secret_file=%s %s;" % (path, setting), "mollie")
    assert rc != 0, text
    assert "[emerg]" in text, text


def test_stripe_reconcile_window_longer_than_key_ttl(pg, tmp_path):
    """Stripe keeps an Idempotency-Key about 24 hours: a re-send after
    that would be a second payout."""
    key = secret(tmp_path, "k", "sk_test_" + "a" * 24)
    conf = ("payout_gateway gw connector=stripe mode=test "
            "url=http://127.0.0.1:9 secret_file=%s account=acct_123;" % key)
    rc, text = real(pg, conf + "payout_reconcile_window 25h;", "stripe")
    assert rc != 0, text
    assert re.search(r'\[emerg\].*gateway "gw": payout_reconcile_window',
                     text), text
    rc, text = real(pg, conf + "payout_reconcile_window 12h;", "stripe")
    assert rc == 0, text


@pytest.mark.parametrize("url", [
    "https://pay.example.com", "https://pay.example.com/",
    "http://127.0.0.1:8080/gateway/", "HTTPS://PAY.EXAMPLE.COM:8443/x"])
def test_public_url_accepted(pg, url):
    rc, text = check(pg, "payout_public_url %s;" % url)
    assert rc == 0, text


@pytest.mark.parametrize("url, why", [
    ("pay.example.com", "must start with"),
    ("ftp://pay.example.com", "must start with"),
    ("https://", "must start with"),
    ("https:///path", "has no host"),
    ("https://pay.example.com/?a=1", "no query"),
    ("https://pay.example.com/#top", "no query")])
def test_public_url_refused(pg, url, why):
    rc, text = check(pg, "payout_public_url %s;" % url)
    assert rc != 0 and why in text, text


def test_public_url_once(pg):
    rc, text = check(pg, "payout_public_url https://a.example;\n"
                         "payout_public_url https://b.example;")
    assert rc != 0 and "is duplicate" in text, text
