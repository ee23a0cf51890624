"""Outbound TLS is verified: a certificate nobody vouches for is refused,
and payout_ca_file makes it trusted."""

import http.server
import os
import shutil
import ssl
import subprocess
import threading
import time

import pytest

from conftest import free_port, make_shared_dir
from payout_helpers import bank, create


class TLSReceiver:
    def __init__(self, cert, key):
        self.port = free_port()
        self.bodies = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                outer.bodies.append(self.rfile.read(n))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", self.port), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket,
                                             server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def url(self):
        return "https://127.0.0.1:%d/hook" % self.port

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def certificate():
    # readable by nginx's workers, which do not run as root
    d = make_shared_dir("payout-tls-")
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    os.chmod(cert, 0o644)
    yield cert, key
    shutil.rmtree(d, ignore_errors=True)


def wait_delivery(pg, uuid, pred, timeout=10):
    deadline = time.time() + timeout
    rows = None
    while time.time() < deadline:
        rows = pg.sql("SELECT d.state, d.attempts, d.last_error "
                      "FROM webhook_deliveries d JOIN payouts p "
                      "ON p.id = d.payout_id WHERE p.uuid = %s "
                      "ORDER BY d.id", (uuid,))
        if rows and pred(rows):
            return rows
        time.sleep(0.1)
    raise AssertionError("deliveries: %r" % (rows,))


def test_untrusted_certificate_is_refused(nginx_factory, tenant, http, pg,
                                          certificate):
    rc = TLSReceiver(*certificate)
    try:
        ngx = nginx_factory(sandbox=True, reconcile_grace="60s")
        u = create(http, ngx, tenant, bank(
            stage=True, webhook_urls=[rc.url()]))["payout_uuid"]
        rows = wait_delivery(pg, u, lambda rs: rs[0][1] >= 1
                             and rs[0][2] is not None)
        assert rows[0][0] == "pending"
        assert "certificate" in rows[0][2].lower() \
            or "ssl" in rows[0][2].lower(), rows
        assert rc.bodies == []
    finally:
        rc.stop()


def test_payout_ca_file_trusts_it(nginx_factory, tenant, http, pg,
                                  certificate):
    rc = TLSReceiver(*certificate)
    try:
        ngx = nginx_factory(sandbox=True, reconcile_grace="60s",
                            http="payout_ca_file %s;" % certificate[0])
        u = create(http, ngx, tenant, bank(
            stage=True, webhook_urls=[rc.url()]))["payout_uuid"]
        rows = wait_delivery(pg, u, lambda rs: rs[0][0] == "delivered")
        assert rows[0][1] == 1
        assert len(rc.bodies) == 1
    finally:
        rc.stop()
