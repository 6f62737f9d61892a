#!/usr/bin/env bash
# Authgate HTTP load benchmark (see BENCHMARKS.md).
#
#   bench/load.sh               SQLite in a temporary data directory
#   bench/load.sh --postgres    PostgreSQL: fresh schemas in $PG_URL, dropped at the end
#
# Builds `target/release/authgate`, starts it, seeds users through the HTTP
# API and drives it with wrk (bench/*.lua). All traffic goes to 127.0.0.1;
# every wrk run is bounded by time (and the one-time OTP bodies by count).
# Servers, temporary directories and schemas are removed on exit, also on
# failure or Ctrl-C. Takes about 3 minutes on 2 quiet cores.
#
# Tunables (environment):
#   DURATION=10       seconds per scenario
#   LOGIN_CONNS=32    connections of the password-login storm (scenarios 1, 5) and the flood (6)
#   CONNS=64          connections of the fast scenarios (OTP, /v1/me, refresh)
#   PROBE_SECS=8      length of each latency probe in scenario 5
#   PROBE_DELAY_MS=10 pause between probe requests (2 connections: ~200 req/s)
#   OTP_USERS=5000    users with 2FA seeded for the OTP scenario (3 uses each)
#   WRK_THREADS=1     wrk threads (wrk shares the 2 cores with the server)
#   AUTHGATE_BIN=...  use this binary instead of building
#   PG_URL=postgres://postgres@127.0.0.1:5432/test
#   PERF=1            also print the top symbols of `perf record` per scenario
#   MAX_SECS=540      watchdog: the run is aborted (and cleaned up) after this
# Any AUTHGATE_* variable set by the caller (e.g. AUTHGATE_LOG=warn) is
# passed to both server instances.
set -Eeuo pipefail

BACKEND=sqlite
case "${1:-}" in
  "") ;;
  --postgres) BACKEND=postgres ;;
  -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--postgres]" >&2; exit 2 ;;
esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
DURATION=${DURATION:-10}
LOGIN_CONNS=${LOGIN_CONNS:-32}
CONNS=${CONNS:-64}
PROBE_SECS=${PROBE_SECS:-8}
PROBE_DELAY_MS=${PROBE_DELAY_MS:-10}
OTP_USERS=${OTP_USERS:-5000}
WRK_THREADS=${WRK_THREADS:-1}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
PERF=${PERF:-0}
MAX_SECS=${MAX_SECS:-540}
CORES=$(nproc)
TCK=$(getconf CLK_TCK)

for tool in wrk python3 curl; do
  command -v "$tool" >/dev/null || { echo "load.sh: $tool is required (apt-get install -y wrk)" >&2; exit 1; }
done
[[ $BACKEND == postgres ]] && { command -v psql >/dev/null || { echo "load.sh: psql is required" >&2; exit 1; }; }

WORK=$(mktemp -d /tmp/authgate-load.XXXXXX)
SERVERS=()      # pids of authgate instances
CHILDREN=()     # background wrk / helper / perf pids
SCHEMAS=()      # PostgreSQL schemas to drop
WATCHDOG=""

log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }

