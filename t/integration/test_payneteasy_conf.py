"""nginx -t and a PaynetEasy gateway's settings (issue 14): a setting
X_file=PATH the glue does not know is read at configuration time as
secret_file= is (a missing file is an [emerg] naming it, a world-readable
one a [warn]) and reaches the connector as X with the file's content,
which never appears in a log line.  rsa_key_file= gives the codec its
rsa_key; a bad PEM, endpoint= together with endpoint_group=, neither of
them, or no login= are refused."""

import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import Nginx, Postgres


@pytest.fixture(scope="module")
def env():
    db = Postgres()
    db.start()
    keys = tempfile.mkdtemp(prefix="payout-pne-")
    pem = os.path.join(keys, "paysoft.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA",
                    "-pkeyopt", "rsa_keygen_bits:2048", "-out", pem],
                   check=True, capture_output=True)
    os.chmod(pem, 0o600)
    control = os.path.join(keys, "paysoft.control")
    with open(control, "w") as f:
        f.write("B17F59B4-A7DC-41B4-8FF9-37D9C3A7B1B8\n")
    os.chmod(control, 0o600)
    yield db, keys, pem, control
    shutil.rmtree(keys, ignore_errors=True)
    db.destroy()


def nginx_t(db, name, connector, settings):
    ngx = Nginx(db, http="payout_gateway %s connector=%s %s;"
                         % (name, connector, settings))
    try:
        return ngx.check_config()
    finally:
        shutil.rmtree(ngx.dir, ignore_errors=True)


def pne(db, settings):
    return nginx_t(db, "paysoft", "payneteasy", settings)


def base(pem, control, login="merchantlogin", endpoint="endpoint=39915"):
    return ("mode=test url=http://127.0.0.1:1/paynet %s %s "
            "rsa_key_file=%s secret_file=%s"
            % ("login=" + login if login else "", endpoint, pem, control))


def secret_lines(path):
    with open(path) as f:
        return [line.strip() for line in f if len(line.strip()) > 20
                and "-----" not in line]


def assert_no_secret(out, *paths):
    for p in paths:
        for line in secret_lines(p):
            assert line not in out.stderr, out.stderr
    assert "B17F59B4" not in out.stderr, out.stderr


def test_a_complete_gateway_is_taken(env):
    db, keys, pem, control = env
    out = pne(db, base(pem, control))
    assert out.returncode == 0, out.stderr
    out = pne(db, base(pem, control, endpoint="endpoint_group=1144"))
    assert out.returncode == 0, out.stderr
    assert_no_secret(out, pem)


def test_a_missing_key_file_is_named(env):
    db, keys, pem, control = env
    missing = os.path.join(keys, "nope.pem")
    out = pne(db, base(missing, control))
    assert out.returncode != 0, out.stderr
    assert "[emerg]" in out.stderr, out.stderr
    assert missing in out.stderr, out.stderr


def test_a_world_readable_key_file_is_a_warning(env):
    db, keys, pem, control = env
    loose = os.path.join(keys, "loose.pem")
    shutil.copy(pem, loose)
    os.chmod(loose, 0o644)
    out = pne(db, base(loose, control))
    assert out.returncode == 0, out.stderr
    assert "[warn]" in out.stderr, out.stderr
    assert loose in out.stderr and "readable by every user" in out.stderr
    assert_no_secret(out, loose)


def test_a_bad_pem_is_refused_without_its_content(env):
    db, keys, pem, control = env
    bad = os.path.join(keys, "bad.pem")
    with open(bad, "w") as f:
        f.write("-----BEGIN PRIVATE KEY-----\n"
                "c2VjcmV0LWJ1dC1ub3QtYS1rZXktYXQtYWxsLXJlYWxseS1ub3Q=\n"
                "-----END PRIVATE KEY-----\n")
    os.chmod(bad, 0o600)
    out = pne(db, base(bad, control))
    assert out.returncode != 0, out.stderr
    assert "[emerg]" in out.stderr, out.stderr
    assert "rsa_key" in out.stderr, out.stderr
    assert_no_secret(out, bad)


@pytest.mark.parametrize("endpoint", [
    "endpoint=39915 endpoint_group=1144",   # both
    "",                                     # neither
])
def test_one_endpoint_or_group(env, endpoint):
    db, keys, pem, control = env
    out = pne(db, base(pem, control, endpoint=endpoint))
    assert out.returncode != 0, out.stderr
    assert "[emerg]" in out.stderr, out.stderr
    assert "endpoint" in out.stderr, out.stderr
    assert_no_secret(out, pem)


def test_no_login_is_refused(env):
    db, keys, pem, control = env
    out = pne(db, base(pem, control, login=None))
    assert out.returncode != 0, out.stderr
    assert "[emerg]" in out.stderr, out.stderr
    assert "login" in out.stderr, out.stderr


def test_an_unknown_file_setting_is_refused_by_name(env):
    db, keys, pem, control = env
    out = pne(db, base(pem, control) + " colour_file=%s" % pem)
    assert out.returncode != 0, out.stderr
    assert 'invalid parameter "colour_file=..."' in out.stderr, out.stderr
    assert_no_secret(out, pem)


def test_any_connector_setting_can_come_from_a_file(env):
    """The rule is the glue's, for every connector: Stripe's account=
    from account_file=."""
    db, keys, pem, control = env
    acct = os.path.join(keys, "stripe.account")
    with open(acct, "w") as f:
        f.write("acct_1Nnlp9GPxmnHQRkJ\n")
    os.chmod(acct, 0o600)
    key = os.path.join(keys, "stripe.key")
    with open(key, "w") as f:
        f.write("sk_test_4eC39HqLyjWDarjtT1zdp7dc\n")
    os.chmod(key, 0o600)
    ok = nginx_t(db, "stripe", "stripe",
                 "mode=test secret_file=%s url=http://127.0.0.1:1 "
                 "account_file=%s" % (key, acct))
    assert ok.returncode == 0, ok.stderr
    with open(acct, "w") as f:
        f.write("ba_123\n")
    out = nginx_t(db, "stripe", "stripe",
                  "mode=test secret_file=%s url=http://127.0.0.1:1 "
                  "account_file=%s" % (key, acct))
    assert out.returncode != 0, out.stderr
    assert 'invalid value of parameter "account_file=..."' in out.stderr
    assert "ba_123" not in out.stderr
