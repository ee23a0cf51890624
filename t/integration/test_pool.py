"""The asynchronous PostgreSQL pool (SPEC §3): non-blocking workers, a
bounded queue, 503 JSON with Retry-After while the database is unavailable,
reconnects without a reload, and clean reloads."""

import concurrent.futures
import contextlib
import select
import socket
import threading
import time

import psycopg2
import pytest
import requests

from conftest import Postgres, free_port, own_database, payoutctl
from payout_helpers import assert_error

STATIC = 'location = /static { return 200 "ok"; }'


def assert_unavailable(r):
    assert_error(r, 503)
    assert int(r.headers["Retry-After"]) > 0


def timed(fn, *args, **kw):
    start = time.monotonic()
    r = fn(*args, **kw)
    return r, time.monotonic() - start


def poll(fn, timeout, interval=0.05):
    """fn() until it returns something truthy, or fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in %.1fs" % timeout)
        time.sleep(interval)


# the tests below block the API key lookup: with the key cache off, each
# request makes one (payout_api_key_cache)
NO_KEY_CACHE = "payout_api_key_cache 0;"


@contextlib.contextmanager
def api_keys_locked(pg):
    """Hold ACCESS EXCLUSIVE on api_keys: every key lookup blocks."""
    conn = psycopg2.connect(pg.conninfo)
    try:
        cur = conn.cursor()
        cur.execute("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE")
        yield conn.get_backend_pid()
    finally:
        conn.rollback()
        conn.close()


def lock_waiters(pg, holder):
    """How many backends wait on a lock held by holder."""
    return pg.sql("SELECT count(*) FROM pg_stat_activity "
                  "WHERE %s = ANY(pg_blocking_pids(pid))", (holder,))[0][0]


def status(url, headers=None):
    return requests.get(url, headers=headers, timeout=5).status_code


def in_thread(fn, *args, **kw):
    """Run fn in a thread; the future's result is (value, seconds)."""
    ex = concurrent.futures.ThreadPoolExecutor(1)
    fut = ex.submit(timed, fn, *args, **kw)
    ex.shutdown(wait=False)
    return fut


