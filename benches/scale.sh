#!/usr/bin/env bash
# The scale bench: the release server grown to 10,000, 100,000 and 1,000,000 users through
# `import-users` on SQLite and PostgreSQL (and MariaDB with BACKENDS="sqlite postgres mysql"),
# with 1,000,000 audit entries and 100,000 sessions seeded in the store, measured over
# loopback by benches/scale.py. Prints Markdown tables and writes benches/scale.svg (page
# latency against store size). Bounded: each backend stops after TIME_LIMIT seconds
# (default 1200); the databases it creates are dropped on exit.
#
# The imported users carry bcrypt hashes (cost 4, from Python's crypt; HASH=argon2 imports
# the admin's argon2 hash instead), so each user's first login verifies bcrypt and rehashes.
#
#   SIZES=10000,100000,1000000 SESSIONS=100000 AUDIT=1000000 BACKENDS="sqlite postgres" \
#     benches/scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-10000,100000,1000000}
SESSIONS=${SESSIONS:-100000}
AUDIT=${AUDIT:-1000000}
BACKENDS=${BACKENDS:-sqlite postgres}
TIME_LIMIT=${TIME_LIMIT:-1200}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
MY_URL=${MY_URL:-mysql://root@127.0.0.1:3306}

cargo build --release -p example-server >&2
work=$(mktemp -d)
name="rbac_scale_$$"
cleanup() {
  case " $BACKENDS " in *" postgres "*) psql -q "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS $name" >/dev/null 2>&1 || true ;; esac
  case " $BACKENDS " in *" mysql "*) mysql -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS $name" >/dev/null 2>&1 || true ;; esac
  rm -rf "$work"
}
trap cleanup EXIT

results=()
for backend in $BACKENDS; do
  case $backend in
    sqlite) db="sqlite://$work/scale.db" ;;
    postgres) psql -q "$PG_URL/postgres" -c "CREATE DATABASE $name" >/dev/null; db="$PG_URL/$name" ;;
    mysql) mysql -h 127.0.0.1 -u root -e "CREATE DATABASE $name" >/dev/null; db="$MY_URL/$name" ;;
    *) echo "FAIL: unknown backend $backend" >&2; exit 1 ;;
  esac
  timeout "$TIME_LIMIT" python3 benches/scale.py --backend "$backend" --database "$db" \
    --binary target/release/example-server --sizes "$SIZES" --sessions "$SESSIONS" \
    --audit "$AUDIT" --hash "${HASH:-bcrypt}" --out "$work/$backend.json"
  cp "$work/$backend.json" "target/scale-$backend.json"
  results+=("target/scale-$backend.json")
done
SCALE_SVG=benches/scale.svg python3 benches/scale.py report "${results[@]}"
