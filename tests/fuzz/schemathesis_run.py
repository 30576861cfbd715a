#!/usr/bin/env python3
"""Fuzzes every endpoint of example-server with schemathesis (a tool nobody here wrote).

Runs against the document the server itself serves at /openapi.json (generated from the
handlers; example-server/tests/http/openapi.rs checks it lists every mounted route and the reverse). The
server runs on a temporary SQLite database; the admin's token rides on every request (in each
surface's header) so generated bodies reach the handlers. Passes when schemathesis finds no
5xx and no crash.

    tests/fuzz/schemathesis_run.py SERVER_BINARY [--max-examples N]

`.ci/run` installs schemathesis (pinned) into a virtualenv under target/ and runs this.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

# Left out, as they would end the admin session every other request relies on (their
# refusals are covered by the Rust suites).
SESSION_ENDERS = {
    ("post", "/api/v1/platform/logout"),
    ("post", "/api/v1/platform/refresh/token"),
    ("post", "/logout"),
    ("post", "/refresh"),
}


def fuzz_document(served):
    """The server's own document without the operations that would end the session."""
    doc = json.loads(json.dumps(served))
    for path, item in list(doc["paths"].items()):
        for method in list(item):
            if (method, path) in SESSION_ENDERS:
                del item[method]
        if not any(m in item for m in ("get", "put", "post", "delete", "patch", "head", "options")):
            del doc["paths"][path]
    return doc


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post_json(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("server")
    parser.add_argument("--max-examples", type=int, default=60)
    parser.add_argument("--schemathesis", default="schemathesis")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="rbac-schemathesis-")
    port = free_port()
    password = "Fuzz-admin-password-1"
    spec = os.path.join(work, "openapi.json")
    log = open(os.path.join(work, "server.log"), "w")
    server = subprocess.Popen(
        [
            args.server,
            "--listen", f"127.0.0.1:{port}",
            "--database", f"sqlite://{work}/fuzz.db",
            "--admin-password", password,
            "--login-max-failures", "1000000",
            "--login-address-max-failures", "1000000",
            "--login-backoff-secs", "0",
            "--argon2-memory-kib", "256",
            "--argon2-iterations", "1",
            "--metrics-access", "open",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "NO_COLOR": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/readyz", timeout=2).read()
                break
            except Exception:
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit("example-server did not start; see " + log.name)
                time.sleep(0.2)
        with urllib.request.urlopen(f"{base}/openapi.json", timeout=10) as resp:
            served = json.load(resp)
        with open(spec, "w") as f:
            json.dump(fuzz_document(served), f, indent=1)
        operations = sum(len(item) for item in fuzz_document(served)["paths"].values())
        print(f"fuzzing {operations} operations of the served document", flush=True)
        token = post_json(f"{base}/api/v1/login", {"name": "admin", "password": password})["data"]["auth_token"]
        headers = ["Auth-Token", "X-Auth-Token", "token"]
        cmd = [
            args.schemathesis, "run", spec,
            "--url", base,
            "--checks", "not_a_server_error",
            "--max-examples", str(args.max_examples),
            "--phases", "examples,coverage,fuzzing",
            "--workers", "2",
            "--seed", "20261123",
            "--request-timeout", "30",
            "--suppress-health-check", "all",
            "--generation-database", "none",
            "--no-color",
            "-H", f"Authorization: Bearer {token}",
            "--report", "ndjson",
            "--report-ndjson-path", os.path.join(work, "events.ndjson"),
        ]
        for h in headers:
            cmd += ["-H", f"{h}: {token}"]
        print("running:", " ".join(c if token not in c else c.replace(token, "<token>") for c in cmd), flush=True)
        result = subprocess.run(cmd)
        requests = count_requests(os.path.join(work, "events.ndjson"))
        alive = server.poll() is None
        print(f"schemathesis exit {result.returncode}; {requests} requests sent; server alive: {alive}")
        if result.returncode != 0 or not alive:
            tail = open(log.name).read()[-4000:]
            print("---- server log (tail) ----\n" + tail)
            return 1
        if requests < 1000:
            print(f"only {requests} requests were generated; expected thousands")
            return 1
        return 0
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


def count_requests(path):
    """Counts the HTTP interactions recorded in schemathesis' NDJSON report."""
    n = 0
    try:
        with open(path) as f:
            for line in f:
                n += line.count('"request"')
    except OSError:
        return 0
    return n


if __name__ == "__main__":
    sys.exit(main())
