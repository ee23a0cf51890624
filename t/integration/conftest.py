"""Test harness: a private PostgreSQL cluster and real nginx instances
with the module, on free loopback ports.

Every nginx started here has its error log checked when it stops: any
[alert], [crit], [emerg] or sanitizer report fails the test that used it.
PAYOUT_TEST_ASAN=1 runs nginx with the AddressSanitizer build of the
module (libasan preloaded into the stock binary).
"""

import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import psycopg2
import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
ASAN = os.environ.get("PAYOUT_TEST_ASAN") == "1"
MODULE = os.path.join(ROOT, "build", "asan" if ASAN else "plain",
                      "ngx_http_payout_module.so")
PAYOUTCTL = os.path.join(ROOT, "build", "payoutctl")
# the server-level JSON error pages every shipped configuration includes
ERRORS_CONF = os.path.join(ROOT, "conf", "payout_errors.conf")
# a fixed master key, so tests can decrypt what the module stored
MASTER_KEY = "7f" * 32
# The tests' own connections name the sandbox's tables unqualified, as
# when they lived in the gateway's schema; nginx and payoutctl connect
# without it, so the module's SQL must name schema sandbox itself.
CLIENT_OPTIONS = "-c search_path=public,sandbox"
BAD_LOG = re.compile(r"\[(alert|crit|emerg)\]|AddressSanitizer|"
                     r"LeakSanitizer|runtime error:")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0, up=True):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise TimeoutError("port %d did not come %s" % (port,
                                                     "up" if up else "down"))


def make_shared_dir(prefix):
    """A temp dir the unprivileged postgres and nginx users can use."""
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o777)
    return d


