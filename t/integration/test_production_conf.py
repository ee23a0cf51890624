"""conf/nginx.production.conf passes nginx -t as shipped, but for its
paths: the module, the secret files under /etc/nginx/payout/ (made here,
with keys of the right modes), the TLS certificate and the error pages
are pointed at a private directory.  Its gateways are the real ones
(sandbox, Paystack, Stripe, Mollie, Adyen, PaynetEasy), so a setting a connector
refuses fails here."""

import glob
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import ERRORS_CONF, MODULE, ROOT, nginx_env
from provider_standins import xfail_unknown_connector

CONF = os.path.join(ROOT, "conf", "nginx.production.conf")
SECRETS = {
    "master.key": "7f" * 32,
    "paystack.key": "sk_live_" + "0" * 40,
    "paystack-test.key": "sk_test_" + "0" * 40,
    "stripe.key": "sk_live_" + "0" * 24,
    "stripe.whsec": "whsec_" + "0" * 32,
    "mollie.key": "live_" + "0" * 30,
    "mollie.whsec": "0" * 32,
    "adyen.key": "AQE" + "0" * 40,
    "adyen.hmac": "44782DEF547AAA06C910C43932B1EB0C"
                  "71FC68D9D0C057550C48EC2ACF6BA056",
    "paysoft.control": "B17F59B4-A7DC-41B4-8FF9-37D9C3A7B1B8",
}
with open(os.path.join(ROOT, "t", "fixtures", "payneteasy",
                       "test-key.pem")) as _f:
    SECRETS["paysoft.pem"] = _f.read().strip()


@pytest.fixture
def prefix():
    d = tempfile.mkdtemp(prefix="payout-prodconf-")
    os.makedirs(os.path.join(d, "payout"))
    for name, content in SECRETS.items():
        path = os.path.join(d, "payout", name)
        with open(path, "w") as f:
            f.write(content + "\n")
        os.chmod(path, 0o600)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "1", "-subj", "/CN=pay.example.com",
                    "-keyout", os.path.join(d, "tls.key"),
                    "-out", os.path.join(d, "tls.crt")],
                   check=True, capture_output=True)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def localised(d):
    with open(CONF) as f:
        conf = f.read()
    conf = conf.replace("modules/ngx_http_payout_module.so", MODULE)
    conf = conf.replace("/etc/nginx/payout/", d + "/payout/")
    conf = re.sub(r"/etc/nginx/tls/\S+\.crt", d + "/tls.crt", conf)
    conf = re.sub(r"/etc/nginx/tls/\S+\.key", d + "/tls.key", conf)
    conf = conf.replace("include payout_errors.conf;",
                        "include %s;" % ERRORS_CONF)
    assert "/etc/nginx/" not in conf, "a path this test does not move"
    return conf


def nginx_t(d, conf):
    path = os.path.join(d, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    return subprocess.run(["nginx", "-t", "-p", d, "-c", path,
                           "-e", os.path.join(d, "error.log"),
                           "-g", "pid %s/nginx.pid;" % d],
                          env=nginx_env(d), capture_output=True, text=True)


def test_production_conf_parses(prefix):
    out = nginx_t(prefix, localised(prefix))
    xfail_unknown_connector(out.stderr)
    assert out.returncode == 0, out.stderr
    assert "[warn]" not in out.stderr, out.stderr
    assert not glob.glob(os.path.join(prefix, "asan*")), "sanitizer report"
    for secret in SECRETS.values():
        assert secret not in out.stderr


def test_production_conf_shows_all_four_connectors():
    with open(CONF) as f:
        conf = f.read()
    for line in ("payout_gateway paystack connector=paystack mode=live",
                 "payout_gateway stripe connector=stripe mode=live",
                 "payout_gateway mollie connector=mollie mode=live",
                 "payout_gateway adyen connector=adyen mode=live",
                 "secret_file=/etc/nginx/payout/paystack.key",
                 "secret_file=/etc/nginx/payout/stripe.key",
                 "webhook_secret_file=/etc/nginx/payout/stripe.whsec",
                 "secret_file=/etc/nginx/payout/mollie.key",
                 "webhook_secret_file=/etc/nginx/payout/mollie.whsec",
                 "balance=bal_",
                 "secret_file=/etc/nginx/payout/adyen.key",
                 "webhook_secret_file=/etc/nginx/payout/adyen.hmac",
                 "balance_account=BA",
                 "/hooks/paystack", "/hooks/stripe", "/hooks/mollie",
                 "/hooks/adyen", "payout_provider_webhook;"):
        assert line in conf, line


def test_a_test_key_on_the_live_gateway_fails(prefix):
    """The shipped gateways are live: a test key in their file is the
    [emerg] of issue 8, naming the mode, never the key."""
    path = os.path.join(prefix, "payout", "paystack.key")
    with open(path, "w") as f:
        f.write(SECRETS["paystack-test.key"] + "\n")
    out = nginx_t(prefix, localised(prefix))
    assert out.returncode != 0, out.stderr
    assert "[emerg]" in out.stderr and "mode=live" in out.stderr, out.stderr
    assert SECRETS["paystack-test.key"] not in out.stderr


def test_a_mollie_test_key_on_the_live_gateway_fails(prefix):
    """Mollie's test_/live_ prefix against mode= (issue 9)."""
    key = "test_" + "1" * 30
    path = os.path.join(prefix, "payout", "mollie.key")
    with open(path, "w") as f:
        f.write(key + "\n")
    out = nginx_t(prefix, localised(prefix))
    xfail_unknown_connector(out.stderr)
    assert out.returncode != 0, out.stderr
    assert "[emerg]" in out.stderr and "mode=live" in out.stderr, out.stderr
    assert key not in out.stderr