stop_pid() {  # TERM, then KILL after 3 s; only the pid given
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? pid s f
  trap - EXIT INT TERM
  set +e   # clean up as much as possible, whatever fails
  [[ -n $WATCHDOG ]] && kill "$WATCHDOG" 2>/dev/null
  for pid in "${CHILDREN[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${SERVERS[@]}"; do stop_pid "$pid"; done
  for f in "$WORK"/*.pid; do   # servers whose start was interrupted
    [[ -f $f ]] && stop_pid "$(<"$f")"
  done
  for s in "${SCHEMAS[@]}"; do
    psql -q -X -d "$PG_URL" -c "DROP SCHEMA IF EXISTS \"$s\" CASCADE" >/dev/null 2>&1 \
      && log "dropped schema $s" || log "WARNING: could not drop schema $s"
  done
  if [[ $rc -ne 0 ]]; then
    log "FAILED (exit $rc); last server log lines:"
    tail -n 3 "$WORK"/*.log 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g' >&2
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
(
  trap 'kill "$sp" 2>/dev/null; exit 0' TERM
  sleep "$MAX_SECS" </dev/null >/dev/null 2>&1 & sp=$!
  wait "$sp" && { log "watchdog: $MAX_SECS s elapsed, aborting"; kill -TERM $$; }
) &
WATCHDOG=$!

# Runs a command in the background and waits, so a signal interrupts it.
run() { "$@" & local p=$!; CHILDREN+=("$p"); wait "$p"; }

# ------------------------------------------------------------ /proc readings
cpu_ticks() { local s; s=$(<"/proc/$1/stat"); s=${s##*) }; set -- $s; echo $(( ${12} + ${13} )); }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
reset_hwm() { echo 5 > "/proc/$1/clear_refs" 2>/dev/null || echo "(VmHWM not resettable: peak is since start)" >&2; }
busy_ticks() { awk '/^cpu / { print $2+$3+$4+$7+$8+$9 }' /proc/stat; }   # all cores, not idle/iowait
pg_ticks() {  # CPU of all PostgreSQL processes (0 on SQLite)
  [[ $BACKEND == postgres ]] || { echo 0; return; }
  local t=0 p
  for p in $(pgrep -x postgres || true); do t=$(( t + $(cpu_ticks "$p" 2>/dev/null || echo 0) )); done
  echo $t
}
secs() { awk -v t="$1" -v k="$TCK" 'BEGIN { printf "%.1f", t / k }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# ---------------------------------------------------------------- the server
SERVER_PID="" SERVER_URL="" READY_MS="" ADMIN_PW=""
start_server() {  # name datadir [VAR=value...]: sets SERVER_* READY_MS ADMIN_PW
  local name=$1 dir=$2; shift 2
  mkdir -p "$dir"
  local out
  # The caller's AUTHGATE_DATABASE_URL never applies: SQLite runs in the
  # temporary directory, PostgreSQL in the schemas created here.
  # Seeded users get known passwords: the operator's escape hatch.
  out=$(env -u AUTHGATE_DATABASE_URL AUTHGATE_DATA_DIR="$dir" AUTHGATE_LISTEN=127.0.0.1:0 \
        AUTHGATE_ADMIN_SET_PASSWORDS=true "$@" \
        python3 "$BENCH/helper.py" start --bin "$BIN" --pidfile "$WORK/$name.pid" \
          --stdout "$WORK/$name.out" --stderr "$WORK/$name.log")
  read -r SERVER_PID port READY_MS ADMIN_PW <<<"$out"
  SERVERS+=("$SERVER_PID")
  SERVER_URL="http://127.0.0.1:$port"
}

# ------------------------------------------------------------------ wrk runs
ROWS=()
declare -A R   # fields of the last RESULT line
parse_result() {
  R=()
  local line kv
  line=$(grep '^RESULT ' "$1" | tail -n 1) || { cat "$1" >&2; echo "no RESULT from wrk" >&2; return 1; }
  for kv in ${line#RESULT }; do R[${kv%%=*}]=${kv#*=}; done
}

perf_start() {
  PERF_PID=""
  [[ $PERF == 1 ]] || return 0
  perf record -q -F 499 -g -p "$1" -o "$WORK/perf.data" -- sleep "$2" >/dev/null 2>&1 &
  PERF_PID=$!; CHILDREN+=("$PERF_PID")
}
perf_show() {
  [[ -n ${PERF_PID:-} ]] || return 0
  wait "$PERF_PID" 2>/dev/null || true
  echo "    perf, top symbols ($1):"
  perf report -i "$WORK/perf.data" --no-children --sort dso,symbol -g none --percent-limit 1.5 2>/dev/null \
    | grep -E '^ +[0-9.]+%' | head -n 15 | sed 's/^/    /'
}

# wrk_run label script conns secs file [VAR=value...]: runs wrk against the
# current server, measures it, appends a row. Env BENCH_MARKERS=prefix makes
# it stop wrk once every thread has written prefix.done.<tid>.
wrk_run() {
  local label=$1 script=$2 conns=$3 dur=$4 file=$5; shift 5
  local pid=$SERVER_PID out="$WORK/wrk.$RANDOM.out" tfile="$WORK/wrk.time"
  local threads=$(( WRK_THREADS < conns ? WRK_THREADS : conns ))   # wrk needs -c >= -t
  reset_hwm "$pid"
  local c0 b0 p0
  c0=$(cpu_ticks "$pid"); b0=$(busy_ticks); p0=$(pg_ticks)
  perf_start "$pid" "$dur"
  (
    TIMEFORMAT='%U %S'
    { time env BENCH_DIR="$BENCH" BENCH_THREADS="$threads" BENCH_FILE="$file" "$@" \
        wrk -t"$threads" -c"$conns" -d"${dur}s" --timeout 10s -s "$BENCH/$script" "$SERVER_URL" \
        >"$out" 2>&1; } 2>"$tfile"
  ) &
  local w=$!; CHILDREN+=("$w")
  if [[ -n ${BENCH_MARKERS:-} ]]; then
    while kill -0 "$w" 2>/dev/null; do
      if [[ $(ls "$BENCH_MARKERS".done.* 2>/dev/null | wc -l) -ge $threads ]]; then
        sleep 0.3
        local wp; wp=$(pgrep -P "$w" -x wrk || true)
        [[ -n $wp ]] && kill -INT $wp 2>/dev/null
        break
      fi
      sleep 0.1
    done
  fi
  wait "$w" || { log "wrk failed:"; cat "$out" >&2; return 1; }
  local c1 b1 p1
  c1=$(cpu_ticks "$pid"); b1=$(busy_ticks); p1=$(pg_ticks)
  parse_result "$out"
  local cpu wrk_cpu other pg hwm
  cpu=$(( c1 - c0 )); pg=$(( p1 - p0 ))
  wrk_cpu=$(awk '{ printf "%.1f", $1 + $2 }' "$tfile")
  other=$(awk -v b=$(( b1 - b0 )) -v c=$(( cpu + pg )) -v w="$wrk_cpu" -v k="$TCK" \
    'BEGIN { o = (b - c) / k - w; printf "%.1f", (o < 0 ? 0 : o) }')
  hwm=$(status_kb "$pid" VmHWM)
  LAST_OK_RPS=${R[ok_rps]} LAST_P99=${R[p99_ms]} LAST_HWM=$hwm LAST_P50=${R[p50_ms]}
  local server_cpu pgcol=""
  server_cpu="$(secs $cpu) s ($(awk -v c="$cpu" -v k="$TCK" -v s="${R[secs]}" 'BEGIN { printf "%.2f", c / k / s }') cores)"
  local per_req
  per_req=$(awk -v c="$cpu" -v k="$TCK" -v n="${R[requests]}" 'BEGIN { if (n > 0) printf "%.0f", c / k / n * 1e6; else print "-" }')
  [[ $BACKEND == postgres ]] && pgcol=" | $(secs $pg) s"
  ROWS+=("| $label | ${R[rps]} | ${R[ok_rps]} | ${R[p50_ms]} | ${R[p99_ms]} | ${R[ok]} | $(( R[non200] + R[sock_err] + R[timeouts] )) | $server_cpu | $per_req$pgcol | $(mb "$hwm") | $wrk_cpu s | $other s | ${R[secs]} s |")
  printf '  %-34s %8s req/s  200s %8s/s  p50 %7s ms  p99 %7s ms  ok %7s  err %5s  cpu %s  peak RSS %s MB\n' \
    "$label" "${R[rps]}" "${R[ok_rps]}" "${R[p50_ms]}" "${R[p99_ms]}" "${R[ok]}" \
    "$(( R[non200] + R[sock_err] + R[timeouts] ))" "$server_cpu" "$(mb "$hwm")"
  perf_show "$label"
  if (( R[non200] + R[sock_err] + R[timeouts] > 0 )); then
    log "  (non-200: ${R[non200]} by status ${R[statuses]}, socket errors: ${R[sock_err]}, timeouts: ${R[timeouts]})"
  fi
  rm -f "$out"
}

# --------------------------------------------------------------------- start
log "authgate load benchmark: backend=$BACKEND, $CORES cores, work dir $WORK"
if [[ -n ${AUTHGATE_BIN:-} ]]; then
  BIN=$AUTHGATE_BIN
  log "using AUTHGATE_BIN=$BIN (no build)"
else
  log "building: cargo build --release --locked --bin authgate"
  (cd "$ROOT" && exec cargo build --release --locked --bin authgate) &
  BUILD=$!; CHILDREN+=("$BUILD"); wait "$BUILD"
  BIN="$ROOT/target/release/authgate"
fi
[[ -x $BIN ]] || { echo "load.sh: $BIN is not executable" >&2; exit 1; }
REV=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo "unknown revision")
[[ -n ${AUTHGATE_BIN:-} ]] && REV="given binary; source tree at $REV"

DB_ENV=()
db_env() {  # name: sets DB_ENV to (AUTHGATE_DATABASE_URL=...) on PostgreSQL, () on SQLite
  DB_ENV=()
  [[ $BACKEND == postgres ]] || return 0
  local schema="authgate_bench_$$_$1" sep='?'
  SCHEMAS+=("$schema")
  psql -q -X -v ON_ERROR_STOP=1 -d "$PG_URL" -c "CREATE SCHEMA \"$schema\"" >/dev/null
  [[ $PG_URL == *\?* ]] && sep='&'
  DB_ENV=("AUTHGATE_DATABASE_URL=${PG_URL}${sep}options=-csearch_path%3D${schema}")
  log "  PostgreSQL schema $schema"
}
if [[ $BACKEND == postgres ]]; then
  PGCONNECT_TIMEOUT=5 psql -q -X -d "$PG_URL" -c 'SELECT 1' >/dev/null \
    || { echo "load.sh: PostgreSQL at $PG_URL is not reachable" >&2; exit 1; }
fi

LOAD0=$(cut -d' ' -f1 /proc/loadavg)
T_START=$(date +%s)

# ---- Instance B first: its OTP users need time to pass their confirming
# code step (see helper.py otp-bodies), which instance A's scenarios provide.
# Seeding-only settings of B (neither is on the path of POST /v1/auth/otp):
# a cheap argon2 cost, and X-Forwarded-For trusted so that each seeded user
# logs in from its own made-up address (the password-stage limits count the
# recent login events of the client's address on every login, which makes
# thousands of logins from one address ever slower).
log "instance B (OTP scenario): AUTHGATE_ARGON2_MEMORY_KIB=64 AUTHGATE_ARGON2_ITERATIONS=1 AUTHGATE_TRUSTED_PROXIES=127.0.0.1/32"
B_ENV=(AUTHGATE_ARGON2_MEMORY_KIB=64 AUTHGATE_ARGON2_ITERATIONS=1 AUTHGATE_TRUSTED_PROXIES=127.0.0.1/32)
db_env b
start_server b "$WORK/b" "${B_ENV[@]}" "${DB_ENV[@]}"
B_PID=$SERVER_PID B_URL=$SERVER_URL B_READY=$READY_MS
sleep 1
B_IDLE=$(status_kb "$B_PID" VmRSS)
log "  ready in $B_READY ms, idle RSS $(mb "$B_IDLE") MB; seeding $OTP_USERS users with 2FA (3 challenges each)"
run python3 "$BENCH/helper.py" seed-otp --url "$B_URL" --admin-password="$ADMIN_PW" \
  --users "$OTP_USERS" --challenges 3 --spread-addresses --out "$WORK/otp_state.jsonl"

# ---- Instance A: default (OWASP) argon2 cost.
log "instance A: default argon2 cost (19 MiB, t=2, p=1)"
db_env a
# wrk is one client address standing for many users: lift the per-address
# share of the hashing pool so the storm measures the pool itself.
A_EXTRA=(AUTHGATE_HASH_PER_ADDRESS=100000 "${DB_ENV[@]}")
start_server a "$WORK/a" "${A_EXTRA[@]}"
A_PID=$SERVER_PID A_URL=$SERVER_URL A_READY=$READY_MS
sleep 1
A_IDLE=$(status_kb "$A_PID" VmRSS)
log "  ready in $A_READY ms (fresh database: migrations + bootstrap admin), idle RSS $(mb "$A_IDLE") MB"
log "  seeding 16 password-only users and $(( 2 * CONNS )) sessions"
run python3 "$BENCH/helper.py" seed-basic --url "$A_URL" --admin-password="$ADMIN_PW" \
  --users 16 --sessions $(( 2 * CONNS )) --out "$WORK/seed"
S="$WORK/seed"

echo
echo "== instance A ($BACKEND, default argon2 cost) =="
log "argon2 limit: sequential logins (1 connection, 4 s)"
wrk_run "login, sequential (1 conn)" login.lua 1 4 "$S/login_bodies.txt"
SEQ_MS=$LAST_P50   # the median resists noise from other processes better than the mean
ARGON2_LIMIT=$(awk -v c="$CORES" -v m="$SEQ_MS" 'BEGIN { printf "%.1f", c * 1000 / m }')
wrk_run "login, 2 conns (= cores)" login.lua 2 5 "$S/login_bodies.txt"
log "scenario 1: password-only login storm ($LOGIN_CONNS connections, ${DURATION}s)"
wrk_run "1. login storm ($LOGIN_CONNS conns)" login.lua "$LOGIN_CONNS" "$DURATION" "$S/login_bodies.txt"
S1_RPS=$LAST_OK_RPS; PEAK=$LAST_HWM; S1_HWM=$LAST_HWM
log "scenario 3: GET /v1/me ($CONNS connections)"
wrk_run "3. GET /v1/me" me.lua "$CONNS" "$DURATION" "$S/access_tokens.txt"
S3_RPS=$LAST_OK_RPS; (( LAST_HWM > PEAK )) && PEAK=$LAST_HWM
log "scenario 4: POST /v1/auth/refresh ($CONNS connections, $(( 2 * CONNS )) rotating sessions)"
wrk_run "4. POST /v1/auth/refresh" refresh.lua "$CONNS" "$DURATION" "$S/refresh_tokens.txt"
S4_RPS=$LAST_OK_RPS; (( LAST_HWM > PEAK )) && PEAK=$LAST_HWM

log "scenario 5: latency probes during a login storm ($LOGIN_CONNS connections)"
STORM_SECS=$(( 2 * PROBE_SECS + 4 ))
storm_out="$WORK/storm.out"
env BENCH_DIR="$BENCH" BENCH_THREADS=1 BENCH_FILE="$S/login_bodies.txt" \
  wrk -t1 -c"$LOGIN_CONNS" -d"${STORM_SECS}s" --timeout 10s -s "$BENCH/login.lua" "$A_URL" >"$storm_out" 2>&1 &
STORM=$!; CHILDREN+=("$STORM")
sleep 2
wrk_run "5. /healthz during storm" probe.lua 2 "$PROBE_SECS" /dev/null BENCH_PATH=/healthz BENCH_DELAY_MS="$PROBE_DELAY_MS"
S5H_P99=$LAST_P99; (( LAST_HWM > PEAK )) && PEAK=$LAST_HWM
wrk_run "5. /v1/me during storm" me.lua 2 "$PROBE_SECS" "$S/access_tokens.txt" BENCH_DELAY_MS="$PROBE_DELAY_MS"
S5M_P99=$LAST_P99; (( LAST_HWM > PEAK )) && PEAK=$LAST_HWM
wait "$STORM"
parse_result "$storm_out"
STORM_LINE="storm during the probes: ${R[ok_rps]} logins/s, p99 ${R[p99_ms]} ms, errors $(( R[non200] + R[sock_err] + R[timeouts] ))"
echo "  ($STORM_LINE)"
A_AFTER=$(status_kb "$A_PID" VmRSS)

log "restart of instance A on its existing database"
stop_pid "$A_PID"
start_server a2 "$WORK/a" "${A_EXTRA[@]}"
A2_READY=$READY_MS
sleep 1
A2_IDLE=$(status_kb "$SERVER_PID" VmRSS)
stop_pid "$SERVER_PID"

# ---- Instance C: one client floods unknown-email logins while the owners
# log in. C trusts 127.0.0.1 as its proxy, so the flood's X-Forwarded-For
# makes it one outside address; the owners log in from 127.0.0.1, the
# address they were seeded from (familiar to their accounts). Default
# per-address share of the hashing pool (AUTHGATE_HASH_PER_ADDRESS).
log "scenario 6: owners' logins while one address floods unknown-email logins (instance C)"
db_env c
start_server c "$WORK/c" AUTHGATE_TRUSTED_PROXIES=127.0.0.1/32 "${DB_ENV[@]}"
C_PID=$SERVER_PID
# Two workers: C keeps the default per-address share of the hashing pool
# (AUTHGATE_HASH_PER_ADDRESS = cores), and the seeding comes from one address.
run python3 "$BENCH/helper.py" seed-basic --url "$SERVER_URL" --admin-password="$ADMIN_PW" \
  --users 16 --sessions 16 --workers 2 --out "$WORK/seed_c"
flood_out="$WORK/flood.out"
env BENCH_DIR="$BENCH" BENCH_THREADS=1 BENCH_FORWARDED_FOR=203.0.113.66 \
  wrk -t1 -c"$LOGIN_CONNS" -d"$(( PROBE_SECS + 4 ))s" --timeout 10s -s "$BENCH/flood.lua" "$SERVER_URL" >"$flood_out" 2>&1 &
FLOOD=$!; CHILDREN+=("$FLOOD")
sleep 2
wrk_run "6. owners' logins during a flood" login.lua 2 "$PROBE_SECS" "$WORK/seed_c/login_bodies.txt" BENCH_DELAY_MS=50
S6_OK=$LAST_OK_RPS S6_P99=$LAST_P99 S6_ERR=$(( R[non200] + R[sock_err] + R[timeouts] ))
wait "$FLOOD"
parse_result "$flood_out"
FLOOD_LINE="flood during scenario 6: ${R[rps]} unknown-email logins/s from one address, answered ${R[statuses]} (non-200 by status), ${R[ok]} 200s"
echo "  ($FLOOD_LINE)"
stop_pid "$C_PID"

# ---- Back to instance B: the OTP step.
echo
echo "== instance B (cheap argon2: 64 KiB, t=1 - the OTP step never hashes) =="
SERVER_PID=$B_PID SERVER_URL=$B_URL
run python3 "$BENCH/helper.py" otp-bodies --state "$WORK/otp_state.jsonl" \
  --out "$WORK/otp_bodies" --threads "$WRK_THREADS" --passes 3
log "scenario 2: POST /v1/auth/otp, fresh codes, no replays ($CONNS connections)"
BENCH_MARKERS="$WORK/otp_bodies" wrk_run "2. POST /v1/auth/otp" otp.lua "$CONNS" "$DURATION" "$WORK/otp_bodies"
S2_RPS=$LAST_OK_RPS; B_HWM=$LAST_HWM
B_AFTER=$(status_kb "$B_PID" VmRSS)
T_TOTAL=$(( $(date +%s) - T_START ))

# ------------------------------------------------------------------- report
LOAD1=$(cut -d' ' -f1 /proc/loadavg)
echo
echo "## Results ($BACKEND, $(date -u +'%Y-%m-%d %H:%M UTC'))"
echo
echo "Machine: $CORES x $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/MemTotal/ { printf "%.1f GiB", $2/1048576 }' /proc/meminfo) RAM;" \
  "load average before $LOAD0, after $LOAD1; wrk $WRK_THREADS thread(s) on the same machine."
echo "Binary: $BIN ($REV); server log level: ${AUTHGATE_LOG:-info (default)}; workers: ${AUTHGATE_WORKERS:-default ($CORES)}."
echo "Scenario 2 ran on instance B, seeded with argon2 64 KiB / t=1 (AUTHGATE_ARGON2_MEMORY_KIB=64, AUTHGATE_ARGON2_ITERATIONS=1): the OTP step never hashes."
echo "B also trusts X-Forwarded-For (AUTHGATE_TRUSTED_PROXIES=127.0.0.1/32) so that seeding spreads its $(( OTP_USERS * 4 )) logins over one made-up address per user; the OTP requests themselves carry no such header."
echo
pghead="" pgsep=""
[[ $BACKEND == postgres ]] && { pghead=" PostgreSQL CPU |"; pgsep="---|"; }
echo "| scenario | req/s | 200s/s | p50 ms | p99 ms | 200s | errors | server CPU (cores busy) | server CPU µs/req |$pghead peak RSS MB | wrk CPU | other CPU | measured |"
echo "|---|---|---|---|---|---|---|---|---|${pgsep}---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "- $STORM_LINE"
echo "- $FLOOD_LINE"
echo "- start to ready (first 200 from /readyz): instance A fresh database $A_READY ms, restart $A2_READY ms; instance B fresh $B_READY ms"
echo "- idle RSS before load: A $(mb "$A_IDLE") MB, B $(mb "$B_IDLE") MB, A after restart $(mb "$A2_IDLE") MB; after load: A $(mb "$A_AFTER") MB, B $(mb "$B_AFTER") MB"
echo "- argon2 limit: $CORES cores / $SEQ_MS ms (median sequential login: one argon2id verification plus the rest of the request) = $ARGON2_LIMIT logins/s"
echo "- 'other CPU': CPU used on the machine by neither the server${pghead:+, PostgreSQL} nor wrk during the run (noise)"
echo "- total run time ${T_TOTAL}s (plus the build)"
echo
verdict() { awk -v m="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == ">=") ? (m >= t) : (m < t); print (ok ? "met" : "NOT met") }'; }
RATIO=$(awk -v a="$S1_RPS" -v b="$ARGON2_LIMIT" 'BEGIN { printf "%.0f", 100 * a / b }')
IDLE_MAX=$A_IDLE; (( B_IDLE > IDLE_MAX )) && IDLE_MAX=$B_IDLE
(( B_HWM > PEAK )) && PEAK=$B_HWM
READY_MAX=$(awk -v a="$A_READY" -v b="$A2_READY" -v c="$B_READY" 'BEGIN { m = a; if (b > m) m = b; if (c > m) m = c; print m }')
echo "| target | measured | verdict |"
echo "|---|---|---|"
echo "| password-login throughput >= 90 % of the argon2 limit | $S1_RPS/s = $RATIO % of $ARGON2_LIMIT/s | $(verdict "$RATIO" 90 ">=") |"
if [[ $BACKEND == sqlite ]]; then
  echo "| OTP step on SQLite >= 3,000 req/s | $S2_RPS/s | $(verdict "$S2_RPS" 3000 ">=") |"
else
  echo "| OTP step (target is for SQLite: 3,000 req/s) | $S2_RPS/s | (information) |"
fi
echo "| GET /v1/me >= 20,000 req/s | $S3_RPS/s | $(verdict "$S3_RPS" 20000 ">=") |"
echo "| p99 /healthz during a login storm < 20 ms | $S5H_P99 ms | $(verdict "$S5H_P99" 20 "<") |"
echo "| p99 /v1/me during a login storm < 20 ms | $S5M_P99 ms | $(verdict "$S5M_P99" 20 "<") |"
echo "| idle RSS < 20 MB | $(mb "$IDLE_MAX") MB | $(verdict "$(mb "$IDLE_MAX")" 20 "<") |"
echo "| RSS under load < 100 MB | $(mb "$PEAK") MB (login storm $(mb "$S1_HWM") MB) | $(verdict "$(mb "$PEAK")" 100 "<") |"
echo "| owners' logins all succeed while one address floods | $S6_OK/s, p99 $S6_P99 ms, $S6_ERR refused | $( (( S6_ERR == 0 )) && echo met || echo "NOT met") |"
echo "| start to ready < 300 ms | $READY_MAX ms (worst of fresh/restart) | $(verdict "$READY_MAX" 300 "<") |"
echo "| (refresh, no target) | $S4_RPS/s | |"
