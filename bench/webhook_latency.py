#!/usr/bin/python3
"""The bench's webhook row: creates payouts through the API at a steady
rate, each with a webhook URL on a loopback receiver started here, and
measures, for every webhook received, the time from its event's commit
(webhook_events.created_at, the creating transaction's start: an upper
bound) to the receiver's answer.  Prints "count p50_ms p99_ms rate".

    webhook_latency.py API_BASE KEY CONNINFO [RATE [SECONDS]]
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import requests

api, key, conninfo = sys.argv[1:4]
rate = float(sys.argv[4]) if len(sys.argv) > 4 else 200.0
seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 5.0

received = {}            # webhook-id -> arrival (unix seconds)
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        with lock:
            received.setdefault(self.headers.get("webhook-id"), time.time())

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
threading.Thread(target=server.serve_forever, daemon=True).start()
hook = "http://127.0.0.1:%d/hook" % server.server_address[1]

body = json.dumps({"amount": 1000, "currency": "NGN", "gateway": "sandbox",
                   "bank_account_number": "0123456789",
                   "bank_account_name": "BENCH", "bank_code": "058",
                   "webhook_urls": [hook]})
headers = {"Authorization": "Bearer " + key,
           "Content-Type": "application/json"}
sent = [0]


def sender(start, step):
    with requests.Session() as s:
        i = 0
        while True:
            due = start + (step * i)
            if due - start >= seconds:
                return
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            s.post(api + "/v1/payouts", data=body, headers=headers)
            with lock:
                sent[0] += 1
            i += 1


# senders, each at its share of the rate, so one slow create does not
# hold the next back: as many as wrk's connections, since a create waits
# for its commit (group commit needs concurrent creates to reach 200/s)
nsenders = 32
start = time.time() + 0.2
threads = [threading.Thread(target=sender,
                            args=(start + k / rate, nsenders / rate))
           for k in range(nsenders)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.time() - start

# let the last deliveries arrive
quiet = time.time()
last = -1
while time.time() - quiet < 10:
    with lock:
        n = len(received)
    if n == last and time.time() - quiet > 1.5:
        break
    last = n
    time.sleep(0.5)

with lock:
    got = dict(received)
conn = psycopg2.connect(conninfo)
cur = conn.cursor()
cur.execute("SELECT msg_id, extract(epoch FROM created_at) "
            "FROM webhook_events WHERE msg_id = ANY(%s)", (list(got),))
lat = sorted((got[m] - float(t)) * 1000 for m, t in cur.fetchall())
conn.close()
server.shutdown()

if not lat:
    print("0 - - %.0f" % (sent[0] / elapsed))
    sys.exit(0)


def pct(p):
    return lat[min(len(lat) - 1, int(p / 100.0 * len(lat)))]


print("%d %.1f %.1f %.0f" % (len(lat), pct(50), pct(99), sent[0] / elapsed))
