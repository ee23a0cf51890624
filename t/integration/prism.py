"""Mock providers from their official OpenAPI specs, for conformance tests.

Not a test module: connector tests import it (test_prism.py shows the
harness itself).  prism (@stoplight/prism-cli 5.14.2, pinned in
package.json, installed by `make deps`) serves a spec of t/fixtures/specs/
on loopback and validates each request against it: a valid one gets a 2xx
example, an invalid one a 4xx (422, 415, 401...) with the reasons in the
`sl-violations` response header.

nginx calls the provider, so a test cannot see prism's answers itself: a
RecordingProxy on loopback stands in front of prism, forwards every request
and records it with prism's status and violations.  Tests point the
gateway's url= at proxy.url and assert that nothing was violated:

    def test_x(mock_provider, ...):
        provider = mock_provider("paystack")       # strict: checked at the
        ngx = nginx_factory(http="payout_gateway ps connector=paystack "
                            "url=%s ..." % provider.url)
        ...
        provider.wait(lambda xs: xs, what="the transfer")
        provider.assert_clean()                    # and again at teardown

    provider.exchanges            every Exchange so far (method, path,
                                  headers, body, status, violations)
    provider.respond = fn         fn(exchange) -> None (forward to prism)
                                  or (status[, headers[, body]]): a
                                  stand-in answer, e.g. a 500 or a timeout
                                  (time.sleep) prism cannot give
    provider.rewrite = fn         fn(exchange, body) -> body: prism checked
                                  the request and answered; the gateway
                                  gets this body instead (prism's static
                                  examples, e.g. status "string", drive
                                  no flow)
    assert_accepted(response)     a requests.Response: 2xx, no violations
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest

from conftest import ROOT, free_port
from receiver import Recorder

PRISM = os.path.join(ROOT, "node_modules", ".bin", "prism")
SPECS_DIR = os.path.join(ROOT, "t", "fixtures", "specs")
SPECS = {
    "paystack": "paystack-2025-10-24.yaml",
    "stripe": "stripe-payouts-unexpanded-2023-09-12.json",
    "mollie": "mollie-specs-2026-08-21.yaml",
    "adyen": "adyen-TransferService-v4.json",
}
# prism loads a large spec in several seconds, more on a busy machine
START_TIMEOUT = float(os.environ.get("PAYOUT_PRISM_TIMEOUT", "90"))
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te",
              "upgrade", "proxy-connection", "content-length", "host"}


def spec_path(name):
    """The spec file of a provider ("paystack", "stripe", "mollie",
    "adyen") or a file name
    in t/fixtures/specs/."""
    return os.path.join(SPECS_DIR, SPECS.get(name, name))


def violations_of(headers):
    """The parsed sl-violations header of a response, or None."""
    for k, v in headers.items():
        if k.lower() == "sl-violations":
            try:
                return json.loads(v)
            except ValueError:
                return [v]
    return None


def assert_accepted(response):
    """A requests.Response (to prism directly) the spec accepts."""
    v = violations_of(response.headers)
    assert 200 <= response.status_code < 300 and v is None, \
        "%s %s: %d %r" % (response.request.method, response.request.url,
                          response.status_code, v)


class Prism:
    """One `prism mock SPEC` process on 127.0.0.1:port; with upstream, a
    validating `prism proxy SPEC UPSTREAM` (errors: --errors, so that a
    request the spec refuses is answered by prism and never forwarded,
    and an answer that breaks the spec becomes prism's error)."""

    def __init__(self, spec, port=None, upstream=None, errors=False):
        self.spec = spec_path(spec)
        self.port = port or free_port()
        self.upstream = upstream
        self.errors = errors
        self.proc = None
        self.log = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        if not os.path.exists(PRISM):
            raise AssertionError("%s is missing: run `make deps`" % PRISM)
        if not os.path.exists(self.spec):
            raise AssertionError("no spec %s" % self.spec)
        self.log = tempfile.NamedTemporaryFile(prefix="prism-", suffix=".log",
                                               delete=False)
        # its own process group: stop() ends prism and any child it has
        if self.upstream:
            cmd = [PRISM, "proxy", self.spec, self.upstream]
            cmd += ["--errors"] if self.errors else []
        else:
            cmd = [PRISM, "mock", self.spec]
        self.proc = subprocess.Popen(
            cmd + ["-p", str(self.port), "-h", "127.0.0.1", "-v", "error"],
            stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_port()
        return self

    def _wait_port(self):
        deadline = time.time() + START_TIMEOUT
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("prism exited (%d):\n%s"
                                     % (self.proc.returncode, self.output()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.2):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("prism did not listen on %d within %ds:\n%s"
                             % (self.port, START_TIMEOUT, self.output()))

    def output(self):
        if self.log is None:
            return ""
        with open(self.log.name, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.log is not None:
            self.log.close()
            os.unlink(self.log.name)
            self.log = None


class Exchange:
    """One request through a RecordingProxy and what answered it."""

    def __init__(self, method, path, headers, body):
        self.at = time.time()
        self.method = method
        self.path = path
        self.headers = headers          # lower-cased names
        self.body = body
        self.status = None              # prism's, or the stand-in's
        self.violations = None          # parsed sl-violations, or None
        self.response = b""
        self.stand_in = False           # answered by respond, not prism

    @property
    def accepted(self):
        return (self.status is not None and 200 <= self.status < 300
                and self.violations is None)

    @property
    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<%s %s -> %s%s%s>" % (
            self.method, self.path, self.status,
            " (stand-in)" if self.stand_in else "",
            " %s" % json.dumps(self.violations) if self.violations else "")


class RecordingProxy(Recorder):
    """A loopback HTTP proxy in front of a prism: forwards, records in
    self.exchanges (wait() and stop() are Recorder's)."""

    def __init__(self, target_port, name=""):
        super().__init__()
        self.name = name
        self.target_port = target_port
        self.respond = None
        self.rewrite = None
        self.port = None

    @property
    def exchanges(self):
        return self.requests

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _body(self):
                if "chunked" in (self.headers.get("Transfer-Encoding")
                                 or "").lower():
                    out = b""
                    while True:
                        n = int(self.rfile.readline().split(b";")[0], 16)
                        if n == 0:
                            while self.rfile.readline() not in (b"\r\n",
                                                                b"\n", b""):
                                pass
                            return out
                        out += self.rfile.read(n)
                        self.rfile.readline()
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def _handle(self):
                ex = Exchange(self.command, self.path,
                              {k.lower(): v for k, v in self.headers.items()},
                              self._body())
                status, headers, body = proxy._answer(ex, self.headers)
                self.send_response(status)
                for k, v in headers:
                    if k.lower() not in HOP_BY_HOP:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.port = self.serve(Handler, "127.0.0.1", 0)
        return self

    def _answer(self, ex, headers):
        answer = self.respond(ex) if self.respond is not None else None
        if answer is not None:
            if isinstance(answer, int):
                answer = (answer,)
            status = answer[0]
            out = list(dict(answer[1] if len(answer) > 1 and answer[1]
                            else {}).items())
            body = answer[2] if len(answer) > 2 else b"{}"
            if isinstance(body, str):
                body = body.encode()
            if not any(k.lower() == "content-type" for k, _ in out):
                out.append(("Content-Type", "application/json"))
            ex.stand_in = True
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.target_port,
                                              timeout=30)
            try:
                fwd = {k: v for k, v in headers.items()
                       if k.lower() not in HOP_BY_HOP}
                fwd["Host"] = "127.0.0.1:%d" % self.target_port
                conn.request(ex.method, ex.path, body=ex.body, headers=fwd)
                r = conn.getresponse()
                status, out, body = r.status, r.getheaders(), r.read()
            finally:
                conn.close()
            ex.violations = violations_of(dict(out))
            if self.rewrite is not None and 200 <= status < 300:
                new = self.rewrite(ex, body)
                if new is not None:
                    body = new.encode() if isinstance(new, str) else new
        ex.status = status
        ex.response = body
        with self._cond:
            self.requests.append(ex)
            self._cond.notify_all()
        return status, out, body

    def clear(self):
        with self._cond:
            del self.requests[:]

    def got(self, method=None, path=None):
        """The exchanges so far, of a method and a path (prefix) if
        given."""
        with self._cond:
            xs = list(self.exchanges)
        return [x for x in xs
                if (method is None or x.method == method)
                and (path is None or x.path.startswith(path))]

    def problems(self):
        """Exchanges prism refused or found violations in (stand-in
        answers are the test's own and not counted)."""
        return [x for x in self.got() if not x.stand_in and not x.accepted]

    def assert_clean(self):
        bad = self.problems()
        assert not bad, "%s spec violations: %r" % (self.name or "provider",
                                                    bad)


@pytest.fixture(scope="session")
def prism_server():
    """prism_server("paystack") -> a Prism of that spec, started once per
    session (it takes seconds to load a spec)."""
    started = {}
    lock = threading.Lock()

    def get(name):
        with lock:
            if name not in started:
                started[name] = Prism(name).start()
            return started[name]

    yield get
    for p in started.values():
        p.stop()


@pytest.fixture
def mock_provider(prism_server):
    """mock_provider("stripe", strict=True) -> a RecordingProxy of this
    test in front of the session's prism; a strict one fails the test at
    teardown if anything sent through it violated the spec."""
    proxies = []

    def make(name, strict=True):
        proxy = RecordingProxy(prism_server(name).port, name).start()
        proxies.append((proxy, strict))
        return proxy

    yield make
    problems = []
    for proxy, strict in proxies:
        proxy.stop()
        if strict:
            problems += proxy.problems()
    assert not problems, "spec violations: %r" % problems
