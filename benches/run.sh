#!/usr/bin/env bash
# Plenary benchmarks: throughput and latency of the release binary under wrk, side by side with
# pgbench running the same SQL on the same database, at 1 / 16 / 64 connections; public reads
# side by side: the ceiling (GET /health/live), attendance from the cache, uncached
# (PLENARY_CACHE_BYTES=0), and through a streaming read replica (DATABASE_READ_URL); scaling
# over 1 000 / 10 000 / 100 000 conferences; results in benches/RESULTS.md. See README
# "Benchmarks".
#
#   benches/run.sh [--quick] [--no-build] [--sizes "1000 10000 100000"] [--out FILE]
#                  [--focus public-reads|overload|notify|check-in]
#
# --quick     5 s per scenario after a 1 s warm-up, scaling over 1 000 and 10 000 only
# --no-build  use target/release/plenary as it is
# --sizes     conference counts of the scaling part (the main data set is always 10 000)
# --out       where to write the report (default benches/RESULTS.md)
# --focus public-reads
#             only the main data set's public-read table: ceiling, cached / uncached / replica
#             attendance (A), pgbench on A's SQL, writes (D), and the pool-size runs of A and D
#             (no B, C, logins, EXPLAIN or scaling)
# --focus overload
#             only the ceiling, cached attendance (A) and writes (D) at 64 connections, and the
#             overload scenario: 256 connections for BENCH_OVERLOAD_SECONDS (30) on cached
#             attendance of random published conferences while a writer adds
#             BENCH_OVERLOAD_WRITES delegations a second (20), once as it is and once with the
#             revisions table locked for 3 s in the middle (what a migration takes)
# --focus notify
#             writes (D) at 16 and 64 connections (twice; with BENCH_BIN_BEFORE, an older
#             binary, also with it, alternating) and pgbench on D's statements beside them,
#             then the outbox sender's throughput:
#             BENCH_NOTIFY_MESSAGES (2000) e-mails queued as outbox rows in SQL (the sender
#             alone) and as many invitations through the API (writes and sender), each timed
#             until every message is sent, to a local SMTP server (aiosmtpd from .venv-ci,
#             tests/api/py/smtp_sink.py) and with the file transport (no PLENARY_SMTP_URL);
#             first, as many webhook deliveries to a local receiver, to 1 webhook and to 16
#             (BENCH_NOTIFY_ONLY=webhooks: only those; BENCH_NOTIFY_ONLY=writes: only the writes,
#             this binary beside BENCH_BIN_BEFORE)
# --focus check-in
#             the meeting day: the ceiling at 16 connections, then on a conference of
#             BENCH_CHECKIN_MEMBERS (1000) accepted members (benches/checkin.py): badges.html of
#             all of them timed 5 times (the first issues every badge), and check-in staff's
#             scans at 16 connections: one scan a request (single) and BENCH_CHECKIN_BATCH (50)
#             a request (an offline queue), every nonce new, so every scan is recorded
#
# Environment: BENCH_PORT (HTTP port, default 18600), BENCH_DATA_DIR (folder of the private
# PostgreSQL cluster, default /tmp/plenary-bench; it is deleted and made anew),
# BENCH_DURATION / BENCH_WARMUP / BENCH_SCALE_DURATION (seconds), BENCH_CONNECTIONS,
# BENCH_POOL_ALT (the second pool size measured at 64 connections, default 16),
# BENCH_REPLICA_PORT (port of the streaming replica's socket, default 5433),
# BENCH_CACHE_ALL_MIB (a cache bound that holds every attendance of the main data set, for
# the row "cache holding all"; default 128),
# BENCH_KEEP=1 (keep the cluster and its 10 000-conference database afterwards), BENCH_BIN
# (benchmark this plenary binary instead of building target/release/plenary, e.g. an older
# build for a before/after comparison), BENCH_KEEP_LOGS=1 (keep the server's log of each
# database next to the report, as <report>.server_<db>.log). The work folder is made in
# TMPDIR (default /tmp).
#
# Database: a private PostgreSQL cluster (Plenary's embedded one: `plenary migrate` with
# PLENARY_DATA_DIR initialises it; this script then keeps it running with pg_ctl), one fresh
# database per data set, reached over its Unix socket by Plenary, psql and pgbench alike.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/benches
QUICK=0
BUILD=1
OUT=$BENCH/RESULTS.md
SIZES=""
FOCUS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --no-build) BUILD=0 ;;
    --sizes) SIZES=$2; shift ;;
    --out) OUT=$2; shift ;;
    --focus) FOCUS=$2; shift ;;
    -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
case "$FOCUS" in ""|public-reads|overload|notify|check-in) ;; *) echo "unknown --focus $FOCUS" >&2; exit 2 ;; esac
if [ "$QUICK" = 1 ]; then
  DURATION=${BENCH_DURATION:-5}; WARMUP=${BENCH_WARMUP:-1}; SCALE_DURATION=${BENCH_SCALE_DURATION:-5}
  SIZES=${SIZES:-"1000 10000"}
else
  DURATION=${BENCH_DURATION:-20}; WARMUP=${BENCH_WARMUP:-5}; SCALE_DURATION=${BENCH_SCALE_DURATION:-10}
  SIZES=${SIZES:-"1000 10000 100000"}
fi
CONNECTIONS=${BENCH_CONNECTIONS:-"1 16 64"}
MAIN_SIZE=10000
PORT=${BENCH_PORT:-18600}
DATA_DIR=${BENCH_DATA_DIR:-/tmp/plenary-bench}
OWNER_EMAIL=bench@plenary.example
OWNER_PASSWORD=benchmark-password-$RANDOM$RANDOM
WORK=$(mktemp -d "${TMPDIR:-/tmp}/plenary-bench-work.XXXXXX")
RESULTS=$WORK/results.jsonl
BIN=${BENCH_BIN:-$ROOT/target/release/plenary}
[ -z "${BENCH_BIN:-}" ] || BUILD=0
BASE=http://127.0.0.1:$PORT
SERVER_PID=""
READ_URL=""
export BENCH_LUA_DIR=$BENCH/wrk

