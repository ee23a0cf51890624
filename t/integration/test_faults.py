"""Faults (SPEC §3, §6, §7, §10): merchant endpoints that are down or
failing, reloads and kill -9 of workers mid-flight, a database restart
and two nginx nodes on one database.  Through all of them every webhook
event reaches the merchant (at least once, same webhook-id on repeats,
in order per payout, signed), and every payout is paid exactly once."""

import concurrent.futures
import time

import pytest
import requests

from conftest import free_port
from fault_helpers import (
    NO_ANSWER, RECONCILED_PATH, SANDBOX_LOG_HTTP, SANDBOX_LOG_SERVER,
    SUCCESS_PATH, Receiver, assert_all_delivered, assert_deliveries, create,
    deliveries, error_log, history, initiations, kill_workers,
    ledger, ledger_locked, own_database, payout_body, sandbox_calls,
    stop_forgiving_kills, wait_for, wait_reloaded, wait_sub_status)

FAST = "0 1s 1s 1s 1s 1s 1s 1s"          # eight tries, a second apart
PATIENT = " ".join(["0"] + ["1s"] * 29)  # thirty tries


@pytest.fixture
def receiver():
    rx = Receiver().start()
    yield rx
    rx.stop()


def in_thread(fn, *args, **kw):
    ex = concurrent.futures.ThreadPoolExecutor(1)
    fut = ex.submit(fn, *args, **kw)
    ex.shutdown(wait=False)
    return fut


def one_transfer(ngx, uuid, status="succeeded"):
    transfers = ledger(ngx, uuid)
    assert len(transfers) == 1, transfers
    assert transfers[0]["reference"] == uuid
    assert transfers[0]["status"] == status, transfers
    return transfers[0]


# 1. the merchant's endpoint is down, then comes up --

def test_receiver_down_then_up(nginx_factory, tenant):
    rx = Receiver(port=free_port())         # nothing listens there yet
    ngx = nginx_factory(sandbox=True, workers=2, webhook_delay="200ms",
                        webhook_schedule=FAST)
    try:
        made = [create(ngx, tenant.headers, payout_body(rx.url))
                for _ in range(4)]
        uuids = [m["payout_uuid"] for m in made]
        for u in uuids:
            wait_sub_status(ngx, tenant.headers, u, "success", 10)

        # the first event of each is being retried; the later ones wait
        # behind it (ordered per payout), none given up
        def retried():
            return all(deliveries(ngx, tenant.headers, u)[0]["attempts"]
                       >= 2 for u in uuids)
        wait_for(retried, 6, "retries against the closed port")
        for u in uuids:
            ds = deliveries(ngx, tenant.headers, u)
            assert [d["state"] for d in ds] == ["pending"] * 3, ds
            assert ds[0]["last_error"], ds[0]
            assert [d["attempts"] for d in ds[1:]] == [0, 0], ds

        rx.start()
        expect = {u: SUCCESS_PATH for u in uuids}
        rx.wait_complete(expect, 15)
        assert_deliveries(rx, expect)
        for u in uuids:
            assert_all_delivered(ngx, tenant.headers, u, 3)
            one_transfer(ngx, u)
    finally:
        rx.stop()


# 2. 500, then 200 --

def test_500_then_200_retries_the_same_event(nginx_factory, tenant):
    def answer(rec, tries):
        if rec["sub_status"] == "pending_created" and tries < 2:
            return 500
        if rec["sub_status"] == "success" and tries < 1:
            return 503
        return 200

    rx = Receiver(answer=answer).start()
    try:
        ngx = nginx_factory(sandbox=True, workers=2, webhook_delay="200ms",
                            webhook_schedule=FAST)
        uuids = [create(ngx, tenant.headers,
                        payout_body(rx.url))["payout_uuid"]
                 for _ in range(2)]
        expect = {u: SUCCESS_PATH for u in uuids}
        rx.wait_complete(expect, 20)
        ids = assert_deliveries(rx, expect)

        for u in uuids:
            recs = rx.all(u)
            created = [r for r in recs if r["id"] == ids[u][0]]
            assert [r["status"] for r in created] == [500, 500, 200]
            # each try signed afresh, never earlier than the one before
            stamps = [int(r["ts"]) for r in created]
            assert stamps == sorted(stamps)
            assert len({r["body"] for r in created}) == 1
            success = [r for r in recs if r["id"] == ids[u][2]]
            assert [r["status"] for r in success] == [503, 200]
            promise = [r for r in recs if r["id"] == ids[u][1]]
            assert [r["status"] for r in promise] == [200]

            ds = assert_all_delivered(ngx, tenant.headers, u, 3)
            assert [d["webhook_id"] for d in ds] == ids[u]
            assert [h["status_code"] for h in ds[0]["history"]] == \
                [500, 500, 200]
            assert [h["status_code"] for h in ds[2]["history"]] == [503, 200]
            assert ds[0]["attempts"] == 3 and ds[2]["attempts"] == 2
    finally:
        rx.stop()


