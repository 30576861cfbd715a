#!/usr/bin/env python3
"""One backend of the scale bench (run by benches/scale.sh): the release server on a fresh
database grown through `import-users` to each size, then measured over loopback.

At every size: the import rate, and p50 of the first, middle and last page of
`list/user` (20 rows), of a name-filtered page, and of IAM's newest-first first and last
page. At the largest: login p50/p99, the operation log's first page over AUDIT entries
(seeded directly in the store), the resident set before, during (peak) and after listing
every user with the time to the first row, and the resident set once SESSIONS sessions
(seeded directly in the store, each then used once) are active. Writes JSON to --out.
"""

import argparse
import base64
import concurrent.futures
import hashlib
import hmac
import http.client
import json
import os
import pathlib
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

PASSWORD = "Scale-bench-admin-1"
SECRET = "scale-bench-jwt-secret-scale-bench-jwt-secret"
PAGE = 20


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Server:
    def __init__(self, binary, database, extra):
        self.binary, self.database = binary, database
        self.out = tempfile.NamedTemporaryFile("w+", suffix=".out")
        self.proc = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--database", database,
             "--admin-password", PASSWORD, "--jwt-secret", SECRET, *extra],
            stdout=self.out, stderr=subprocess.DEVNULL)
        for _ in range(600):
            self.out.seek(0)
            for line in self.out:
                if line.startswith("listening on http://"):
                    url = urllib.parse.urlparse(line.split()[-1])
                    self.host, self.port = url.hostname, url.port
                    return
            if self.proc.poll() is not None:
                raise SystemExit(f"FAIL: the server exited ({self.proc.returncode})")
            time.sleep(0.1)
        raise SystemExit("FAIL: the server did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)

    def conn(self):
        return http.client.HTTPConnection(self.host, self.port, timeout=600)

    def rss_kib(self, field="VmRSS"):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def reset_peak(self):
        with open(f"/proc/{self.proc.pid}/clear_refs", "w") as f:
            f.write("5")


def request(conn, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    h = {"Content-Type": "application/json", **(headers or {})}
    for attempt in range(2):
        start = time.perf_counter()
        try:
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            payload = resp.read()
            return resp.status, payload, time.perf_counter() - start
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # The server closed an idle keep-alive connection (during a long import).
            conn.close()
            if attempt:
                raise


def p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] * 1000


def timed(conn, method, path, body, headers, n=30):
    times = []
    for _ in range(n):
        status, payload, took = request(conn, method, path, body, headers)
        if status != 200:
            raise SystemExit(f"FAIL: {path} answered {status}: {payload[:200]!r}")
        times.append(took)
    return statistics.median(times) * 1000, payload


def cli(binary, database, *args):
    start = time.perf_counter()
    out = subprocess.run([binary, "--database", database, *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(args)}: {out.stderr[-2000:]}")
    return out, time.perf_counter() - start


def sql(backend, database, statements):
    """Runs SQL with the backend's command-line client."""
    if backend == "sqlite":
        cmd = ["sqlite3", urllib.parse.urlparse(database).path]
    elif backend == "postgres":
        cmd = ["psql", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", database]
    else:
        u = urllib.parse.urlparse(database)
        cmd = ["mysql", "-h", u.hostname, "-P", str(u.port or 3306), "-u", u.username or "root",
               u.path.lstrip("/")]
    out = subprocess.run(cmd, input=statements, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"FAIL: sql: {out.stderr[-2000:]}")
    return out.stdout


def seed_audit(backend, database, n):
    now = int(time.time())
    if backend == "postgres":
        rows = (f"INSERT INTO rbac_audit (user_id, user_name, category, time, content, success) "
                f"SELECT NULL, 'seed' || (g % 1000), 1 + g % 5, {now} - {n} + g, "
                f"'seeded entry ' || g, TRUE FROM generate_series(1, {n}) g;")
    else:
        depth = "SET SESSION max_recursive_iterations = 100000000;\n" if backend == "mysql" else ""
        rows = (f"{depth}INSERT INTO rbac_audit (user_id, user_name, category, time, content, success) "
                f"WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < {n}) "
                f"SELECT NULL, CONCAT('seed', x % 1000), 1 + x % 5, {now} - {n} + x, "
                f"CONCAT('seeded entry ', x), TRUE FROM g;")
        if backend == "sqlite":
            rows = rows.replace("CONCAT('seed', x % 1000)", "'seed' || (x % 1000)")
            rows = rows.replace("CONCAT('seeded entry ', x)", "'seeded entry ' || x")
    sql(backend, database, rows + f"\nUPDATE rbac_counters SET amount = amount + {n} "
        "WHERE name = 'audit' AND shard = 0;\n")


def seed_sessions(backend, database, user_ids, now):
    values = []
    sids = []
    for uid in user_ids:
        sid = secrets.token_hex(16)
        sids.append((uid, sid))
        values.append(f"('{sid}', {uid}, 1, {now}, {now + 86400}, {now}, FALSE, '127.0.0.1')")
    head = ("INSERT INTO rbac_sessions (id, user_id, kind, issued_at, expires_at, last_seen, "
            "revoked, ip) VALUES ")
    statements = []
    for i in range(0, len(values), 1000):
        statements.append(head + ", ".join(values[i:i + 1000]) + ";")
    sql(backend, database, "BEGIN;\n" + "\n".join(statements) + "\nCOMMIT;\n")
    return sids


def bcrypt_hash(password):
    """A bcrypt hash (cost 4) from the C library's crypt, as another system would hand over;
    `None` where it has no bcrypt."""
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import crypt
        h = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))
        return h if h and h.startswith("$2") else None
    except (ImportError, AttributeError, OSError):
        return None


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(kid, uid, sid, now):
    header = b64(json.dumps({"typ": "JWT", "alg": "HS256", "kid": kid}).encode())
    claims = b64(json.dumps({"sub": str(uid), "sid": sid, "name": "", "iat": now, "nbf": now - 5,
                             "exp": now + 3600}).encode())
    sig = hmac.new(SECRET.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{b64(sig)}"


def report(files, svg):
    """Markdown tables of the runs' JSON, and an SVG plot of page latency against size."""
    runs = [json.loads(pathlib.Path(f).read_text()) for f in files]
    print("| backend | users | import (users/s) | first page | middle page | last page "
          "| name filter | IAM first | IAM last |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        for lv in r["levels"]:
            print(f"| {r['backend']} | {lv['users']:,} | {lv['import_per_s']:,} "
                  f"| {lv['first_page_ms']:.2f} ms | {lv['middle_page_ms']:.2f} ms "
                  f"| {lv['last_page_ms']:.2f} ms | {lv['name_filtered_ms']:.2f} ms "
                  f"| {lv['iam_first_page_ms']:.2f} ms | {lv['iam_last_page_ms']:.2f} ms |")
    print()
    print("| backend | login p50 / p99 | oper-log page (total) | oper-log by user | RSS before / peak "
          "during / after listing all | first row, all in | RSS before / with sessions |")
    print("|---|---|---|---|---|---|---|")
    mb = lambda k: f"{k / 1024:.0f} MB"
    for r in runs:
        print(f"| {r['backend']} | {r['login_p50_ms']:.0f} / {r['login_p99_ms']:.0f} ms "
              f"| {r['oper_log_first_page_ms']:.2f} ms ({r['oper_log_total']:,}) "
              f"| {r['oper_log_user_page_ms']:.2f} ms "
              f"| {mb(r['rss_before_all_kib'])} / {mb(r['rss_peak_during_all_kib'])} / "
              f"{mb(r['rss_after_all_kib'])} | {r['all_first_row_ms']:.0f} ms, {r['all_s']:.1f} s "
              f"({r['all_bytes'] / 1e6:.0f} MB) | {mb(r['rss_before_sessions_kib'])} / "
              f"{mb(r['rss_with_sessions_kib'])} ({r['sessions_used']:,}) |")
    if svg:
        pathlib.Path(svg).write_text(plot(runs))


def plot(runs):
    """Page latency (p50, ms) against users (log scale), one line per backend and page."""
    import math
    w, h, left, bottom, top, right = 720, 420, 60, 50, 30, 200
    series = []
    for r in runs:
        for key, label in [("first_page_ms", "first"), ("middle_page_ms", "middle"),
                           ("last_page_ms", "last"), ("name_filtered_ms", "name filter")]:
            series.append((f"{r['backend']} {label}", [(lv["users"], lv[key]) for lv in r["levels"]]))
    xs = [x for _, pts in series for x, _ in pts]
    ys = [y for _, pts in series for _, y in pts]
    x0, x1 = math.log10(min(xs)), math.log10(max(xs))
    y1 = max(ys) * 1.1 or 1
    sx = lambda x: left + (math.log10(x) - x0) / ((x1 - x0) or 1) * (w - left - right)
    sy = lambda y: h - bottom - y / y1 * (h - bottom - top)
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
               "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{left}" y="18">list/user page p50 (ms) against users in the store</text>',
           f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" stroke="black"/>']
    for x in sorted(set(xs)):
        out.append(f'<text x="{sx(x):.0f}" y="{h - bottom + 18}" text-anchor="middle">{x:,}</text>')
    for i in range(6):
        y = y1 * i / 5
        out.append(f'<text x="{left - 6}" y="{sy(y) + 4:.0f}" text-anchor="end">{y:.1f}</text>')
        out.append(f'<line x1="{left}" y1="{sy(y):.0f}" x2="{w - right}" y2="{sy(y):.0f}" stroke="#ddd"/>')
    for i, (label, pts) in enumerate(series):
        c = colours[i % len(colours)]
        dash = ' stroke-dasharray="5,3"' if "postgres" in label else ""
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{c}" stroke-width="2"{dash}/>')
        ly = top + 16 * i
        out.append(f'<line x1="{w - right + 10}" y1="{ly}" x2="{w - right + 30}" y2="{ly}" '
                   f'stroke="{c}" stroke-width="2"{dash}/>')
        out.append(f'<text x="{w - right + 36}" y="{ly + 4}">{label}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "report":
        svg = os.environ.get("SCALE_SVG")
        report(sys.argv[2:], svg)
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", required=True, choices=["sqlite", "postgres", "mysql"])
    ap.add_argument("--database", required=True)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--sessions", type=int, default=100_000)
    ap.add_argument("--audit", type=int, default=1_000_000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--hash", choices=["bcrypt", "argon2"], default="argon2",
                    help="the imported users' password hashes (logins rehash bcrypt once)")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    result = {"backend": a.backend, "levels": []}

    srv = Server(a.binary, a.database, [])
    try:
        measure(a, sizes, srv, result)
    finally:
        if srv.proc.poll() is None:
            srv.stop()
    pathlib.Path(a.out).write_text(json.dumps(result, indent=2))
    log(f"{a.backend}: done")


def measure(a, sizes, srv, result):
    """Grows the store through the sizes and measures; fills `result`."""
    conn = srv.conn()
    status, body, _ = request(conn, "POST", "/api/v1/login", {"name": "admin", "password": PASSWORD})
    token = json.loads(body)["data"]["auth_token"]
    kid = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["kid"]
    auth = {"Auth-Token": token}
    status, body, _ = request(conn, "POST", "/login", {"username": "admin", "password": PASSWORD})
    bearer = {"Authorization": "Bearer " + json.loads(body)["token"]}
    user_hash = bcrypt_hash(PASSWORD) if a.hash == "bcrypt" else None
    if user_hash is None:
        # The admin's own argon2 hash, read back through export-users.
        exported, _ = cli(a.binary, a.database, "export-users", "--with-hashes")
        user_hash = next(u["password_hash"] for u in json.loads(exported.stdout)
                         if u["name"] == "admin")
    result["hash"] = user_hash.split("$")[1]
    result["rss_start_kib"] = srv.rss_kib()

    have = 0
    work = pathlib.Path(tempfile.mkdtemp())
    for size in sizes:
        todo = size - have
        csv = work / f"users-{size}.csv"
        with open(csv, "w") as f:
            f.write("name,password_hash,email,phone,alias,role,enabled\n")
            for i in range(have, size):
                f.write(f"scale-u{i},\"{user_hash}\",scale-u{i}@example.com,,user {i},,true\n")
        log(f"{a.backend}: importing {todo} users (to {size})")
        _, took = cli(a.binary, a.database, "import-users", str(csv))
        csv.unlink()
        have = size
        level = {"users": size, "imported": todo, "import_s": round(took, 2),
                 "import_per_s": round(todo / took)}
        total = size + 1
        last = (total - 1) // PAGE
        path = "/api/v1/platform/list/user"
        level["first_page_ms"], _ = timed(conn, "POST", path, {"page_no": 0, "page_size": PAGE}, auth)
        level["middle_page_ms"], _ = timed(conn, "POST", path, {"page_no": last // 2, "page_size": PAGE}, auth)
        level["last_page_ms"], payload = timed(conn, "POST", path, {"page_no": last, "page_size": PAGE}, auth)
        got = json.loads(payload)
        assert got["header"]["total"] == total, got["header"]
        assert got["header"]["count"] == total - last * PAGE, got["header"]
        level["name_filtered_ms"], payload = timed(
            conn, "POST", path, {"name": f"u{size // 2 + 7}", "page_size": PAGE}, auth)
        level["iam_first_page_ms"], _ = timed(conn, "GET", f"/v1/users?limit={PAGE}", None, bearer)
        level["iam_last_page_ms"], _ = timed(
            conn, "GET", f"/v1/users?offset={total - PAGE}&limit={PAGE}", None, bearer)
        log(f"{a.backend}: {level}")
        result["levels"].append(level)

    # Logins of imported users (argon2 at the server's cost).
    times = []
    for i in range(0, have, max(1, have // 60))[:60]:
        status, body, took = request(conn, "POST", "/api/v1/login",
                                     {"name": f"scale-u{i}", "password": PASSWORD})
        assert status == 200 and json.loads(body)["header"]["code"] == 0, body[:200]
        times.append(took)
    result["login_p50_ms"], result["login_p99_ms"] = p(times, 0.5), p(times, 0.99)

    # The operation log over AUDIT more entries.
    log(f"{a.backend}: seeding {a.audit} audit entries")
    seed_audit(a.backend, a.database, a.audit)
    ms, payload = timed(conn, "POST", "/api/v1/platform/list/oper-log", {"page_no": 0, "page_size": PAGE}, auth)
    result["oper_log_first_page_ms"] = ms
    result["oper_log_total"] = json.loads(payload)["header"]["total"]
    ms, _ = timed(conn, "POST", "/api/v1/platform/list/oper-log",
                  {"page_no": 0, "page_size": PAGE, "oper_user": "seed7"}, auth)
    result["oper_log_user_page_ms"] = ms

    # Every user at once: the resident set before, at its peak during, and after.
    log(f"{a.backend}: listing all {have + 1} users")
    result["rss_before_all_kib"] = srv.rss_kib()
    srv.reset_peak()
    data = json.dumps({"page_no": 0, "page_size": 0}).encode()
    conn.close()
    start = time.perf_counter()
    conn.request("POST", "/api/v1/platform/list/user", body=data,
                 headers={"Content-Type": "application/json", **auth})
    resp = conn.getresponse()
    first = resp.read1(65536) if hasattr(resp, "read1") else resp.read(65536)
    while b'"user_id"' not in first:
        first += resp.read1(65536)
    result["all_first_row_ms"] = (time.perf_counter() - start) * 1000
    size = len(first)
    while chunk := resp.read1(1 << 20):
        size += len(chunk)
    result["all_s"] = time.perf_counter() - start
    result["all_bytes"] = size
    result["rss_peak_during_all_kib"] = srv.rss_kib("VmHWM")
    time.sleep(1)
    result["rss_after_all_kib"] = srv.rss_kib()

    # SESSIONS sessions, seeded in the store, each used once.
    n = min(a.sessions, have)
    log(f"{a.backend}: seeding and using {n} sessions")
    now = int(time.time())
    ids = [int(x) for x in sql(a.backend, a.database,
                               f"SELECT id FROM rbac_users ORDER BY id LIMIT {n};").split()
           if x.strip().isdigit()][:n]
    sids = seed_sessions(a.backend, a.database, ids, now)
    result["rss_before_sessions_kib"] = srv.rss_kib()
    lock = threading.Lock()
    failures = []

    def use(part):
        c = srv.conn()
        for uid, sid in part:
            status, body, _ = request(c, "GET", "/api/v1/user/list", None,
                                      {"token": jwt(kid, uid, sid, now)})
            if status != 200:
                with lock:
                    failures.append((status, body[:200]))
    parts = [sids[i::4] for i in range(4)]
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(use, parts))
    result["sessions_used"] = len(sids)
    result["sessions_s"] = round(time.perf_counter() - start, 1)
    if failures:
        raise SystemExit(f"FAIL: {len(failures)} session requests failed, e.g. {failures[0]}")
    result["rss_with_sessions_kib"] = srv.rss_kib()


if __name__ == "__main__":
    main()
