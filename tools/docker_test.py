"""The run half of `make docker-test` (tools/docker-test.sh builds first).

Starts the image ($IMAGE) with podman and host networking against a
throwaway PostgreSQL cluster on a free port, waits for its HEALTHCHECK,
creates a payout through the sandbox with the key the entry point wrote,
checks the signed webhook (a loopback receiver) and GET /v1/health, stops
it with SIGQUIT and checks the log for [alert]/[emerg].  Then again, in a
new container on the same volume: the API key and the master key must
have survived, and the first payout must still be there.

With host networking the image's fixed ports (8080, 8081) could be taken
on this machine, so the image's own docker/nginx.conf is mounted with
free ports instead (and payout_webhook_allow_private on, for the loopback
receiver); PAYOUT_PORT points the image's health check at the port.

Then docker/compose.yaml under podman-compose (compose_check), with the
image as payout-gateway:dev and postgres:15 from docker/postgres/ unless
a real one is there (DOCKER_TEST_COMPOSE=0 skips it).
"""

import hashlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import uuid as uuidlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "t", "integration"))

import requests                                         # noqa: E402

from conftest import Postgres, free_port                # noqa: E402
from receiver import Receiver, verify                   # noqa: E402

PODMAN = shlex.split(os.environ.get(
    "PODMAN", "podman --runtime runc --cgroup-manager=cgroupfs"))
LIMITS = shlex.split(os.environ.get(
    "LIMITS", "--ulimit nofile=20000:20000 --ulimit nproc=4096:4096"))
IMAGE = os.environ.get("IMAGE", "localhost/payout-gateway:test")
TAG = "payout-dt-" + uuidlib.uuid4().hex[:8]
SECRET = "docker-test-webhook-secret"
BAD = ("[alert]", "[emerg]")


def log(msg):
    print("docker-test: " + msg, flush=True)


def podman(*args, check=True, timeout=120):
    return subprocess.run(PODMAN + list(args), capture_output=True,
                          text=True, check=check, timeout=timeout)