# 3. reload while deliveries are in flight --

def test_reload_while_deliveries_are_in_flight(nginx_factory, tenant):
    rx = Receiver(answer=lambda rec, tries: (200, 1.0)).start()
    try:
        ngx = nginx_factory(sandbox=True, workers=2, webhook_delay="200ms",
                            webhook_schedule=FAST)
        uuids = [create(ngx, tenant.headers,
                        payout_body(rx.url))["payout_uuid"]
                 for _ in range(4)]
        expect = {u: SUCCESS_PATH for u in uuids}

        for _ in range(2):
            wait_for(lambda: rx.inflight >= 1, 10, "a delivery in flight")
            old = set(ngx.pids())
            ngx.reload()
            wait_reloaded(ngx, old, 2)
            assert not set(ngx.pids()) & old

        rx.wait_complete(expect, 25)
        assert_deliveries(rx, expect)
        for u in uuids:
            # the exiting workers recorded every attempt they had made
            for d in assert_all_delivered(ngx, tenant.headers, u, 3):
                sent = [r for r in rx.all(u) if r["id"] == d["webhook_id"]]
                assert len(d["history"]) == len(sent), (d, len(sent))
                assert d["history"][-1]["status_code"] == 200, d
            one_transfer(ngx, u)
    finally:
        rx.stop()


# 4. kill -9 of the workers during a create --

def test_kill_workers_while_the_provider_call_is_in_flight(nginx_factory,
                                                           pg, tenant,
                                                           receiver):
    """0006: the provider executed the transfer and never answers.  The
    workers die while the create waits for it; the respawned workers'
    reconciler finds the transfer by our reference and records success:
    no second transfer, every webhook."""
    # the create must still be waiting when the workers die, however
    # slow the machine: a gateway timeout well past the waits below
    ngx = nginx_factory(sandbox=True, workers=2, gateway_timeout="30s",
                        reconcile_grace="1s", webhook_schedule=FAST,
                        http=SANDBOX_LOG_HTTP, server=SANDBOX_LOG_SERVER)
    killed = set()
    try:
        body = payout_body(receiver.url, account=NO_ANSWER)
        pending = in_thread(requests.post, ngx.url("/v1/payouts"),
                            json=body, headers=tenant.headers, timeout=20)

        # committed (its first webhook is out) and executed at the
        # provider, while the create still waits for the answer
        u = wait_for(lambda: receiver.accepted() and
                     receiver.accepted()[0]["uuid"], 5,
                     "the pending_created webhook")
        wait_for(lambda: ledger(ngx, u), 5, "the transfer in the ledger")
        assert not pending.done()

        killed = kill_workers(ngx, 2)
        with pytest.raises(requests.exceptions.ConnectionError):
            pending.result(timeout=10)

        p = wait_sub_status(ngx, tenant.headers, u, "success", 15)
        assert p["status"] == "success"
        assert history(pg, u) == [("pending_created", "api"),
                                  ("success", "reconciler")]
        one_transfer(ngx, u)

        expect = {u: RECONCILED_PATH}
        receiver.wait_complete(expect, 10)
        assert_deliveries(receiver, expect)
        assert_all_delivered(ngx, tenant.headers, u, 2)

        # the reconciler looked it up; nobody sent it again
        calls = sandbox_calls(ngx)
        assert [c for c in calls if c[1] == "GET" and u in c[2]], calls
        assert not initiations(calls, u, ok_only=False), calls
        assert "sends payout %s again" % u not in error_log(ngx)

        # the client retries its create: the stored payout, no new call
        r = requests.post(ngx.url("/v1/payouts"), json=body,
                          headers=tenant.headers, timeout=5)
        assert r.status_code == 201, r.text
        assert r.json()["payout_uuid"] == u
        assert r.json()["resource_created"] is False
        assert r.json()["status"] == "success"
        one_transfer(ngx, u)
        assert not initiations(sandbox_calls(ngx), u, ok_only=False)
    finally:
        stop_forgiving_kills(ngx, killed)


