#!/usr/bin/env python3
"""Fuzzes every endpoint of example-server with schemathesis (a tool nobody here wrote).

The server has no generated OpenAPI document yet, so this file holds a hand-checked list of
every endpoint of the five surfaces (paths, methods, body fields and types, as the handlers
read them) and turns it into an OpenAPI 3.0 document. The server runs on a temporary SQLite
database; the admin's token rides on every request (in each surface's header) so generated
bodies reach the handlers. Passes when schemathesis finds no 5xx and no crash.

    tests/fuzz/schemathesis_run.py SERVER_BINARY [--max-examples N]

`.ci/run` installs schemathesis (pinned) into a virtualenv under target/ and runs this.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

S, I, B, A = "string", "integer", "boolean", "array"

# (method, path, body fields {name: type}, content type). Left out, as they would end the
# admin session every other request relies on: platform/logout, platform/refresh/token,
# IAM /logout and /refresh (their refusals are covered by the Rust suites).
ENDPOINTS = [
    # platform (seed 003)
    ("post", "/api/v1/login", {"name": S, "user_name": S, "password": S}, "json"),
    ("post", "/api/v1/platform/list/user", {"name": S, "page_no": I, "page_size": I}, "json"),
    ("post", "/api/v1/platform/create/user", {"user_name": S, "user_alias": S, "phone_number": S, "password": S, "remark": S, "role_name": S, "email": S}, "json"),
    ("post", "/api/v1/platform/edit/user", {"user_name": S, "user_alias": S, "phone_number": S, "password": S, "remark": S, "role_name": S, "email": S}, "json"),
    ("post", "/api/v1/platform/delete/user", {"user_name": S}, "json"),
    ("post", "/api/v1/platform/enable/user", {"user_name": S}, "json"),
    ("post", "/api/v1/platform/disable/user", {"user_name": S}, "json"),
    ("post", "/api/v1/platform/list/role", {"page_no": I, "page_size": I}, "json"),
    ("post", "/api/v1/platform/create/role", {"role_name": S, "remark": S}, "json"),
    ("post", "/api/v1/platform/edit/role", {"id": I, "role_name": S, "remark": S}, "json"),
    ("post", "/api/v1/platform/delete/role", {"role_name": S}, "json"),
    ("post", "/api/v1/platform/enable/role", {"role_name": S}, "json"),
    ("post", "/api/v1/platform/disable/role", {"role_name": S}, "json"),
    ("post", "/api/v1/platform/auth/role", {"role_name": S, "privilege": A}, "json"),
    ("post", "/api/v1/platform/inquire/auth", {"name": S, "name_type": I}, "json"),
    ("post", "/api/v1/platform/change/password", {"old_password": S, "new_password": S}, "json"),
    ("post", "/api/v1/platform/reset/password", {"user_name": S, "new_password": S}, "json"),
    ("post", "/api/v1/platform/list/role-user", {"role_name": S, "page_no": I, "page_size": I}, "json"),
    ("post", "/api/v1/platform/list/oper-log", {"page_no": I, "page_size": I, "oper_user": S, "oper_type": I, "start_time": S, "end_time": S}, "json"),
    # gateway (seed 002)
    ("post", "/api/v1/auth-code", {"user_name": S, "email": S}, "json"),
    ("post", "/api/v1/register", {"user_name": S, "password": S, "email": S, "reg_code": S}, "json"),
    ("post", "/api/v1/project/list", {"user_id": I, "page_no": I, "page_size": I}, "json"),
    ("post", "/api/v1/project/create", {"project_type": I, "project_name": S}, "json"),
    ("post", "/api/v1/project/delete", {"id": I}, "json"),
    ("post", "/rpc", {"jsonrpc": S, "method": S, "id": I}, "json"),
    # cloud (seed 000)
    ("get", "/api/v1/platform/ping", None, None),
    ("get", "/api/v1/platform/address", None, None),
    ("post", "/api/v1/user/register", {"username": S, "password": S}, "json"),
    ("post", "/api/v1/user/login", {"username": S, "password": S}, "json"),
    ("get", "/api/v1/user/list", None, None),
    # console (seed 001)
    ("post", "/casdao/api/v1.0/system/register/existence", {"username": S}, "form"),
    ("post", "/casdao/api/v1.0/system/register/sms/code", {"mobilePhone": S, "module": S, "origin": S, "departmentId": I}, "json"),
    ("post", "/casdao/api/v1.0/system/register/addition", {"roleId": I, "roleCategory": I, "username": S, "password": S, "confirmPassword": S, "mobilePhone": S, "code": S, "departmentId": I, "origin": S}, "json"),
    ("post", "/casdao/api/v1.0/system/user/addition", {"roleId": I, "roleCategory": I, "username": S, "password": S, "mobilePhone": S, "departmentId": I, "departmentName": S, "origin": S, "parentId": I, "clusterAccounts": A, "status": I, "notify": I, "module": S, "name": S, "telephone": S, "email": S, "organization": S, "duty": S, "enterprise": S}, "json"),
    ("post", "/casdao/api/v1.0/system/auth/login", {"username": S, "password": S, "source": S, "departmentId": I}, "json"),
    # IAM (seed 004)
    ("get", "/healthz", None, None),
    ("post", "/login", {"username": S, "password": S}, "json"),
    ("post", "/v1/users", {"metadata": {"name": S}, "nickname": S, "password": S, "email": S, "phone": S}, "json"),
    ("get", "/v1/users", "query:offset,limit,fieldSelector", None),
    ("delete", "/v1/users", "query:name", None),
    ("get", "/v1/users/{name}", None, None),
    ("put", "/v1/users/{name}", {"metadata": {"name": S}, "nickname": S, "email": S, "phone": S}, "json"),
    ("delete", "/v1/users/{name}", None, None),
    ("put", "/v1/users/{name}/change-password", {"oldPassword": S, "newPassword": S}, "json"),
    ("put", "/v1/users/{name}/change_password", {"oldPassword": S, "newPassword": S}, "json"),
    # operations
    ("get", "/metrics", None, None),
    ("get", "/readyz", None, None),
]


def schema_of(fields):
    props = {}
    for name, kind in fields.items():
        if isinstance(kind, dict):
            props[name] = schema_of(kind)
        elif kind == A:
            props[name] = {"type": "array", "items": {"type": "string"}}
        else:
            props[name] = {"type": kind}
    return {"type": "object", "properties": props}


def document():
    paths = {}
    for method, path, fields, content in ENDPOINTS:
        op = {
            "operationId": f"{method}_{re.sub('[^a-zA-Z0-9]+', '_', path).strip('_')}",
            "responses": {"default": {"description": "the surface's envelope"}},
        }
        params = []
        for name in re.findall(r"{(\w+)}", path):
            params.append({"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}})
        if isinstance(fields, str) and fields.startswith("query:"):
            for name in fields[len("query:"):].split(","):
                params.append({"name": name, "in": "query", "schema": {"type": "string"}})
        elif fields is not None:
            media = "application/json" if content == "json" else "application/x-www-form-urlencoded"
            op["requestBody"] = {"required": True, "content": {media: {"schema": schema_of(fields)}}}
        if params:
            op["parameters"] = params
        paths.setdefault(path, {})[method] = op
    return {
        "openapi": "3.0.3",
        "info": {"title": "example-server (hand-checked endpoint list)", "version": "1"},
        "paths": paths,
    }


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
    with open(spec, "w") as f:
        json.dump(document(), f, indent=1)
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
