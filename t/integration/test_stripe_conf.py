"""nginx -t and the Stripe connector's own settings (docs/connectors/
stripe.md): account= and stripe_version= are taken when valid, refused
with an [emerg] naming the setting (never its value's secret) otherwise,
and any other setting of a Stripe gateway is refused."""

import os
import shutil
import tempfile

import pytest

from conftest import Nginx, Postgres


@pytest.fixture(scope="module")
def env():
    db = Postgres()
    db.start()
    keys = tempfile.mkdtemp(prefix="payout-stripe-")
    secret = os.path.join(keys, "stripe.key")
    with open(secret, "w") as f:
        f.write("sk_test_4eC39HqLyjWDarjtT1zdp7dc\n")
    os.chmod(secret, 0o600)
    yield db, secret
    shutil.rmtree(keys, ignore_errors=True)
    db.destroy()


def nginx_t(db, settings):
    ngx = Nginx(db, http="payout_gateway stripe connector=stripe %s;"
                         % settings)
    try:
        return ngx.check_config()
    finally:
        shutil.rmtree(ngx.dir, ignore_errors=True)


@pytest.mark.parametrize("settings", [
    "",
    "account=acct_1Nnlp9GPxmnHQRkJ",
    "stripe_version=2023-09-12",
    "stripe_version=2024-09-30.acacia account=acct_123",
])
def test_valid_settings_are_taken(env, settings):
    db, secret = env
    out = nginx_t(db, "mode=test secret_file=%s url=http://127.0.0.1:1 %s"
                      % (secret, settings))
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("settings,message", [
    ("account=ba_123", 'invalid value of parameter "account=..."'),
    ("account=acct_", 'invalid value of parameter "account=..."'),
    ("stripe_version=latest",
     'invalid value of parameter "stripe_version=..."'),
    ("stripe_version=2023-9-12",
     'invalid value of parameter "stripe_version=..."'),
    ("acount=acct_1", 'invalid parameter "acount=..."'),
])
def test_bad_settings_are_refused(env, settings, message):
    db, secret = env
    out = nginx_t(db, "mode=test secret_file=%s url=http://127.0.0.1:1 %s"
                      % (secret, settings))
    assert out.returncode != 0, out.stderr
    assert "[emerg]" in out.stderr, out.stderr
    assert message in out.stderr, out.stderr
    assert "sk_test_4eC39" not in out.stderr, out.stderr