def test_kill_workers_before_the_provider_saw_the_payout(nginx_factory, pg,
                                                         tenant, receiver):
    """The payout row is committed, the provider call has started but the
    provider has not recorded anything when the workers die.  The
    reconciler asks, hears "unknown", and sends it again with the same
    idempotency key: one transfer, success, every webhook."""
    ngx = nginx_factory(sandbox=True, workers=1, pool=4,
                        gateway_timeout="5s", reconcile_grace="1s",
                        webhook_schedule=FAST,
                        http=SANDBOX_LOG_HTTP, server=SANDBOX_LOG_SERVER)
    killed = set()
    try:
        body = payout_body(receiver.url)
        with ledger_locked(pg) as lock:
            pending = in_thread(requests.post, ngx.url("/v1/payouts"),
                                json=body, headers=tenant.headers,
                                timeout=20)
            u = wait_for(lambda: receiver.accepted() and
                         receiver.accepted()[0]["uuid"], 5,
                         "the pending_created webhook")
            wait_for(lock.stuck_inserts, 5, "the provider's insert")
            assert not pending.done()

            killed = kill_workers(ngx, 1)
            with pytest.raises(requests.exceptions.ConnectionError):
                pending.result(timeout=10)
            # the provider's half-done insert dies with them
            assert lock.terminate_inserts()
            assert lock.transfers(u) == []

        p = wait_sub_status(ngx, tenant.headers, u, "success", 15)
        assert p["status"] == "success"
        hist = history(pg, u)
        assert [s for s, _ in hist] == SUCCESS_PATH, hist
        assert hist[1][1] == "reconciler", hist
        one_transfer(ngx, u)
        assert "reconciler sends payout %s again" % u in error_log(ngx)
        # sent again exactly once by the new worker
        assert len(initiations(sandbox_calls(ngx), u)) == 1

        expect = {u: SUCCESS_PATH}
        receiver.wait_complete(expect, 10)
        assert_deliveries(receiver, expect)
        assert_all_delivered(ngx, tenant.headers, u, 3)
    finally:
        stop_forgiving_kills(ngx, killed)


# 5. PostgreSQL restarts while webhooks are pending --

def test_database_restart_during_deliveries(nginx_factory):
    db, headers = own_database()
    refusing = [True]

    def answer(rec, tries):
        return 503 if refusing[0] else 200

    rx = Receiver(answer=answer).start()
    try:
        ngx = nginx_factory(database=db.conninfo, sandbox=True, workers=2,
                            webhook_delay="200ms", webhook_schedule=PATIENT,
                            http="payout_webhook_timeout 2s;")
        uuids = [create(ngx, headers, payout_body(rx.url))["payout_uuid"]
                 for _ in range(3)]
        for u in uuids:
            wait_sub_status(ngx, headers, u, "success", 10)
        wait_for(lambda: set(uuids) <= {r["uuid"] for r in rx.all()}, 5,
                 "first tries, refused")
        assert not rx.accepted()

        db.stop()
        url = ngx.url("/v1/payouts")
        for _ in range(3):
            t0 = time.monotonic()
            r = requests.get(url, headers=headers, timeout=10)
            assert time.monotonic() - t0 < 3.5
            assert r.status_code == 503, r.text
            assert r.headers["Content-Type"] == "application/json"
            assert int(r.headers["Retry-After"]) > 0
            assert r.json()["error"]["code"]
        r = requests.post(url, json=payout_body(rx.url), headers=headers,
                          timeout=10)
        assert r.status_code == 503, r.text
        assert r.headers["Content-Type"] == "application/json"
        assert int(r.headers["Retry-After"]) > 0

        refusing[0] = False             # the merchant is back before us
        time.sleep(1.5)
        db.start()

        wait_for(lambda: requests.get(url, headers=headers,
                                      timeout=5).status_code == 200,
                 10, "the API back after the restart", 0.2)
        expect = {u: SUCCESS_PATH for u in uuids}
        # a delivery whose answer could not be recorded while the
        # database was down is repeated once its lease (timeout + 30 s)
        # runs out: allow for that
        rx.wait_complete(expect, 45)
        assert_deliveries(rx, expect)
        for u in uuids:
            assert_all_delivered(ngx, headers, u, 3)
            one_transfer(ngx, u)
        # the 503'd create left nothing behind
        assert db.sql("SELECT count(*) FROM payouts")[0][0] == 3
        assert requests.get(url, headers=headers,
                            timeout=5).json()["meta"]["totalItems"] == 3
    finally:
        rx.stop()
        db.destroy()


