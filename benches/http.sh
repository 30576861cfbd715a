#!/usr/bin/env bash
# HTTP load on loopback against the release server on a temporary SQLite database.
#
#   (a) GET /bench/checked/users/1  (RbacLayer: Bearer JWT, UserAccess)
#   (b) GET /bench/open/users/1     (the same handler, no layer)
#   (c) GET /api/v1/platform/ping
#   (d) (a) again while 50 clients log in continuously (argon2 at OWASP cost)
#
# Prints requests/s, p50 and p99 for each, the a/b ratio (target >= 0.85) and (d)'s p99
# (target < 50 ms), as a Markdown table. Uses wrk (installed from Debian's packages if
# missing). Bounded: DURATION per run (default 10s); the server is stopped on exit.
#
# A/B in one sitting: `BASELINE=path/to/old/example-server benches/http.sh` runs (a), (b)
# and (c) against the baseline binary and this build in turn, ROUNDS times (default 2), each
# on a fresh database, and prints every round and this build's share of the baseline's
# throughput (the median of the rounds). CANDIDATE=path skips the build and measures that
# binary instead of this checkout's release build.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
PASSWORD="bench-Admin-pw-1"

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk from Debian's packages" >&2
  (apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }) \
    || { echo "FAIL: wrk is not installed and could not be installed" >&2; exit 1; }
fi

CANDIDATE=${CANDIDATE:-}
if [ -z "$CANDIDATE" ]; then
  cargo build --release -p example-server >&2
  CANDIDATE=./target/release/example-server
fi
BASELINE=${BASELINE:-}
ROUNDS=${ROUNDS:-2}
for bin in "$CANDIDATE" ${BASELINE:+"$BASELINE"}; do
  [ -x "$bin" ] || { echo "FAIL: $bin is not an executable" >&2; exit 1; }
done
work=$(mktemp -d)
server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  server_pid=""
}
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT

# start_server BIN: runs BIN on a fresh SQLite database; sets base and token.
start_server() {
  local db
  db=$(mktemp -d -p "$work")
  "$1" --listen 127.0.0.1:0 --database "sqlite://$db/bench.db" \
    --admin-password "$PASSWORD" --bench-routes >"$db/out" 2>"$db/err" &
  server_pid=$!
  base=""
  for _ in $(seq 1 100); do
    base=$(sed -n 's/^listening on \(http:[^ ]*\)$/\1/p' "$db/out" | head -n1)
    [ -n "$base" ] && break
    sleep 0.1
  done
  [ -n "$base" ] || { echo "FAIL: $1 did not start" >&2; cat "$db/err" >&2; exit 1; }
  token=$(curl -fsS -H 'Content-Type: application/json' \
    -d "{\"name\":\"admin\",\"password\":\"$PASSWORD\"}" "$base/api/v1/login" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["auth_token"])')
}

cat >"$work/login.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"name":"admin","password":"$PASSWORD"}'
wrk.headers["Content-Type"] = "application/json"
EOF

# run NAME URL [wrk args...]: prints "rps p50_ms p99_ms"
run() {
  local name=$1 url=$2; shift 2
  wrk --latency -d "$DURATION" -c "$CONNECTIONS" -t "$THREADS" "$@" "$url" >"$work/$name.txt"
  python3 - "$work/$name.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(label):
    m = re.search(r"^\s*%s\s+([\d.]+)(us|ms|s)\s*$" % re.escape(label), text, re.M)
    if not m:
        return float("nan")
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
if non2xx:
    sys.exit("unexpected non-2xx answers: %s\n%s" % (non2xx.group(1), text))
print("%.0f %.3f %.3f" % (rps, ms("50%"), ms("99%")))
PY
}

if [ -n "$BASELINE" ]; then
  echo "| round | binary | (a) checked read req/s | (b) open read req/s | (c) ping req/s |"
  echo "|---|---|---|---|---|"
  : >"$work/ab"
  for round in $(seq 1 "$ROUNDS"); do
    for who in baseline candidate; do
      bin=$CANDIDATE
      [ "$who" = baseline ] && bin=$BASELINE
      start_server "$bin"
      auth=(-H "Authorization: Bearer $token")
      read -r a_rps _ _ < <(run checked "$base/bench/checked/users/1" "${auth[@]}")
      read -r b_rps _ _ < <(run open "$base/bench/open/users/1")
      read -r c_rps _ _ < <(run ping "$base/api/v1/platform/ping")
      stop_server
      echo "| $round | $who | $a_rps | $b_rps | $c_rps |"
      echo "$who $a_rps $b_rps $c_rps" >>"$work/ab"
    done
  done
  python3 - "$work/ab" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
def median(who, i):
    return statistics.median(float(r[i]) for r in rows if r[0] == who)
names = ["(a) checked read", "(b) open read", "(c) ping"]
print()
print("candidate / baseline (medians of the rounds): " + ", ".join(
    "%s %.2f" % (name, median("candidate", i + 1) / median("baseline", i + 1))
    for i, name in enumerate(names)))
PY
  echo "wrk: $CONNECTIONS connections, $THREADS thread(s), $DURATION per run, on $(nproc) cores."
  exit 0
fi

start_server "$CANDIDATE"
auth=(-H "Authorization: Bearer $token")
read -r a_rps a_p50 a_p99 < <(run checked "$base/bench/checked/users/1" "${auth[@]}")
read -r b_rps b_p50 b_p99 < <(run open "$base/bench/open/users/1")
read -r c_rps c_p50 c_p99 < <(run ping "$base/api/v1/platform/ping")

# (d): 50 clients logging in for the whole run, beside the checked read load.
wrk -d "$DURATION" -c 50 -t 1 -s "$work/login.lua" "$base/api/v1/login" >"$work/logins.txt" &
logins_pid=$!
read -r d_rps d_p50 d_p99 < <(run checked_under_logins "$base/bench/checked/users/1" "${auth[@]}")
wait "$logins_pid"
login_rps=$(sed -n 's/^Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p' "$work/logins.txt")

ratio=$(python3 -c "print('%.3f' % ($a_rps / $b_rps))")
cat <<EOF
| run | requests/s | p50 (ms) | p99 (ms) |
|---|---|---|---|
| (a) checked read (layer + JWT + UserAccess) | $a_rps | $a_p50 | $a_p99 |
| (b) same handler, no layer | $b_rps | $b_p50 | $b_p99 |
| (c) ping | $c_rps | $c_p50 | $c_p99 |
| (d) checked read while 50 clients log in ($login_rps logins/s) | $d_rps | $d_p50 | $d_p99 |

a/b = $ratio (target >= 0.85); (d) p99 = $d_p99 ms (target < 50 ms).
wrk: $CONNECTIONS connections, $THREADS thread(s), $DURATION per run, on $(nproc) cores.
EOF