class SilentServer:
    """A TCP listener that accepts connections and never answers: a
    database that hangs during connection start-up.  close_all() drops
    every connection accepted so far, as a crashing server would."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def conninfo(self):
        # no SSL or GSS retry: one TCP connection per attempt
        return ("host=127.0.0.1 port=%d dbname=payouts user=payout "
                "sslmode=disable gssencmode=disable" % self.port)

    def _run(self):
        while not self.stopping.is_set():
            ready, _, _ = select.select([self.sock], [], [], 0.05)
            if ready:
                conn, _ = self.sock.accept()
                with self.lock:
                    self.conns.append(conn)

    def accepted(self):
        with self.lock:
            return len(self.conns)

    def close_all(self):
        with self.lock:
            conns, self.conns = self.conns, []
        for conn in conns:
            conn.close()

    def stop(self):
        self.stopping.set()
        self.thread.join()
        self.close_all()
        self.sock.close()


@pytest.fixture
def silent_server():
    server = SilentServer()
    yield server
    server.stop()


def wait_reloaded(ngx, old, timeout=15):
    """After a reload: new workers up and every old worker gone."""
    def done():
        pids = set(ngx.pids())
        return pids and not (pids & old)
    poll(done, timeout)


def test_blocked_query_does_not_block_the_worker(nginx_factory, pg, tenant):
    """One worker, one connection, a query stuck on a lock: requests that
    need no database are still answered at once, a request that needs the
    pool waits its queue timeout and gets 503, and the stuck one finishes
    when the lock goes away."""
    ngx = nginx_factory(workers=1, pool=1, server=STATIC,
                        http="payout_database_queue_timeout 1s;"
                        + NO_KEY_CACHE)
    url = ngx.url("/v1/payouts")
    assert requests.get(url, headers=tenant.headers).status_code == 200

    with api_keys_locked(pg) as holder:
        first = in_thread(requests.get, url, headers=tenant.headers,
                          timeout=20)
        poll(lambda: lock_waiters(pg, holder) == 1, 5)

        r, took = timed(requests.get, ngx.url("/static"), timeout=5)
        assert r.status_code == 200 and r.text == "ok"
        assert took < 0.5

        r, took = timed(requests.get, ngx.url("/v1/nope"), timeout=5)
        assert_error(r, 404)
        assert took < 0.5

        r, took = timed(requests.get, ngx.url("/v1/payouts?limit=abc"),
                        timeout=5)
        assert_error(r, 401)        # no key: answered without the pool
        assert took < 0.5

        r, took = timed(requests.get, url, headers=tenant.headers,
                        timeout=10)
        assert_unavailable(r)
        assert 0.8 <= took < 3, took

        assert not first.done()

    r, took = first.result(timeout=10)
    assert r.status_code == 200
    assert r.json()["data"] == []

    # the connection is free again
    r = requests.get(url, headers=tenant.headers, timeout=5)
    assert r.status_code == 200


def test_queue_drains_after_a_block(nginx_factory, pg, tenant):
    """Requests queued behind a stuck query are served, not dropped, when
    it finishes within the queue timeout."""
    ngx = nginx_factory(workers=1, pool=1,
                        http="payout_database_queue_timeout 10s;"
                        + NO_KEY_CACHE)
    url = ngx.url("/v1/payouts")
    with api_keys_locked(pg) as holder:
        futs = [in_thread(requests.get, url, headers=tenant.headers,
                          timeout=20)]
        poll(lambda: lock_waiters(pg, holder) == 1, 5)
        futs += [in_thread(requests.get, url, headers=tenant.headers,
                           timeout=20) for _ in range(5)]
        time.sleep(0.3)
        assert not any(f.done() for f in futs)
    for f in futs:
        r, _ = f.result(timeout=15)
        assert r.status_code == 200


def test_query_timeout(nginx_factory, pg, tenant):
    """A query stuck longer than payout_database_query_timeout fails with
    503; the pool reconnects and serves the next requests."""
    ngx = nginx_factory(workers=1, pool=1,
                        http="payout_database_query_timeout 1s;"
                        + NO_KEY_CACHE)
    url = ngx.url("/v1/payouts")
    with api_keys_locked(pg) as holder:
        r, took = timed(requests.get, url, headers=tenant.headers,
                        timeout=10)
        assert_unavailable(r)
        assert 0.8 <= took < 3, took
        # the pool reconnects by itself: a query that needs no lock works
        poll(lambda: status(ngx.url("/v1/health")) == 200, 5)
        assert lock_waiters(pg, holder) >= 1
    poll(lambda: status(url, tenant.headers) == 200, 5)


def test_abandoned_requests_do_not_break_the_pool(nginx_factory, pg, tenant):
    """Clients that give up while their query runs, or while it waits in
    the queue and then times out there, leave the pool working."""
    ngx = nginx_factory(workers=1, pool=1,
                        http="payout_database_queue_timeout 300ms;"
                        + NO_KEY_CACHE)
    url = ngx.url("/v1/payouts")
    with api_keys_locked(pg) as holder:
        # the first one runs (blocked), the others queue
        for _ in range(3):
            with pytest.raises(requests.exceptions.ReadTimeout):
                requests.get(url, headers=tenant.headers, timeout=0.2)
        assert lock_waiters(pg, holder) == 1
        # a client that stays gets its 503 when the queue times out
        r = requests.get(url, headers=tenant.headers, timeout=5)
        assert_unavailable(r)
    # the blocked query finishes for a client that is gone
    poll(lambda: status(url, tenant.headers) == 200, 5)
    assert status(url, tenant.headers) == 200


@pytest.mark.parametrize("workers", [1, 2])
def test_200_concurrent_requests(nginx_factory, tenant, workers):
    ngx = nginx_factory(workers=workers, pool=2)
    url = ngx.url("/v1/payouts")
    local = threading.local()

    def one(_):
        s = getattr(local, "session", None)
        if s is None:
            s = local.session = requests.Session()
        r = s.get(url, headers=tenant.headers, timeout=30)
        return r.status_code, r.headers.get("Content-Type"), r.json()

    with concurrent.futures.ThreadPoolExecutor(50) as ex:
        results = list(ex.map(one, range(200)))

    statuses = [s for s, _, _ in results]
    assert statuses.count(200) == 200, sorted(set(statuses))
    for _, ctype, body in results:
        assert ctype == "application/json"
        assert body["meta"]["totalItems"] == 0


def test_database_down_and_back(nginx_factory):
    """The database stops: API calls get 503 JSON with Retry-After quickly,
    health says down; it comes back: calls succeed again, no reload."""
    db, headers = own_database()
    try:
        ngx = nginx_factory(database=db.conninfo, workers=1, pool=2)
        url = ngx.url("/v1/payouts")
        assert requests.get(url, headers=headers,
                            timeout=5).status_code == 200

        db.stop()

        for _ in range(5):
            r, took = timed(requests.get, url, headers=headers, timeout=10)
            assert_unavailable(r)
            assert took < 3.5, took

        r, took = timed(requests.get, ngx.url("/v1/health"), timeout=10)
        assert r.status_code == 503
        assert r.headers["Content-Type"] == "application/json"
        assert int(r.headers["Retry-After"]) > 0
        assert r.json()["database"] == "down"
        assert took < 3.5, took

        # requests that need no database are unaffected
        assert_error(requests.get(ngx.url("/v1/nope"), timeout=5), 404)
        assert_error(requests.get(url, timeout=5), 401)

        db.start()

        poll(lambda: status(url, headers) == 200, 10, 0.2)
        r = requests.get(ngx.url("/v1/health"), timeout=5)
        assert r.status_code == 200
        assert r.json() == {"status": "ok", "database": "up"}
        # every connection of the pool is good again, not just one
        for _ in range(10):
            assert requests.get(url, headers=headers,
                                timeout=5).status_code == 200
    finally:
        db.destroy()


def test_database_unreachable_at_start(nginx_factory, tenant):
    """nginx starts against a database that is not there: requests that
    need it get 503 JSON at once, not a hang."""
    ngx = nginx_factory(database="host=127.0.0.1 port=%d dbname=payouts "
                        "user=payout" % free_port())
    for _ in range(3):
        r, took = timed(requests.get, ngx.url("/v1/payouts"),
                        headers=tenant.headers, timeout=10)
        assert_unavailable(r)
        assert took < 3, took

    r, took = timed(requests.get, ngx.url("/v1/health"), timeout=10)
    assert r.status_code == 503
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["database"] == "down"
    assert took < 3, took

    assert_error(requests.get(ngx.url("/v1/nope"), timeout=5), 404)


def test_database_appears_after_start(nginx_factory):
    """A database that was down when nginx started is used once it is up."""
    db = Postgres()
    try:
        ngx = nginx_factory(database=db.conninfo, workers=1, pool=2)
        r = requests.get(ngx.url("/v1/health"), timeout=10)
        assert r.status_code == 503

        db.start()
        payoutctl(db, "migrate")
        poll(lambda: status(ngx.url("/v1/health")) == 200, 10, 0.2)
    finally:
        db.destroy()


def test_connect_timeout(nginx_factory, silent_server):
    """A database that accepts TCP but never answers: requests wait at most
    payout_database_connect_timeout, then get 503, not a hang."""
    ngx = nginx_factory(database=silent_server.conninfo, workers=1, pool=1,
                        http="payout_database_connect_timeout 1s; "
                             "payout_database_queue_timeout 10s;")
    r, took = timed(requests.get, ngx.url("/v1/payouts"),
                    headers={"Authorization": "Bearer sk_test_" + "A" * 40},
                    timeout=15)
    assert_unavailable(r)
    assert took < 2.5, took
    r, took = timed(requests.get, ngx.url("/v1/health"), timeout=15)
    assert r.status_code == 503
    assert took < 2.5, took


def test_failed_connect_fails_the_queue_at_once(nginx_factory,
                                                 silent_server):
    """A request waits while the only connection is being attempted; when
    that attempt fails and no other is under way, it gets 503 at once
    instead of sitting out the queue timeout (pg.c: "when no connection is
    even being attempted, the caller hears at once")."""
    ngx = nginx_factory(database=silent_server.conninfo, workers=1, pool=1,
                        http="payout_database_connect_timeout 20s; "
                             "payout_database_queue_timeout 5s;")
    poll(lambda: silent_server.accepted() == 1, 5)

    waiting = in_thread(requests.get, ngx.url("/v1/health"), timeout=15)
    time.sleep(0.3)
    assert not waiting.done()           # queued behind the attempt

    closed = time.monotonic()
    silent_server.close_all()           # the attempt fails
    r, _ = waiting.result(timeout=15)
    took = time.monotonic() - closed
    assert r.status_code == 503
    assert r.headers["Content-Type"] == "application/json"
    assert took < 1.0, "503 came %.2fs after the attempt failed" % took


def test_reload_while_idle(nginx_factory, tenant):
    ngx = nginx_factory(workers=2, pool=2)
    url = ngx.url("/v1/payouts")
    assert requests.get(url, headers=tenant.headers,
                        timeout=5).status_code == 200
    old = set(ngx.pids())
    assert len(old) == 2

    ngx.reload()
    wait_reloaded(ngx, old)

    for _ in range(10):
        r = requests.get(url, headers=tenant.headers, timeout=5)
        assert r.status_code == 200
    assert requests.get(ngx.url("/v1/health"),
                        timeout=5).status_code == 200

    # and once more, to be sure the new workers shut down cleanly too
    old = set(ngx.pids())
    ngx.reload()
    wait_reloaded(ngx, old)
    assert requests.get(url, headers=tenant.headers,
                        timeout=5).status_code == 200


def test_reload_with_a_request_in_flight(nginx_factory, pg, tenant):
    """A graceful reload lets a request that waits on the database finish;
    the old worker exits only after it, with no open-socket alert."""
    ngx = nginx_factory(workers=1, pool=1, http=NO_KEY_CACHE)
    url = ngx.url("/v1/payouts")
    assert requests.get(url, headers=tenant.headers,
                        timeout=5).status_code == 200
    old = set(ngx.pids())

    with api_keys_locked(pg) as holder:
        first = in_thread(requests.get, url, headers=tenant.headers,
                          timeout=20)
        poll(lambda: lock_waiters(pg, holder) == 1, 5)
        ngx.reload()
        # new worker up and serving; the old one is still busy
        poll(lambda: set(ngx.pids()) - old, 10)
        r = requests.get(ngx.url("/v1/nope"), timeout=5)
        assert_error(r, 404)
        time.sleep(0.3)
        assert not first.done()

    r, _ = first.result(timeout=10)
    assert r.status_code == 200
    wait_reloaded(ngx, old)