log() { printf '\n== %s  %s\n' "$(date +%T)" "$*" >&2; }
die() { echo "run.sh: $*" >&2; exit 1; }

# --- tools --------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  log "installing wrk"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    die "wrk is missing: apt-get install wrk"
  fi
fi
PG_BIN=$(pg_config --bindir 2>/dev/null || true)
[ -x "$PG_BIN/pg_ctl" ] || PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PG_BIN/pg_ctl" ] || die "PostgreSQL server binaries not found"
command -v python3 >/dev/null || die "python3 is needed for the report"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# --- build --------------------------------------------------------------------------------
if [ "$BUILD" = 1 ]; then
  log "building the release binary"
  (cd "$ROOT" && cargo build --release --locked --bin plenary)
fi
[ -x "$BIN" ] || die "$BIN missing (run without --no-build)"
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)
[ -z "${BENCH_BIN:-}" ] || DIRTY="$DIRTY; binary $BENCH_BIN"

# --- database cluster ---------------------------------------------------------------------
SOCKET=$DATA_DIR/run
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
stop_cluster() {
  if [ -f "$DATA_DIR/pg/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR/pg" -m fast -w stop >/dev/null 2>&1 || true
  fi
}
# The streaming replica (made by make_replica): its own data folder, socket folder and port.
REPLICA_DIR=$DATA_DIR/replica
REPLICA_SOCKET=$DATA_DIR/replica-run
REPLICA_PORT=${BENCH_REPLICA_PORT:-5433}
stop_replica() {
  if [ -f "$REPLICA_DIR/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$REPLICA_DIR" -m fast -w stop >/dev/null 2>&1 || true
  fi
}
SINK_PID=""
stop_sink() {
  if [ -n "$SINK_PID" ] && kill -0 "$SINK_PID" 2>/dev/null; then
    kill -TERM "$SINK_PID" 2>/dev/null || true
    wait "$SINK_PID" 2>/dev/null || true
  fi
  SINK_PID=""
}
cleanup() { stop_server; stop_sink; stop_replica; stop_cluster; }
trap cleanup EXIT
trap 'exit 130' INT TERM

log "fresh PostgreSQL cluster in $DATA_DIR"
# Only ever delete a folder that is empty or holds a cluster made by this script.
if [ -e "$DATA_DIR" ] && [ -n "$(ls -A "$DATA_DIR")" ] && [ ! -f "$DATA_DIR/pg/PG_VERSION" ]; then
  die "$DATA_DIR exists and is not a benchmark cluster; set BENCH_DATA_DIR"
fi
stop_replica
stop_cluster
rm -rf "$DATA_DIR"
# `plenary migrate` on the embedded database initialises the cluster (as the postgres user
# when run as root), migrates its `plenary` database and stops it again.
(cd "$WORK" && env -u DATABASE_URL PLENARY_DATA_DIR="$DATA_DIR" RUST_LOG=warn "$BIN" migrate >/dev/null)
as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR/pg" -l "$DATA_DIR/postgresql.log" -w start >/dev/null
PG_VERSION=$("$PG_BIN/postgres" --version)

psql_db() { local db=$1; shift; "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCKET" -p 5432 -U plenary -d "$db" "$@"; }
db_url() { echo "host=$SOCKET port=5432 user=plenary dbname=$1"; }

# Creates and fills bench_<n>: migrations, the benchmark organiser, benches/seed.sql.
make_dataset() {
  local n=$1 people=$2 db=bench_$1 t0
  t0=$(date +%s)
  log "data set: $n conferences ($db)"
  psql_db postgres -c "CREATE DATABASE $db"
  DATABASE_URL=$(db_url "$db") RUST_LOG=warn "$BIN" migrate >/dev/null
  printf '%s\n' "$OWNER_PASSWORD" | DATABASE_URL=$(db_url "$db") RUST_LOG=warn \
    "$BIN" organiser add --email "$OWNER_EMAIL" --name "Benchmark organiser" >/dev/null
  psql_db "$db" -v conferences="$n" -v people="$people" -v owner="$OWNER_EMAIL" -f "$BENCH/seed.sql" >/dev/null
  # Ids of published conferences, for wrk (file) and pgbench (table).
  psql_db "$db" -c "CREATE TABLE bench_ids AS SELECT row_number() OVER (ORDER BY random())::int AS n, id
                    FROM conferences WHERE status = 'published';
                    ALTER TABLE bench_ids ADD PRIMARY KEY (n); ANALYZE bench_ids;"
  psql_db "$db" -At -c "SELECT id FROM bench_ids ORDER BY n" > "$WORK/ids_$n.txt"
  psql_db "$db" -At -c "SELECT json_build_object('size', $n, 'seconds', $(date +%s) - $t0,
      'conferences', (SELECT count(*) FROM conferences),
      'published', (SELECT count(*) FROM conferences WHERE status = 'published'),
      'drafts', (SELECT count(*) FROM conferences WHERE status = 'draft'),
      'organisations', (SELECT count(*) FROM organisations),
      'countries', (SELECT count(*) FROM countries),
      'delegations', (SELECT count(*) FROM delegations),
      'members', (SELECT count(*) FROM delegation_members),
      'sessions', (SELECT count(*) FROM sessions),
      'kh_delegations', (SELECT count(*) FROM delegations WHERE country = 'KH'),
      'db_size', pg_size_pretty(pg_database_size(current_database())))" \
    | sed 's/^/{"kind": "dataset", "data": /; s/$/}/' >> "$RESULTS"
}

# --- the server ---------------------------------------------------------------------------
start_server() {
  local db=$1
  stop_server
  (cd "$WORK" && DATABASE_URL=$(db_url "$db") BIND_ADDR=127.0.0.1:$PORT \
     PLENARY_JWT_SECRET=bench-secret-0123456789abcdef0123456789abcdef RUST_LOG=warn \
     exec env ${SERVER_ENV:-} ${READ_URL:+"DATABASE_READ_URL=$READ_URL"} "$BIN" serve) \
     > "$WORK/server_$db.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -fs "$BASE/health/ready" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.2
  done
  cat "$WORK/server_$db.log" >&2
  die "the server did not become ready"
}
rss_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
reset_hwm() { echo 5 > "/proc/$SERVER_PID/clear_refs" 2>/dev/null || true; }
token() {
  curl -fs "$BASE/api/v1/auth/token" -H 'content-type: application/json' \
    -d "{\"email\": \"$OWNER_EMAIL\", \"password\": \"$OWNER_PASSWORD\"}" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

# run_wrk LABEL SIZE CONNS SECONDS SCRIPT URL: one wrk run, one JSON line in $RESULTS.
run_wrk() {
  local label=$1 size=$2 c=$3 secs=$4 script=$5 url=$6 threads out
  threads=$(( c < 2 ? 1 : 2 ))
  reset_hwm
  out=$(wrk -t"$threads" -c"$c" -d"${secs}s" --timeout 10s -s "$BENCH/wrk/$script" "$url" | tail -1)
  printf '{"kind": "wrk", "scenario": "%s", "size": %s, "connections": %s, "rss_hwm_kib": %s, "rss_kib": %s, "data": %s}\n' \
    "$label" "$size" "$c" "$(rss_kib "$SERVER_PID" VmHWM)" "$(rss_kib "$SERVER_PID" VmRSS)" "$out" >> "$RESULTS"
  echo "  $label c=$c: $out" >&2
}
# Public reads: X-Plenary-Source of one anonymous GET (a HEAD is not a GET: `curl -I` gets no
# such header), checked against what the configuration should give.
source_of() {
  curl -s -o /dev/null -D - "$1" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-plenary-source" {print $2}'
}
# check_source LABEL URL EXPECTED [SECONDS]: waits up to SECONDS (default 0) for EXPECTED
# (the replica is used only once its monitor has measured it), records what came.
check_source() {
  local label=$1 url=$2 want=$3 secs=${4:-0} got i
  for i in $(seq 0 $(( secs * 5 ))); do
    got=$(source_of "$url")
    [ "$got" = "$want" ] && break
    [ "$i" -lt $(( secs * 5 )) ] && sleep 0.2
  done
  printf '{"kind": "source_check", "scenario": "%s", "url": "%s", "expected": "%s", "got": "%s"}\n' \
    "$label" "${url#"$BASE"}" "$want" "$got" >> "$RESULTS"
  echo "  $label: X-Plenary-Source: ${got:-(none)} (expected $want)" >&2
  [ "$got" = "$want" ] || echo "  WARNING: $label is not answered from $want" >&2
}
# Attendance URLs of the conference ids in file $1, as a curl config (one response each,
# discarded).
attendance_cfg() {
  sed "s|.*|url = \"$BASE/api/v1/conferences/&/attendance\"\noutput = \"/dev/null\"|" "$1"
}
# fill_cache LABEL: every published conference's attendance once (8 at a time), so that the
# cached runs start with the cache as full as its bound allows.
fill_cache() {
  local t0
  t0=$(date +%s%N)
  attendance_cfg "$BENCH_IDS" > "$WORK/fill.cfg"
  curl -s --no-progress-meter --parallel --parallel-max 8 -K "$WORK/fill.cfg" 2>/dev/null || true
  echo "  $1: cache filled with $(wc -l < "$BENCH_IDS") attendance reads in $(( ($(date +%s%N) - t0) / 1000000 )) ms" >&2
}
# sample_sources LABEL [N]: right after a run, N random attendance reads one by one: where each
# was answered from, and the mean body size (how much of the data set the cache can hold).
sample_sources() {
  local label=$1 n=${2:-200} out
  shuf -n "$n" "$BENCH_IDS" > "$WORK/sample_ids.txt"
  attendance_cfg "$WORK/sample_ids.txt" > "$WORK/sample.cfg"
  out=$(curl -s -K "$WORK/sample.cfg" -w '%header{x-plenary-source} %{size_download}\n' \
    | awk '{n[$1 == "" ? "none" : $1]++; bytes += $2; k++}
           END {printf "{"; sep = ""; for (s in n) {printf "%s\"%s\": %d", sep, s, n[s]; sep = ", "}
                printf "}, \"mean_bytes\": %d", (k ? bytes / k : 0)}')
  printf '{"kind": "sources", "scenario": "%s", "n": %s, "ids": %s, "counts": %s}\n' \
    "$label" "$n" "$(wc -l < "$BENCH_IDS")" "$out" >> "$RESULTS"
  echo "  $label: sources of $n random attendance reads after the run: $out" >&2
}
# Counters of the server's cache (its "public reads" log line, every 5 s while they change):
# fills (database reads made for the cache), shared, waits, sure_again (times the instance
# became sure again, i.e. had been unsure).
cache_stats() {
  local line
  line=$(grep 'public reads' "$WORK/server_$MAIN_DB.log" | tail -1 | sed 's/\x1b\[[0-9;]*m//g')
  [ -n "$line" ] || echo "  WARNING: no \"public reads\" line in the server's log: the cache's counters read 0" >&2
  for k in fills shared waits sure_again; do
    printf '"%s": %s, ' "$k" "$(echo "$line" | grep -o "$k=[0-9]*" | cut -d= -f2 | grep . || echo 0)"
  done
}
xacts() { psql_db "$MAIN_DB" -At -c "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"; }
# run_overload LABEL LOCK: 256 connections on cached attendance (random published
# conferences) while benches/writer.py adds delegations at a steady rate; LOCK=1 holds
# `LOCK TABLE conference_revisions IN ACCESS EXCLUSIVE MODE` for 3 s in the middle. One JSON
# line: wrk's figures, the writer's, the cache's counters and the database's transactions
# during the run.
run_overload() {
  local label=$1 lock=$2 secs=${BENCH_OVERLOAD_SECONDS:-30} wps=${BENCH_OVERLOAD_WRITES:-20}
  local out before after x0 x1 writer locker=""
  sleep 6; before="{$(cache_stats)\"x\": 0}"; x0=$(xacts)
  python3 "$BENCH/writer.py" "$BASE" "$BENCH_TOKEN" "$BENCH_IDS" "$BENCH_COUNTRIES" "$secs" "$wps" \
    > "$WORK/writer.json" &
  writer=$!
  if [ "$lock" = 1 ]; then
    ( sleep $(( secs / 2 - 1 )); psql_db "$MAIN_DB" -c "BEGIN; LOCK TABLE conference_revisions IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(3); COMMIT" >/dev/null ) &
    locker=$!
  fi
  reset_hwm
  out=$(wrk -t2 -c256 -d"${secs}s" --timeout 10s -s "$BENCH/wrk/ids.lua" "$BASE/" | tail -1)
  wait "$writer"; [ -z "$locker" ] || wait "$locker"
  x1=$(xacts)
  sleep 6; after="{$(cache_stats)\"x\": 0}"
  printf '{"kind": "overload", "scenario": "%s", "size": %s, "connections": 256, "lock": %s, "seconds": %s, "xacts": %s, "before": %s, "after": %s, "writer": %s, "rss_hwm_kib": %s, "data": %s}\n' \
    "$label" "$MAIN_SIZE" "$lock" "$secs" "$(( x1 - x0 ))" "$before" "$after" "$(cat "$WORK/writer.json")" \
    "$(rss_kib "$SERVER_PID" VmHWM)" "$out" >> "$RESULTS"
  echo "  $label: $out; cache before $before after $after; writer $(cat "$WORK/writer.json")" >&2
}
warm() { wrk -t1 -c"$2" -d"${WARMUP}s" --timeout 10s -s "$BENCH/wrk/$1" "$3" >/dev/null; }

# run_pgbench LABEL SIZE CONNS SECONDS SCRIPT DB
run_pgbench() {
  local label=$1 size=$2 c=$3 secs=$4 script=$5 db=$6 threads prefix out
  threads=$(( c < 2 ? 1 : 2 ))
  prefix=$WORK/pgbench_${label}_${size}_$c
  out=$(cd "$WORK" && "$PG_BIN/pgbench" -n -M prepared -h "$SOCKET" -p 5432 -U plenary \
          -c "$c" -j "$threads" -T "$secs" -f "$script" -D nids="$(wc -l < "$WORK/ids_$size.txt")" \
          -D ncountries="$(wc -l < "$WORK/countries.txt")" \
          --log --log-prefix="$prefix" "$db" 2>&1) || { echo "$out" >&2; die "pgbench failed"; }
  printf '{"kind": "pgbench", "scenario": "%s", "size": %s, "connections": %s, "data": %s}\n' \
    "$label" "$size" "$c" "$(python3 "$BENCH/report.py" pgbench-log "$prefix" "$out")" >> "$RESULTS"
  rm -f "$prefix".*
  echo "  pgbench $label c=$c: $(tail -1 "$RESULTS" | cut -c1-200)" >&2
}

# --- capture the SQL of each request ------------------------------------------------------
# With log_statement = all on the database, one request of each scenario, separated by marker
# statements; report.py turns the statements into pgbench scripts (the same SQL, the same
# parameters, the conference id drawn at random) and shows them in the report.
capture_sql() {
  local db=$1 size=$2 sample log_start tok country
  sample=$(head -1 "$WORK/ids_$size.txt")
  CAPTURED_SAMPLE=$sample
  psql_db postgres -c "ALTER DATABASE $db SET log_statement = 'all'"
  log_start=$(stat -c %s "$DATA_DIR/postgresql.log")
  start_server "$db"
  tok=$(token)
  mark() { psql_db "$db" -c "SELECT 'bench-marker $1'" >/dev/null; }
  mark A; curl -fs "$BASE/api/v1/conferences/$sample/attendance" >/dev/null
  mark B; curl -fs "$BASE/api/v1/conferences?participant=KH&from=2015-01-01" >/dev/null
  mark C; curl -fs "$BASE/api/v1/countries/KH/attendance" >/dev/null
  # A country the sample has no delegation of: the write is a 201, as most of D's are.
  country=$(psql_db "$db" -At -c "SELECT code FROM countries WHERE code NOT IN
              (SELECT country FROM delegations WHERE conference_id = '$sample' AND country IS NOT NULL)
              ORDER BY code LIMIT 1")
  mark D; curl -s -o /dev/null "$BASE/api/v1/conferences/$sample/delegations" \
            -H "authorization: Bearer $tok" -H 'content-type: application/json' \
            -d "{\"country\": \"$country\", \"role\": \"observer\"}"
  mark END
  stop_server
  psql_db postgres -c "ALTER DATABASE $db RESET log_statement"
  tail -c +"$((log_start + 1))" "$DATA_DIR/postgresql.log" > "$WORK/captured.log"
  python3 "$BENCH/report.py" capture "$WORK/captured.log" "$WORK" "$sample" "$country" >> "$RESULTS"
}

explain_all() {
  local db=$1 size=$2 sample
  sample=$(psql_db "$db" -At -c "SELECT id FROM bench_ids ORDER BY n LIMIT 1")
  for s in A B C; do
    python3 "$BENCH/report.py" explain-sql "$WORK/captured_$s.json" "$CAPTURED_SAMPLE" "$sample" \
      > "$WORK/explain.sql"
    printf '{"kind": "explain", "scenario": "%s", "size": %s, "plan": %s}\n' "$s" "$size" \
      "$(psql_db "$db" -At -f "$WORK/explain.sql" | python3 -c 'import json, sys; print(json.dumps(sys.stdin.read()))')" >> "$RESULTS"
  done
}

# --- the read replica ---------------------------------------------------------------------
# make_replica: a streaming replica of the benchmark cluster, `pg_basebackup -R` (a
# standby.signal and primary_conninfo over the primary's socket) into its own data folder,
# started with its own socket folder and port. The embedded cluster needs nothing changed:
# PostgreSQL 15 defaults to wal_level = replica and max_wal_senders = 10, and initdb
# --auth=trust wrote `local replication all trust` into pg_hba.conf (added here if missing).
make_replica() {
  local t0 hba state=""
  t0=$(date +%s)
  log "streaming replica in $REPLICA_DIR (socket $REPLICA_SOCKET, port $REPLICA_PORT)"
  [ "$(psql_db postgres -At -c 'SHOW wal_level')" != minimal ] || die "wal_level = minimal: no replica possible"
  [ "$(psql_db postgres -At -c 'SHOW max_wal_senders')" -gt 0 ] || die "max_wal_senders = 0: no replica possible"
  hba=$(psql_db postgres -At -c 'SHOW hba_file')
  if ! grep -Eq '^[[:space:]]*local[[:space:]]+replication[[:space:]]+(all|plenary)[[:space:]]+trust' "$hba"; then
    echo "local replication all trust" >> "$hba"
    psql_db postgres -c 'SELECT pg_reload_conf()' >/dev/null
  fi
  stop_replica
  rm -rf "$REPLICA_DIR" "$REPLICA_SOCKET"
  mkdir -p "$REPLICA_DIR" "$REPLICA_SOCKET"
  chmod 700 "$REPLICA_DIR"
  touch "$DATA_DIR/replica.log"
  [ "$(id -u)" != 0 ] || chown postgres: "$REPLICA_DIR" "$REPLICA_SOCKET" "$DATA_DIR/replica.log"
  as_pg "$PG_BIN/pg_basebackup" -h "$SOCKET" -p 5432 -U plenary -D "$REPLICA_DIR" -R -X stream -c fast
  as_pg "$PG_BIN/pg_ctl" -D "$REPLICA_DIR" -l "$DATA_DIR/replica.log" \
    -o "-p $REPLICA_PORT -k $REPLICA_SOCKET" -w start >/dev/null
  for _ in $(seq 1 150); do
    state=$(psql_db postgres -At -c "SELECT state FROM pg_stat_replication LIMIT 1")
    [ "$state" = streaming ] && break
    sleep 0.2
  done
  [ "$state" = streaming ] || { tail -20 "$DATA_DIR/replica.log" >&2; die "the replica does not stream"; }
  printf '{"kind": "replica", "seconds": %s, "state": "%s", "in_recovery": "%s"}\n' \
    "$(( $(date +%s) - t0 ))" "$state" \
    "$("$PG_BIN/psql" -X -At -h "$REPLICA_SOCKET" -p "$REPLICA_PORT" -U plenary -d postgres -c 'SELECT pg_is_in_recovery()')" \
    >> "$RESULTS"
  echo "  replica: $state, made in $(( $(date +%s) - t0 )) s" >&2
}

# finish_run: the end line, the report rendered, the work folder and (unless BENCH_KEEP=1) the
# cluster removed.
finish_run() {
  printf '{"kind": "end", "seconds": %s, "load_after": "%s"}\n' "$(( $(date +%s) - T0 ))" "$(cut -d' ' -f1-3 /proc/loadavg)" >> "$RESULTS"
  python3 "$BENCH/report.py" render "$RESULTS" "$OUT"
  cp "$RESULTS" "${OUT%.md}.jsonl" 2>/dev/null || true
  log "done in $(( $(date +%s) - T0 )) s: $OUT"
  if [ "${BENCH_KEEP_LOGS:-0}" = 1 ]; then
    for f in "$WORK"/server_*.log; do [ -e "$f" ] && cp "$f" "${OUT%.md}.${f##*/}"; done
  fi
  rm -rf "$WORK"
  if [ "${BENCH_KEEP:-0}" != 1 ]; then stop_cluster; rm -rf "$DATA_DIR"; fi
}

# --- main run -----------------------------------------------------------------------------
T0=$(date +%s)
: > "$RESULTS"
printf '{"kind": "meta", "commit": "%s%s", "date": "%s", "cpu": "%s", "cores": %s, "mem": "%s", "kernel": "%s", "postgres": "%s", "wrk": "%s", "rustc": "%s", "duration": %s, "warmup": %s, "scale_duration": %s, "load_before": "%s", "focus": "%s"}\n' \
  "$COMMIT" "$DIRTY" "$(date -u +%FT%TZ)" "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)" \
  "$(nproc)" "$(free -h | awk '/Mem:/ {print $2}')" "$(uname -r)" "$PG_VERSION" \
  "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)" "$(rustc --version 2>/dev/null || echo unknown)" \
  "$DURATION" "$WARMUP" "$SCALE_DURATION" "$(cut -d' ' -f1-3 /proc/loadavg)" "$FOCUS" >> "$RESULTS"

make_dataset "$MAIN_SIZE" 1
MAIN_DB=bench_$MAIN_SIZE
psql_db "$MAIN_DB" -At -c "SELECT code FROM countries ORDER BY code" > "$WORK/countries.txt"
# The same countries for pgbench's replay of a write (D), as bench_ids holds the conferences.
psql_db "$MAIN_DB" -c "CREATE TABLE bench_countries AS SELECT row_number() OVER (ORDER BY code)::int AS n, code
                       FROM countries; ALTER TABLE bench_countries ADD PRIMARY KEY (n); ANALYZE bench_countries;" >/dev/null
capture_sql "$MAIN_DB" "$MAIN_SIZE"
[ -n "$FOCUS" ] || explain_all "$MAIN_DB" "$MAIN_SIZE"

log "load: $MAIN_SIZE conferences, ${DURATION}s per run after ${WARMUP}s of warm-up"
export BENCH_IDS=$WORK/ids_$MAIN_SIZE.txt BENCH_COUNTRIES=$WORK/countries.txt
export BENCH_PATH="/api/v1/conferences/%s/attendance"
URL_B="$BASE/api/v1/conferences?participant=KH&from=2015-01-01"
URL_C="$BASE/api/v1/countries/KH/attendance"
URL_LIVE="$BASE/health/live"
URL_SAMPLE="$BASE/api/v1/conferences/$(head -1 "$BENCH_IDS")/attendance"

# Default settings: the cache of public reads on (64 MiB), so A is the cached attendance once
# the cache is filled; the ceiling is Plenary's cheapest route in the same configuration. The
# cache's counters are logged (info, by the module that keeps them: src/http/public_reads.rs)
# for the overload scenario.
SERVER_ENV="RUST_LOG=warn,plenary::http::public_reads=info" start_server "$MAIN_DB"
if [ "$FOCUS" = overload ]; then
  fill_cache A
  check_source A "$URL_SAMPLE" cache 2
  warm get.lua 64 "$URL_LIVE"; run_wrk ceiling "$MAIN_SIZE" 64 "$DURATION" get.lua "$URL_LIVE"
  warm ids.lua 64 "$BASE/"; run_wrk A "$MAIN_SIZE" 64 "$DURATION" ids.lua "$BASE/"
  export BENCH_TOKEN
  BENCH_TOKEN=$(token)
  warm delegations.lua 64 "$BASE/"; run_wrk D "$MAIN_SIZE" 64 "$DURATION" delegations.lua "$BASE/"
  fill_cache overload
  run_overload overload 0
  run_overload overload-lock 1
  stop_server
  finish_run
  exit 0
fi
if [ "$FOCUS" = check-in ]; then
  warm get.lua 16 "$URL_LIVE"; run_wrk ceiling "$MAIN_SIZE" 16 "$DURATION" get.lua "$URL_LIVE"
  STAFF_EMAIL=door-bench@plenary.example STAFF_PASSWORD="door bench passphrase"
  printf '%s\n' "$STAFF_PASSWORD" | DATABASE_URL=$(db_url "$MAIN_DB") RUST_LOG=warn \
    "$BIN" organiser add --email "$STAFF_EMAIL" --name "Door benchmark" >/dev/null
  log "check-in: ${BENCH_CHECKIN_MEMBERS:-1000} accepted members, badges.html, scans at 16 connections"
  python3 "$BENCH/checkin.py" setup "$BASE" "$(token)" "${BENCH_CHECKIN_MEMBERS:-1000}" \
    "$WORK/checkin" "$STAFF_EMAIL" "$STAFF_PASSWORD" | tee -a "$RESULTS" >&2
  export BENCH_TOKEN BENCH_CHECKIN_TOKENS=$WORK/checkin/tokens.txt BENCH_CHECKIN_BATCH
  export BENCH_CHECKIN_CONF
  BENCH_CHECKIN_CONF=$(cat "$WORK/checkin/conference"); BENCH_TOKEN=$(cat "$WORK/checkin/staff_token")
  for round in 1 2; do
    BENCH_CHECKIN_BATCH=1
    warm checkin.lua 16 "$BASE/"; run_wrk checkin-single "$MAIN_SIZE" 16 "$DURATION" checkin.lua "$BASE/"
    BENCH_CHECKIN_BATCH=${BENCH_CHECKIN_BATCH_SIZE:-50}
    warm checkin.lua 16 "$BASE/"; run_wrk checkin-batch "$MAIN_SIZE" 16 "$DURATION" checkin.lua "$BASE/"
    sed -i '$ s/}$/, "batch": '"$BENCH_CHECKIN_BATCH"'}/' "$RESULTS"
  done
  printf '{"kind": "checkins_recorded", "count": %s}\n' \
    "$(psql_db "$MAIN_DB" -At -c "SELECT count(*) FROM check_ins")" >> "$RESULTS"
  stop_server
  finish_run
  exit 0
fi
if [ "$FOCUS" = notify ]; then
  NOTIFY_N=${BENCH_NOTIFY_MESSAGES:-2000}
  PSQL_MAIN=("$PG_BIN/psql" -X -q -h "$SOCKET" -p 5432 -U plenary -d "$MAIN_DB")
  # Webhook deliveries: to one webhook (one at a time, in order) and to 16 (16 in flight).
  stop_server
  if [ "${BENCH_NOTIFY_ONLY:-}" != writes ]; then
    log "sender: $NOTIFY_N webhook deliveries to a local receiver"
    SERVER_ENV="PLENARY_WEBHOOK_ALLOW_PRIVATE=true" start_server "$MAIN_DB"
    BENCH_TOKEN=$(token)
    for hooks in 1 16; do
      python3 "$BENCH/notify.py" webhooks "webhooks-$hooks" "$NOTIFY_N" "$hooks" "$BASE" "$BENCH_TOKEN" \
        -- "${PSQL_MAIN[@]}" | tee -a "$RESULTS" >&2
    done
    stop_server
  fi
  if [ "${BENCH_NOTIFY_ONLY:-}" = webhooks ]; then
    finish_run
    exit 0
  fi
  start_server "$MAIN_DB"
  # Writes (D), twice; with BENCH_BIN_BEFORE (an older build, e.g. of the commit before
  # notifications) also with that binary on the same database, the runs alternating so that
  # the machine's other load falls on both alike.
  export BENCH_TOKEN
  for round in 1 2; do
    if [ -n "${BENCH_BIN_BEFORE:-}" ]; then
      stop_server
      BIN_AFTER=$BIN; BIN=$BENCH_BIN_BEFORE
      start_server "$MAIN_DB"
      BENCH_TOKEN=$(token)
      for c in 16 64; do
        warm delegations.lua "$c" "$BASE/"; run_wrk D-before "$MAIN_SIZE" "$c" "$DURATION" delegations.lua "$BASE/"
      done
      stop_server
      BIN=$BIN_AFTER
      start_server "$MAIN_DB"
    fi
    BENCH_TOKEN=$(token)
    for c in 16 64; do
      warm delegations.lua "$c" "$BASE/"; run_wrk D "$MAIN_SIZE" "$c" "$DURATION" delegations.lua "$BASE/"
    done
  done
  stop_server
  # The database's own limit on these writes: pgbench on D's statements, same connections.
  for c in 16 64; do
    run_pgbench D "$MAIN_SIZE" "$c" "$DURATION" "$WORK/pgbench_D.sql" "$MAIN_DB"
  done
  if [ "${BENCH_NOTIFY_ONLY:-}" = writes ]; then
    finish_run
    exit 0
  fi
  VENV_PY=$ROOT/.venv-ci/bin/python
  if ! "$VENV_PY" -c 'import aiosmtpd' >/dev/null 2>&1; then
    log "setting up .venv-ci (tests/api/py/requirements.txt)"
    python3 -m venv "$ROOT/.venv-ci"
    "$VENV_PY" -m pip install --quiet --disable-pip-version-check -r "$ROOT/tests/api/py/requirements.txt"
  fi
  log "sender: $NOTIFY_N e-mails to a local SMTP server (aiosmtpd)"
  "$VENV_PY" "$ROOT/tests/api/py/smtp_sink.py" --dir "$WORK/sink" --keep-stdin \
    > "$WORK/sink.out" 2> "$WORK/sink.log" < /dev/null &
  SINK_PID=$!
  for _ in $(seq 1 100); do grep -q port "$WORK/sink.out" 2>/dev/null && break; sleep 0.1; done
  SMTP_PORT=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["port"])' "$WORK/sink.out")
  SERVER_ENV="PLENARY_SMTP_URL=smtp://127.0.0.1:$SMTP_PORT" start_server "$MAIN_DB"
  for how in sql api; do
    if [ "$how" = sql ]; then args=(sql smtp-sql "$NOTIFY_N"); else args=(api smtp-api "$NOTIFY_N" "$BASE" "$BENCH_TOKEN"); fi
    python3 "$BENCH/notify.py" "${args[@]}" -- "${PSQL_MAIN[@]}" | tee -a "$RESULTS" >&2
  done
  echo "  the SMTP server received $(ls "$WORK/sink" | grep -c '\.eml$') messages" >&2
  stop_server
  stop_sink
  log "sender: $NOTIFY_N e-mails as .eml files (no PLENARY_SMTP_URL)"
  start_server "$MAIN_DB"
  for how in sql api; do
    if [ "$how" = sql ]; then args=(sql files-sql "$NOTIFY_N"); else args=(api files-api "$NOTIFY_N" "$BASE" "$BENCH_TOKEN"); fi
    python3 "$BENCH/notify.py" "${args[@]}" -- "${PSQL_MAIN[@]}" | tee -a "$RESULTS" >&2
  done
  stop_server
  finish_run
  exit 0
fi
fill_cache A
check_source A "$URL_SAMPLE" cache 2
for c in $CONNECTIONS; do
  warm get.lua "$c" "$URL_LIVE"; run_wrk ceiling "$MAIN_SIZE" "$c" "$DURATION" get.lua "$URL_LIVE"
done
for c in $CONNECTIONS; do
  warm ids.lua "$c" "$BASE/"; run_wrk A "$MAIN_SIZE" "$c" "$DURATION" ids.lua "$BASE/"
  [ "$c" != 64 ] || sample_sources A
  run_pgbench A "$MAIN_SIZE" "$c" "$DURATION" "$WORK/pgbench_A.sql" "$MAIN_DB"
  [ -z "$FOCUS" ] || continue
  warm get.lua "$c" "$URL_B"; run_wrk B "$MAIN_SIZE" "$c" "$DURATION" get.lua "$URL_B"
  run_pgbench B "$MAIN_SIZE" "$c" "$DURATION" "$WORK/pgbench_B.sql" "$MAIN_DB"
  warm get.lua "$c" "$URL_C"; run_wrk C "$MAIN_SIZE" "$c" "$DURATION" get.lua "$URL_C"
  run_pgbench C "$MAIN_SIZE" "$c" "$DURATION" "$WORK/pgbench_C.sql" "$MAIN_DB"
done
export BENCH_TOKEN
BENCH_TOKEN=$(token)
for c in $CONNECTIONS; do
  warm delegations.lua "$c" "$BASE/"; run_wrk D "$MAIN_SIZE" "$c" "$DURATION" delegations.lua "$BASE/"
  run_pgbench D "$MAIN_SIZE" "$c" "$DURATION" "$WORK/pgbench_D.sql" "$MAIN_DB"
done
export BENCH_BODY="{\"email\": \"$OWNER_EMAIL\", \"password\": \"$OWNER_PASSWORD\"}"
if [ -z "$FOCUS" ]; then
  for c in $CONNECTIONS; do
    run_wrk token "$MAIN_SIZE" "$c" "$DURATION" post.lua "$BASE/api/v1/auth/token"
  done
fi
fill_cache overload
run_overload overload 0
run_overload overload-lock 1
printf '{"kind": "rss_final", "size": %s, "rss_hwm_kib": %s}\n' "$MAIN_SIZE" "$(rss_kib "$SERVER_PID" VmHWM)" >> "$RESULTS"
stop_server

# The default 64 MiB may not hold all of the data set's attendance: the same run with a
# cache that holds all of it (hits only).
CACHE_ALL_MIB=${BENCH_CACHE_ALL_MIB:-128}
log "cached attendance, cache of $CACHE_ALL_MIB MiB"
SERVER_ENV="PLENARY_CACHE_BYTES=$(( CACHE_ALL_MIB * 1048576 ))" start_server "$MAIN_DB"
fill_cache A-cache-all
check_source A-cache-all "$URL_SAMPLE" cache 2
sed -i '$ s/}$/, "cache_mib": '"$CACHE_ALL_MIB"'}/' "$RESULTS"
warm ids.lua 64 "$BASE/"; run_wrk A-cache-all "$MAIN_SIZE" 64 "$DURATION" ids.lua "$BASE/"
sample_sources A-cache-all
stop_server

# The same attendance reads with the cache off: every read goes to PostgreSQL, the SQL
# pgbench_A replays.
log "uncached attendance (PLENARY_CACHE_BYTES=0)"
SERVER_ENV="PLENARY_CACHE_BYTES=0" start_server "$MAIN_DB"
check_source A-uncached "$URL_SAMPLE" primary
for c in $CONNECTIONS; do
  warm ids.lua "$c" "$BASE/"; run_wrk A-uncached "$MAIN_SIZE" "$c" "$DURATION" ids.lua "$BASE/"
done
stop_server

# The replica configuration: public reads on a streaming replica of the same cluster (on the
# same cores), uncached and cached, 64 connections.
make_replica
READ_URL="host=$REPLICA_SOCKET port=$REPLICA_PORT user=plenary dbname=$MAIN_DB"
log "replica configuration, uncached (DATABASE_READ_URL, PLENARY_CACHE_BYTES=0)"
SERVER_ENV="PLENARY_CACHE_BYTES=0" start_server "$MAIN_DB"
check_source A-replica-uncached "$URL_SAMPLE" replica 10
warm ids.lua 64 "$BASE/"; run_wrk A-replica-uncached "$MAIN_SIZE" 64 "$DURATION" ids.lua "$BASE/"
sample_sources A-replica-uncached
stop_server
log "replica configuration, cached (DATABASE_READ_URL, default cache)"
start_server "$MAIN_DB"
check_source A-replica-first-read "$URL_SAMPLE" replica 10
fill_cache A-replica
check_source A-replica-cached "$URL_SAMPLE" cache 2
warm ids.lua 64 "$BASE/"; run_wrk A-replica-cached "$MAIN_SIZE" 64 "$DURATION" ids.lua "$BASE/"
sample_sources A-replica-cached
stop_server
READ_URL=""
stop_replica

# --- pool size ----------------------------------------------------------------------------
# The same 64-connection runs with a pool of POOL_ALT connections instead of the default 4:
# on a 2-core machine that also runs PostgreSQL and the load generator, 16 busy backends
# crowd out Plenary's workers (a latency tail), while writes wait on WAL flushes and gain
# from more connections. The cache is off here, so that A measures the database path (it is
# compared with A-uncached; a cached read takes no connection).
POOL_ALT=${BENCH_POOL_ALT:-16}
log "pool size $POOL_ALT: 64 connections (cache off)"
SERVER_ENV="PLENARY_DB_POOL_SIZE=$POOL_ALT PLENARY_CACHE_BYTES=0" start_server "$MAIN_DB"
BENCH_TOKEN=$(token)
warm ids.lua 64 "$BASE/"; run_wrk "pool$POOL_ALT-A" "$MAIN_SIZE" 64 "$DURATION" ids.lua "$BASE/"
if [ -z "$FOCUS" ]; then
  warm get.lua 64 "$URL_B"; run_wrk "pool$POOL_ALT-B" "$MAIN_SIZE" 64 "$DURATION" get.lua "$URL_B"
  warm get.lua 64 "$URL_C"; run_wrk "pool$POOL_ALT-C" "$MAIN_SIZE" 64 "$DURATION" get.lua "$URL_C"
fi
warm delegations.lua 64 "$BASE/"; run_wrk "pool$POOL_ALT-D" "$MAIN_SIZE" 64 "$DURATION" delegations.lua "$BASE/"
stop_server

# --- scaling ------------------------------------------------------------------------------
# With the cache off: the scaling of the database path (a cached read does not depend on it).
[ -z "$FOCUS" ] || SIZES=""
for n in $SIZES; do
  db=bench_$n
  if [ "$n" != "$MAIN_SIZE" ]; then
    make_dataset "$n" 0
    explain_all "$db" "$n"
  fi
  log "scaling: $n conferences, ${SCALE_DURATION}s per run"
  SERVER_ENV="PLENARY_CACHE_BYTES=0" start_server "$db"
  export BENCH_IDS=$WORK/ids_$n.txt
  for c in 1 64; do
    warm ids.lua "$c" "$BASE/"; run_wrk scale-A "$n" "$c" "$SCALE_DURATION" ids.lua "$BASE/"
    run_pgbench scale-A "$n" "$c" "$SCALE_DURATION" "$WORK/pgbench_A.sql" "$db"
    warm get.lua "$c" "$URL_B"; run_wrk scale-B "$n" "$c" "$SCALE_DURATION" get.lua "$URL_B"
    run_pgbench scale-B "$n" "$c" "$SCALE_DURATION" "$WORK/pgbench_B.sql" "$db"
    warm get.lua "$c" "$URL_C"; run_wrk scale-C "$n" "$c" "$SCALE_DURATION" get.lua "$URL_C"
    run_pgbench scale-C "$n" "$c" "$SCALE_DURATION" "$WORK/pgbench_C.sql" "$db"
  done
  stop_server
  [ "$n" = "$MAIN_SIZE" ] || psql_db postgres -c "DROP DATABASE $db"
done

finish_run
