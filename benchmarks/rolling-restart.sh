#!/usr/bin/env bash
# Issue 18 point 9 (docs/benchmarks.md, "Rolling restart"): five nodes started with the README's "Running a cluster"
# command on one fresh PostgreSQL database, under the load of `bank bench --duration` (a soak through ClusterClient
# that checks every balance at its end); each node in turn stopped with SIGTERM and started again with the same command,
# then the oldest killed with kill -9 and started again. A node is ready when its /health/ready answers 200. Prints: a
# lone `bank start --head` from start to ready, the five formed by bootstrap, each node from start to ready when it
# joins, the rolling restart's duration, and the soak's verdict with its slowest call (max_ms).
# Usage: benchmarks/rolling-restart.sh [--connection PG] [--bank PATH] [--duration 180s]
# PG: a connection string whose user may create databases (each run makes its own and drops it). PATH: a `bank` to
# run (default: this checkout, built in Release).
set -euo pipefail
cd "$(dirname "$0")/.."
connection="${BANK_TEST_POSTGRES:-Host=127.0.0.1;Port=5432;Database=bank;Username=bank;Password=bank}"
bank="" duration=180s
while [ $# -gt 0 ]; do
  case "$1" in
    --connection) connection="$2"; shift 2 ;;
    --bank) bank="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    *) echo "usage: $0 [--connection PG] [--bank PATH] [--duration 180s]" >&2; exit 2 ;;
  esac
done
if [ -z "$bank" ]; then
  dotnet build src/Nodes -c Release -v quiet -nologo >/dev/null
  bank="dotnet $(pwd)/src/Nodes/bin/Release/net10.0/bank.dll"
fi
work="$(mktemp -d)" db="rolling_${RANDOM}${RANDOM}"
pids=()
psql_admin() { python3 - "$connection" "$1" <<'PY'
import subprocess, sys
kv = dict(p.split("=", 1) for p in sys.argv[1].split(";") if p)
env = {"PGPASSWORD": kv.get("Password", "")}
subprocess.run(["psql", "-q", "-h", kv.get("Host", "127.0.0.1"), "-p", kv.get("Port", "5432"), "-U", kv["Username"], "-d", kv.get("Database", "postgres"),
                "-c", sys.argv[2]], check=True, env={**__import__("os").environ, **env}, stdout=subprocess.DEVNULL)
PY
}
cleanup() {
  # The nodes still running at the end (or after a failure); waited for, so that the shell reports nothing about them.
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  psql_admin "drop database if exists ${db} with (force)" || true
  psql_admin "drop database if exists ${db}_lone with (force)" || true
  rm -rf "$work"
}
trap cleanup EXIT
psql_admin "create database $db"
psql_admin "create database ${db}_lone"
export BANK__CONNECTION="${connection/Database=bank/Database=$db}"
now() { date +%s.%N; }
since() { python3 -c "print(f'{$(now) - $1:.1f}')"; }
# Waits until /health/ready on port $1 answers 200 (within two minutes).
ready() { for _ in $(seq 1200); do curl -sf -o /dev/null "http://127.0.0.1:$1/health/ready" && return 0; sleep 0.1; done; echo "port $1 never ready" >&2; return 1; }
# Sends SIGTERM to pid $1 and waits until it is gone (it is this shell's child).
stop() { kill -TERM "$1"; wait "$1" || true; }

ports=(4253 4254 4255 4256 4257) management=(8658 8659 8660 8661 8662) http=(8365 8366 8367 8368 8369)
points="$(printf '127.0.0.1:%s,' "${management[@]}")"; points="${points%,}"
addresses="$(printf '127.0.0.1:%s,' "${ports[@]}")"; addresses="${addresses%,}"
# The README's command, node $1.
start_node() {
  $bank start --discovery config --contact-points "$points" --required-contact-points 5 --journal postgres \
    --port "${ports[$1]}" --management-port "${management[$1]}" --http-port "${http[$1]}" >>"$work/node$1.log" 2>&1 &
  pids[$1]=$!
}

echo "# rolling restart $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -sr), load: bank bench --duration $duration --rate 50"
t="$(now)"
BANK__CONNECTION="${connection/Database=bank/Database=${db}_lone}" $bank start --head --port 4252 --http-port 8364 --journal postgres >"$work/lone.log" 2>&1 &
lone=$!; pids+=("$lone")
ready 8364; echo "lone head: start to ready $(since "$t") s"; stop "$lone"

for i in 4 3 2 1; do start_node "$i"; done
t="$(now)"; start_node 0
for i in 0 1 2 3 4; do ready "${http[$i]}"; done
echo "five nodes by bootstrap: ready $(since "$t") s after the lowest contact point started (last)"

$bank bench --duration "$duration" --rate 50 --accounts 20 --address "$addresses" --json >"$work/soak.json" 2>"$work/soak.log" &
soak=$!
sleep 10
rolling="$(now)"
for i in 0 1 2 3 4; do
  t="$(now)"; stop "${pids[$i]}"; stopped="$(since "$t")"
  t="$(now)"; start_node "$i"; ready "${http[$i]}"
  echo "node $i: SIGTERM to exit ${stopped} s, start to ready (joining) $(since "$t") s"
done
echo "rolling restart of five under load: $(since "$rolling") s"
oldest="$($bank cluster show --json --address "127.0.0.1:${ports[1]}" | python3 -c 'import json,sys; print([m["address"] for m in json.load(sys.stdin)["members"] if m.get("oldest")][0].rsplit(":",1)[1])')"
for i in 0 1 2 3 4; do [ "${ports[$i]}" = "$oldest" ] && o=$i; done
kill -9 "${pids[$o]}"; wait "${pids[$o]}" 2>/dev/null || true
t="$(now)"; start_node "$o"; ready "${http[$o]}"
echo "node $o (the oldest): kill -9, start to ready (joining) $(since "$t") s"
wait "$soak" || true
python3 - "$work/soak.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f'soak: passed={r["passed"]} conserved={r["conserved"]} balances_verified={r["balances_verified"]} unresolved={r["unresolved"]} '
      f'ops={r["ops"]} ({r["ops_per_s"]}/s) resends={r["resends"]} errors={json.dumps(r["errors"])} '
      f'p50={r["p50_ms"]} p99={r["p99_ms"]} p99.9={r["p999_ms"]} slowest={r["max_ms"]} ms')
PY