class Postgres:
    def __init__(self):
        self.dir = make_shared_dir("payout-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.conninfo = ("host=127.0.0.1 port=%d dbname=payouts user=payout"
                         % self.port)

    def _pg(self, *args):
        env = dict(os.environ, PG_OPTS="-c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        subprocess.run([os.path.join(ROOT, "tools", "pg.sh")] + list(args),
                       check=True, env=env)

    def start(self):
        self._pg("start", self.data, str(self.port))

    def stop(self):
        self._pg("stop", self.data)

    def connect(self, autocommit=True):
        conn = psycopg2.connect(self.conninfo, options=CLIENT_OPTIONS)
        conn.autocommit = autocommit
        return conn

    def sql(self, query, params=()):
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(query, params)
            if cur.description:
                return cur.fetchall()
            return None

    def destroy(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def payoutctl(pg, *args, check=True):
    env = dict(os.environ, PAYOUT_DATABASE=pg.conninfo,
               PAYOUT_MIGRATIONS=os.path.join(ROOT, "sql"))
    return subprocess.run([PAYOUTCTL] + list(args), env=env, check=check,
                          capture_output=True, text=True)


def own_database():
    """A private PostgreSQL, migrated, with a tenant and a test key."""
    db = Postgres()
    db.start()
    payoutctl(db, "migrate", "--sandbox")
    name = "t-" + uuid.uuid4().hex[:12]
    payoutctl(db, "tenant", "create", name)
    key = payoutctl(db, "key", "create", "--tenant", name, "--mode",
                    "test").stdout.strip()
    return db, {"Authorization": "Bearer " + key}


def nginx_env(asan_dir):
    """The environment nginx runs in: with PAYOUT_TEST_ASAN=1, libasan
    preloaded, its reports written to asan_dir."""
    env = dict(os.environ)
    if ASAN:
        lib = subprocess.run(["gcc", "-print-file-name=libasan.so"],
                             capture_output=True, text=True,
                             check=True).stdout.strip()
        env["LD_PRELOAD"] = os.path.realpath(lib)
        env["ASAN_OPTIONS"] = ("detect_leaks=0:log_path=%s/asan"
                               ":detect_odr_violation=0" % asan_dir)
    return env


class Nginx:
    """One nginx master with the module, configured for a test."""

    def __init__(self, pg, http="", server="", location="", workers=1,
                 pool=2, database=None, sandbox=False,
                 gateway_timeout="3s", webhook_delay="300ms",
                 reconcile_grace="2s", webhook_schedule=None,
                 webhook_allow_private=True, json_errors=True,
                 edit=None):
        self.pg = pg
        self.dir = make_shared_dir("payout-nginx-")
        self.port = free_port()
        self.error_log = os.path.join(self.dir, "error.log")
        self.asan_dir = os.path.join(self.dir, "asan")
        os.makedirs(os.path.join(self.dir, "body"), mode=0o777)
        os.makedirs(self.asan_dir, mode=0o777)
        os.chmod(self.asan_dir, 0o777)
        self.conf = os.path.join(self.dir, "nginx.conf")
        self.master_key = os.path.join(self.dir, "master.key")
        with open(self.master_key, "w") as f:
            f.write(MASTER_KEY + "\n")
        # a secret file readable by all is a [warn]
        os.chmod(self.master_key, 0o600)
        db = database if database is not None else pg.conninfo
        if sandbox:
            # the built-in sandbox provider, on this same server
            http += """
    payout_gateway sandbox connector=sandbox
                   url=http://127.0.0.1:%(port)d/sandbox timeout=%(t)s;
    payout_sandbox_webhook_url http://127.0.0.1:%(port)d/hooks/sandbox;
    payout_sandbox_webhook_delay %(d)s;
    payout_reconcile_interval 300ms;
    payout_reconcile_grace %(g)s;
""" % dict(port=self.port, t=gateway_timeout, d=webhook_delay,
           g=reconcile_grace)
            server += """
        location /sandbox/ { payout_sandbox; }
        location /hooks/ { payout_provider_webhook; }
"""
        # edit(conf) -> conf: a test's change to the generated config
        with open(self.conf, "w") as f:
            f.write((edit or str)("""
load_module %(module)s;
worker_processes %(workers)d;
daemon off;
error_log %(dir)s/error.log info;
pid %(dir)s/nginx.pid;
events { worker_connections 1024; }
http {
    access_log %(dir)s/access.log;
    client_body_temp_path %(dir)s/body;
    payout_database "%(db)s";
    payout_database_pool %(pool)d;
    payout_master_key_file %(dir)s/master.key;
    payout_webhook_allow_private %(private)s;
    %(schedule)s
    %(http)s
    server {
        listen 127.0.0.1:%(port)d;
        %(errors)s
        %(server)s
        location /v1/ {
            payout_api;
            %(location)s
        }
    }
}
""" % dict(module=MODULE, workers=workers, dir=self.dir, db=db, pool=pool,
           http=http, server=server, port=self.port, location=location,
           schedule=("payout_webhook_schedule %s;" % webhook_schedule
                     if webhook_schedule else ""),
           private="on" if webhook_allow_private else "off",
           errors=("include %s;" % ERRORS_CONF if json_errors else ""))))
        self.proc = None

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def url(self, path):
        return self.base + path

    def env(self):
        return nginx_env(self.asan_dir)

    def check_config(self):
        """nginx -t of this configuration, without starting it."""
        return subprocess.run(["nginx", "-t", "-p", self.dir, "-c",
                               self.conf, "-e", self.error_log],
                              env=self.env(), capture_output=True,
                              text=True)

    def start(self):
        self.proc = subprocess.Popen(
            ["nginx", "-p", self.dir, "-c", self.conf, "-e",
             self.error_log], env=self.env(), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        wait_port(self.port)
        return self

    def pids(self):
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)],
                             capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def reload(self):
        self.proc.send_signal(signal.SIGHUP)

    def stop(self, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("nginx did not quit gracefully")

    def log_problems(self):
        problems = []
        if os.path.exists(self.error_log):
            with open(self.error_log, errors="replace") as f:
                problems += [line.rstrip() for line in f
                             if BAD_LOG.search(line)]
        for path in glob.glob(os.path.join(self.asan_dir, "*")):
            with open(path, errors="replace") as f:
                problems.append(f.read())
        return problems

    def destroy(self):
        self.stop()
        problems = self.log_problems()
        shutil.rmtree(self.dir, ignore_errors=True)
        return problems


@pytest.fixture(scope="session")
def pg():
    db = Postgres()
    db.start()
    payoutctl(db, "migrate", "--sandbox")
    yield db
    db.destroy()


@pytest.fixture
def nginx_factory(pg):
    """Start nginx instances; their logs are checked on teardown."""
    started = []

    def make(**kw):
        ngx = Nginx(pg, **kw).start()
        started.append(ngx)
        return ngx

    yield make

    problems = []
    for ngx in started:
        problems += ngx.destroy()
    assert not problems, "nginx error log:\n" + "\n".join(problems)


@pytest.fixture
def nginx(nginx_factory):
    return nginx_factory()


class Tenant:
    def __init__(self, pg, name, key, mode="test"):
        self.pg = pg
        self.name = name
        self.key = key
        self.mode = mode
        self.id = pg.sql("SELECT id FROM tenants WHERE name = %s",
                         (name,))[0][0]

    @property
    def headers(self):
        return {"Authorization": "Bearer " + self.key}


@pytest.fixture
def tenant_factory(pg):
    def make(mode="test"):
        name = "t-" + uuid.uuid4().hex[:12]
        payoutctl(pg, "tenant", "create", name)
        key = payoutctl(pg, "key", "create", "--tenant", name, "--mode",
                        mode).stdout.strip()
        return Tenant(pg, name, key, mode)

    return make


@pytest.fixture
def tenant(tenant_factory):
    return tenant_factory()


@pytest.fixture
def http():
    with requests.Session() as s:
        yield s