class Gateway:
    """One container of the image on the volume."""

    def __init__(self, name, volume, conf, port, pg):
        self.name = name
        self.port = port
        podman("run", "-d", "--name", name, "--network", "host", *LIMITS,
               "-e", "PAYOUT_DATABASE=" + pg.conninfo,
               "-e", "PAYOUT_BOOTSTRAP_TENANT=demo",
               "-e", "PAYOUT_PORT=%d" % port,
               "-v", "%s:/var/lib/payout" % volume,
               "-v", "%s:/etc/nginx/nginx.conf:ro" % conf,
               IMAGE)

    def url(self, path):
        return "http://127.0.0.1:%d/v1/%s" % (self.port, path)

    def logs(self):
        r = podman("logs", self.name, check=False)
        return r.stdout + r.stderr

    def state(self):
        return podman("inspect", "--format", "{{.State.Status}}",
                      self.name).stdout.strip()

    def wait_healthy(self, timeout=120):
        """podman runs no health-check timer without systemd: run the
        image's HEALTHCHECK command until it passes."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.state() != "running":
                raise AssertionError("container exited:\n" + self.logs())
            if podman("healthcheck", "run", self.name,
                      check=False).returncode == 0:
                return
            time.sleep(1)
        raise AssertionError("not healthy after %ds:\n%s"
                             % (timeout, self.logs()))

    def read(self, path):
        return podman("exec", self.name, "cat", path).stdout

    def stop(self):
        """SIGQUIT (the image's STOPSIGNAL): a graceful shutdown that must
        end with status 0 and no [alert] or [emerg]."""
        podman("kill", "--signal", "QUIT", self.name)
        code = podman("wait", self.name, timeout=60).stdout.strip()
        logs = self.logs()
        bad = [line for line in logs.splitlines()
               if any(b in line for b in BAD)]
        assert not bad, "bad log lines:\n" + "\n".join(bad)
        assert code == "0", "exit status %s:\n%s" % (code, logs)
        assert "gracefully shutting down" in logs, logs
        return logs

    def remove(self):
        podman("rm", "-f", self.name, check=False)


def exercise(gw, rc, key, round_no):
    """Health, a sandbox payout to a loopback webhook receiver; returns
    the payout's uuid."""
    r = requests.get(gw.url("health"), timeout=10)
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ok", "database": "up"}, r.text

    auth = {"Authorization": "Bearer " + key}
    body = {"amount": 125000 + round_no, "currency": "NGN",
            "gateway": "sandbox",
            "idempotency_key": "docker-test-%d-%s" % (round_no, TAG),
            "bank_account_number": "0123456789",
            "bank_account_name": "DOCKER TEST", "bank_code": "058",
            "narration": "docker-test round %d" % round_no,
            "webhook_urls": [rc.url("round%d" % round_no)],
            "webhook_secret": SECRET}
    r = requests.post(gw.url("payouts"), json=body, headers=auth, timeout=30)
    assert r.status_code == 201, r.text
    u = r.json()["payout_uuid"]

    # pending_created, pending_promise, then the sandbox's final answer
    reqs = rc.wait(lambda _: (lambda g: g if any(
        x.json["sub_status"] == "success" for x in g) else None)(rc.got(u)),
        timeout=60, what="the success webhook of %s" % u)
    for req in reqs:
        assert verify(req, SECRET), req
        assert req.json["uuid"] == u
    subs = [x.json["sub_status"] for x in reqs]
    assert subs[0] == "pending_created" and subs[-1] == "success", subs

    r = requests.get(gw.url("payouts/" + u), headers=auth, timeout=10)
    assert r.status_code == 200 and r.json()["sub_status"] == "success", \
        r.text
    assert r.json()["recipient"]["bank_account_number"].endswith("6789")
    log("round %d: healthy, payout %s paid, %d signed webhooks"
        % (round_no, u, len(reqs)))
    return u


CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


class Compose:
    """docker/compose.yaml under podman-compose, as project `name`, with
    the gateway published on `port`.  podman-compose has no --runtime or
    --ulimit of its own: a containers.conf (CONTAINERS_CONF) gives runc,
    cgroupfs and the limits to every podman call it makes."""

    def __init__(self, name, port, work):
        conf = os.path.join(work, "containers.conf")
        with open(conf, "w") as f:
            f.write(CONTAINERS_CONF)
        self.name = name
        self.port = port
        self.env = dict(os.environ, CONTAINERS_CONF=conf,
                        GATEWAY_PORT=str(port))

    def run(self, *args, check=True):
        r = subprocess.run(["podman-compose", "-p", self.name, "-f",
                            os.path.join(ROOT, "docker", "compose.yaml")]
                           + list(args), env=self.env, capture_output=True,
                           text=True, timeout=300)
        if check and r.returncode != 0:
            raise AssertionError("podman-compose %s: %s%s"
                                 % (" ".join(args), r.stdout, r.stderr))
        return r

    def podman(self, *args, check=True):
        return subprocess.run(["podman"] + list(args), env=self.env,
                              capture_output=True, text=True, check=check,
                              timeout=120)

    def container(self, service):
        return "%s_%s_1" % (self.name, service)

    def url(self, path):
        return "http://127.0.0.1:%d/v1/%s" % (self.port, path)

    def wait_healthy(self, timeout=120):
        """Both services' HEALTHCHECKs pass (podman has no timer for
        them without systemd) and the published port answers."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if all(self.podman("healthcheck", "run", self.container(s),
                               check=False).returncode == 0
                   for s in ("db", "gateway")):
                try:
                    if requests.get(self.url("health"),
                                    timeout=5).status_code == 200:
                        return
                except requests.RequestException:
                    pass
            time.sleep(1)
        logs = self.podman("logs", self.container("gateway"), check=False)
        raise AssertionError("compose not healthy after %ds:\n%s%s"
                             % (timeout, logs.stdout, logs.stderr))

    def pay(self, key, round_no):
        auth = {"Authorization": "Bearer " + key}
        r = requests.post(self.url("payouts"), headers=auth, timeout=30,
                          json={"amount": 1000 + round_no,
                                "currency": "NGN", "gateway": "sandbox",
                                "bank_account_number": "0123456789",
                                "bank_account_name": "COMPOSE TEST",
                                "bank_code": "058"})
        assert r.status_code == 201, r.text
        u = r.json()["payout_uuid"]
        deadline = time.time() + 30
        while time.time() < deadline:
            got = requests.get(self.url("payouts/" + u), headers=auth,
                               timeout=10).json()
            if got["sub_status"] == "success":
                return u
            time.sleep(0.5)
        raise AssertionError("compose payout %s not paid: %r" % (u, got))

    def down(self, volumes=False):
        self.run("down", *(["-v"] if volumes else []), check=False)
        if volumes:
            for v in ("pgdata", "payout"):
                self.podman("volume", "rm", "-f", "%s_%s" % (self.name, v),
                            check=False)
            self.podman("network", "rm", "-f", self.name + "_default",
                        check=False)


def compose_check(work):
    """docker/compose.yaml: up (PostgreSQL by name on the compose network,
    the gateway published on a free loopback port), a sandbox payout with
    the demo key, down, up again on the same volumes (same key, the
    payout still there), down -v."""
    c = Compose(TAG + "-compose", free_port(), work)
    try:
        c.run("up", "-d")
        c.wait_healthy()
        key = c.podman("exec", c.container("gateway"), "cat",
                       "/var/lib/payout/demo.key").stdout.strip()
        first = c.pay(key, 1)
        c.down()
        c.run("up", "-d")
        c.wait_healthy()
        again = c.podman("exec", c.container("gateway"), "cat",
                         "/var/lib/payout/demo.key").stdout.strip()
        assert again == key, "the compose key changed across down/up"
        r = requests.get(c.url("payouts/" + first), timeout=10,
                         headers={"Authorization": "Bearer " + key})
        assert r.status_code == 200, r.text
        c.pay(key, 2)
        log("compose: up, payout paid, down, up: same key and data")
    finally:
        c.down(volumes=True)


def main():
    work = tempfile.mkdtemp(prefix="payout-dt-")
    pg = Postgres()
    rc = Receiver()
    volume = TAG + "-data"
    gateways = []
    port, sandbox_port = free_port(), free_port()
    while sandbox_port == port:
        sandbox_port = free_port()

    with open(os.path.join(ROOT, "docker", "nginx.conf")) as f:
        conf = f.read()
    conf = conf.replace("0.0.0.0:8080", "127.0.0.1:%d" % port)
    conf = conf.replace("127.0.0.1:8081", "127.0.0.1:%d" % sandbox_port)
    conf = conf.replace(
        "    payout_sandbox_webhook_url",
        "    payout_webhook_allow_private on;\n"
        "    payout_sandbox_webhook_url")
    assert str(port) in conf and str(sandbox_port) in conf
    conf_path = os.path.join(work, "nginx.conf")
    with open(conf_path, "w") as f:
        f.write(conf)
    os.chmod(work, 0o755)
    os.chmod(conf_path, 0o644)

    try:
        pg.start()
        rc.start()
        podman("volume", "create", volume)

        log("round 1: starting %s on port %d (PostgreSQL on %d)"
            % (IMAGE, port, pg.port))
        t0 = time.time()
        gw = Gateway(TAG + "-1", volume, conf_path, port, pg)
        gateways.append(gw)
        gw.wait_healthy()
        log("round 1: healthy after %.1fs" % (time.time() - t0))
        key = gw.read("/var/lib/payout/demo.key").strip()
        assert key.startswith("sk_test_"), key
        master = hashlib.sha256(
            gw.read("/var/lib/payout/master.key").encode()).hexdigest()
        first = exercise(gw, rc, key, 1)
        logs = gw.stop()
        assert "created the master key" in logs, logs
        log("round 1: stopped by SIGQUIT, exit 0, no [alert]/[emerg]")

        gw = Gateway(TAG + "-2", volume, conf_path, port, pg)
        gateways.append(gw)
        gw.wait_healthy()
        assert gw.read("/var/lib/payout/demo.key").strip() == key, \
            "the API key changed across the restart"
        assert hashlib.sha256(gw.read("/var/lib/payout/master.key")
                              .encode()).hexdigest() == master, \
            "the master key changed across the restart"
        r = requests.get(gw.url("payouts/" + first), timeout=10,
                         headers={"Authorization": "Bearer " + key})
        assert r.status_code == 200, r.text
        exercise(gw, rc, key, 2)
        logs = gw.stop()
        assert "created the master key" not in logs, logs
        assert "wrote the API key" not in logs, logs
        log("round 2: same API key and master key; stopped cleanly")
        if os.environ.get("DOCKER_TEST_COMPOSE", "1") != "0":
            compose_check(work)
        log("passed")
    finally:
        for gw in gateways:
            gw.remove()
        podman("volume", "rm", "-f", volume, check=False)
        rc.stop()
        pg.destroy()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        log("FAILED: %s" % e)
        sys.exit(1)