# 6. two nginx nodes, one database --

def test_two_nodes_share_one_database(nginx_factory, pg, tenant, receiver):
    """Payouts made on both nodes: every event delivered once, and no
    payout sent to the provider twice, though four workers on two nodes
    deliver and reconcile from the same tables -- also for payouts the
    provider executed without answering (0006) and for payouts it never
    saw, which the reconcilers must send again, once."""
    nodes = [nginx_factory(sandbox=True, workers=2, pool=4,
                           gateway_timeout="1s", reconcile_grace="1s",
                           webhook_delay="200ms", webhook_schedule=FAST,
                           http=SANDBOX_LOG_HTTP, server=SANDBOX_LOG_SERVER)
             for _ in range(2)]
    expect = {}
    unseen = []
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        futs = []
        for ngx in nodes:
            for _ in range(3):
                futs.append((SUCCESS_PATH, ex.submit(
                    create, ngx, tenant.headers, payout_body(receiver.url))))
            futs.append((RECONCILED_PATH, ex.submit(
                create, ngx, tenant.headers,
                payout_body(receiver.url, account=NO_ANSWER))))
        for path, fut in futs:
            expect[fut.result()["payout_uuid"]] = path

    # payouts whose provider call never got through
    with ledger_locked(pg) as lock:
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            futs = [ex.submit(create, ngx, tenant.headers,
                              payout_body(receiver.url)) for ngx in nodes]
            wait_for(lambda: len(lock.stuck_inserts()) == 2, 5,
                     "both providers' inserts")
            lock.terminate_inserts()
            for fut in futs:
                out = fut.result()
                assert out["status"] == "pending_created", out
                unseen.append(out["payout_uuid"])
                assert lock.transfers(out["payout_uuid"]) == []
    for u in unseen:
        expect[u] = SUCCESS_PATH

    for u in expect:
        wait_sub_status(nodes[0], tenant.headers, u, "success", 20)
    receiver.wait_complete(expect, 15)
    time.sleep(1.0)                     # room for a duplicate to show
    assert_deliveries(receiver, expect, exactly_once=True)
    assert len(receiver.all()) == sum(len(p) for p in expect.values())

    calls = sandbox_calls(nodes[0]) + sandbox_calls(nodes[1])
    for u, path in expect.items():
        one_transfer(nodes[1], u)
        for d in assert_all_delivered(nodes[1], tenant.headers, u,
                                      len(path)):
            assert d["attempts"] == 1, d
        sent = initiations(calls, u)
        if u in unseen:
            # the reconcilers sent it again, once between them
            assert len(sent) == 1, sent
        elif path == RECONCILED_PATH:
            # 0006: found by a lookup, never sent again
            assert sent == [], sent
        else:
            assert len(sent) == 1, sent
    logs = error_log(nodes[0]) + error_log(nodes[1])
    for u in unseen:
        assert logs.count("reconciler sends payout %s again" % u) == 1
    for u, path in expect.items():
        if path == RECONCILED_PATH:
            assert "sends payout %s again" % u not in logs
