#!/usr/bin/env python3
"""Screenshots of the admin console for the README, through the same Chromium the tests use.

Starts the built server (target/debug/example-server) on a throw-away SQLite database,
seeds a few roles, users and logins through the API, signs in through chromedriver, and
writes overview.png, users.png and roles.png beside this script. Standard library only.

    cargo build -p example-server && python3 example-server/docs/screenshots.py
"""

import base64
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BINARY = os.path.join(ROOT, "target", "debug", "example-server")
PASSWORD = "Console-shots-1"


def call(method, url, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"null")


def start_server(tmp):
    db = f"sqlite://{tmp}/rbac.db?mode=rwc"
    proc = subprocess.Popen(
        [BINARY, "--database", db, "--listen", "127.0.0.1:0", "--admin-password", PASSWORD,
         "--trusted-proxy", "127.0.0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    for line in proc.stdout:
        m = re.search(r"listening on (http://\S+)", line)
        if m:
            return proc, m.group(1).replace("127.0.0.1", "localhost")
    sys.exit("the server did not start")


def ok(answer, what):
    if answer["header"]["code"] != 0:
        sys.exit(f"{what}: {answer}")
    return answer


def seed(base):
    api = base + "/api/v1/"
    token = call("POST", api + "login", {"name": "admin", "password": PASSWORD})["data"]["auth_token"]
    auth = {"Auth-Token": token}
    roles = {
        "support": ["UserAccess", "RoleAccess"],
        "user-admin": ["UserAccess", "UserAdd", "UserEdit", "UserEnableOrDisable"],
        "auditor": ["UserAccess", "RoleAccess"],
    }
    for name, privileges in roles.items():
        ok(call("POST", api + "platform/create/role", {"role_name": name, "remark": f"{name} desk"},
                auth), "create role")
        ok(call("POST", api + "platform/auth/role", {"role_name": name, "privilege": privileges},
                auth), "grant")
    people = ["wang.fang", "li.na", "zhang.wei", "chen.jing", "liu.yang", "ann.lee", "omar.haddad"]
    for i, person in enumerate(people):
        role = list(roles)[i % len(roles)]
        ok(call("POST", api + "platform/create/user",
                {"user_name": person, "password": PASSWORD, "role_name": role,
                 "user_alias": person.title(), "phone_number": f"1380013{i:04d}"}, auth),
           "create user")
    rng = random.Random(7)
    for _ in range(40):
        who = rng.choice(people)
        good = rng.random() < 0.8
        # From addresses of their own (behind the trusted proxy): the failures throttle
        # those, not the browser signing in below.
        address = f"203.0.113.{rng.randrange(1, 250)}"
        try:
            call("POST", api + "login", {"name": who, "password": PASSWORD if good else "wrong"},
                 {"X-Forwarded-For": address})
        except OSError:
            pass


class Driver:
    def __init__(self):
        self.port = 9515 + random.randrange(1000)
        self.proc = subprocess.Popen(["chromedriver", f"--port={self.port}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(100):
            try:
                call("GET", self.url + "/status")
                break
            except OSError:
                time.sleep(0.1)
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,1000"]}}}}
        self.session = call("POST", self.url + "/session", caps)["value"]["sessionId"]
        self.base = f"{self.url}/session/{self.session}"

    def go(self, url):
        call("POST", self.base + "/url", {"url": url})

    def fill(self, css, text):
        el = call("POST", self.base + "/element", {"using": "css selector", "value": css})["value"]
        el_id = list(el.values())[0]
        call("POST", f"{self.base}/element/{el_id}/value", {"text": text})

    def click(self, css):
        el = call("POST", self.base + "/element", {"using": "css selector", "value": css})["value"]
        el_id = list(el.values())[0]
        call("POST", f"{self.base}/element/{el_id}/click", {})
        time.sleep(0.5)

    def shot(self, name):
        png = call("GET", self.base + "/screenshot")["value"]
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(base64.b64decode(png))
        print("wrote", os.path.join("example-server", "docs", name))

    def quit(self):
        try:
            call("DELETE", self.base)
        finally:
            self.proc.kill()


def main():
    if not os.path.exists(BINARY):
        sys.exit("build it first: cargo build -p example-server")
    with tempfile.TemporaryDirectory() as tmp:
        server, base = start_server(tmp)
        driver = None
        try:
            seed(base)
            driver = Driver()
            driver.go(base + "/admin/login")
            driver.fill("#name", "admin")
            driver.fill("#password", PASSWORD)
            driver.click("form[action='/admin/login'] button[type=submit]")
            if not call("GET", driver.base + "/url")["value"].endswith("/admin"):
                sys.exit("signing in through the console failed")
            driver.go(base + "/admin")
            driver.shot("overview.png")
            driver.go(base + "/admin/users")
            driver.shot("users.png")
            driver.go(base + "/admin/roles")
            driver.shot("roles.png")
        finally:
            if driver:
                driver.quit()
            server.kill()


if __name__ == "__main__":
    main()
