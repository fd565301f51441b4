#!/usr/bin/env bash
# One round of issue 19's targets (docs/benchmarks.md, "Round two"): every target's command, RUNS times, this
# checkout's build alternated run by run with BASE's (who goes first alternates too), the Orleans peer beside the
# embedded runs. Every run is kept: OUT.jsonl has one line per run ({"target","build","run",...the command's JSON}),
# and the summary printed at the end lists every run of every target, never the best one. Usage:
#   benchmarks/round.sh [--base REV] [--runs N] [--targets LIST] [--connection PG] [OUT (round)]
# LIST is a comma list of: sqlite, rate, remote, postgres, opens, recovery, balance (default: all). The opens target
# (100,000 accounts) takes minutes a run. PG is a PostgreSQL connection string whose user may create databases; each
# postgres run gets a database of its own, dropped afterwards. Builds are published to folders of their own.
set -euo pipefail
cd "$(dirname "$0")/.."
base="" runs=3 targets="sqlite,rate,remote,postgres,opens,recovery,balance"
connection="${BANK_TEST_POSTGRES:-Host=127.0.0.1;Port=5432;Database=bank;Username=bank;Password=bank}"
while [ $# -gt 0 ]; do
  case "$1" in
    --base) base="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --targets) targets="$2"; shift 2 ;;
    --connection) connection="$2"; shift 2 ;;
    *) break ;;
  esac
done
out="${1:-round}"
work="$(mktemp -d)"
trap 'pkill -f "$work/" 2>/dev/null || true; [ -n "$base" ] && git worktree remove --force "$work/src-base" 2>/dev/null; rm -rf "$work"' EXIT

# A platform publish, as the README installs bank: ReadyToRun where the build asks for it (src/Nodes/Nodes.csproj).
publish() { dotnet publish "$1/src/Nodes" -c Release -r linux-x64 --self-contained false -o "$2" -v quiet -nologo -p:UseSharedCompilation=false >/dev/null; }
head_rev="$(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo '+changes')"
publish . "$work/head"
builds=("head:$head_rev")
if [ -n "$base" ]; then
  git worktree add -q --detach "$work/src-base" "$base"
  publish "$work/src-base" "$work/base"
  builds+=("base:$(git rev-parse --short "$base")")
fi
dotnet build benchmarks/OrleansPeer -c Release -v quiet -nologo -p:UseSharedCompilation=false >/dev/null
peer="benchmarks/OrleansPeer/bin/Release/net10.0/orleans-peer"
echo "# round $(date -u +%Y-%m-%dT%H:%MZ), builds ${builds[*]}, runs $runs, $(nproc) cores, $(uname -sr)" | tee "$out.jsonl" >&2

# Keeps one run's JSON with its target, build and run number.
record() { python3 -c 'import json,sys; d=json.loads(sys.argv[4]); d.update(target=sys.argv[1],build=sys.argv[2],run=int(sys.argv[3])); print(json.dumps(d))' "$@" >> "$out.jsonl"; }
# Waits until a node at 127.0.0.1:$2 answers `bank status`.
await_node() { for _ in $(seq 120); do "$1" status --address "127.0.0.1:$2" >/dev/null 2>&1 && return 0; sleep 0.5; done; echo "node on $2 did not start" >&2; return 1; }
start_head() { "$1" start --head --port "$2" --no-dashboard --data "$3" >"$3.log" 2>&1 & echo $!; }
# The node is not this shell's child (it was started in a command substitution): wait for it to be gone.
stop_node() { kill -TERM "$1" 2>/dev/null || true; while kill -0 "$1" 2>/dev/null; do sleep 0.2; done; }

run_target() {
  local target="$1" build="$2" run="$3" bank="$work/${build%%:*}/bank" data; data="$(mktemp -d -p "$work")"
  case "$target" in
    sqlite) for store in off on; do
        record "sqlite-store-$store" "$build" "$run" "$("$bank" bench --state-store "$store" --data "$data/$store" --json 2>/dev/null)"; done ;;
    rate) record rate "$build" "$run" "$("$bank" bench --rate 10000 --state-store off --data "$data" --json 2>/dev/null)" ;;
    remote)
      local pid; pid="$(start_head "$bank" 4161 "$data/node")"; await_node "$bank" 4161
      record remote "$build" "$run" "$("$bank" bench --address 127.0.0.1:4161 --json 2>/dev/null)"
      stop_node "$pid" ;;
    postgres)
      local db="round_${RANDOM}_$run"
      PGPASSWORD=bank psql -q -h 127.0.0.1 -U bank -d bank -c "create database $db" >/dev/null
      record postgres "$build" "$run" "$("$bank" bench --journal postgres --connection "${connection/Database=bank/Database=$db}" --state-store off --json 2>/dev/null)"
      PGPASSWORD=bank psql -q -h 127.0.0.1 -U bank -d bank -c "drop database $db with (force)" >/dev/null ;;
    opens) record opens "$build" "$run" "$("$bank" bench --accounts 100000 --ops 1 --concurrency 1000 --state-store off --warmup 0 --data "$data" --json)" ;;
    recovery) record recovery "$build" "$run" "$("$bank" bench --recovery 100000 --data "$data" --json 2>/dev/null)" ;;
    balance)
      local pid; pid="$(start_head "$bank" 4162 "$data/node")"; await_node "$bank" 4162
      "$bank" open round-balance --balance 100 --detached --address 127.0.0.1:4162 >/dev/null
      "$bank" balance round-balance --address 127.0.0.1:4162 >/dev/null
      local walls=() cpus=()
      for _ in 1 2 3 4 5 6 7 8; do
        /usr/bin/time -f '%e %U %S' -o "$data/time" "$bank" balance round-balance --address 127.0.0.1:4162 >/dev/null
        read -r wall user sys < "$data/time"; walls+=("$wall"); cpus+=("$(python3 -c "print(round($user+$sys,2))")")
      done
      record balance "$build" "$run" "{\"wall_s\":[$(IFS=,; echo "${walls[*]}")],\"cpu_s\":[$(IFS=,; echo "${cpus[*]}")]}"
      stop_node "$pid" ;;
  esac
  rm -rf "$data"
}

for target in ${targets//,/ }; do
  for run in $(seq "$runs"); do
    order=("${builds[@]}")
    if [ $((run % 2)) -eq 0 ] && [ "${#builds[@]}" -eq 2 ]; then order=("${builds[1]}" "${builds[0]}"); fi
    for build in "${order[@]}"; do
      echo "# $(date -u +%H:%M:%S) $target run $run: $build" >&2
      run_target "$target" "$build" "$run"
    done
    if [ "$target" = sqlite ]; then
      echo "# $(date -u +%H:%M:%S) $target run $run: orleans" >&2
      record orleans "orleans:10.4.2" "$run" "$("$peer" --json 2>/dev/null)"
    fi
  done
done

python3 - "$out.jsonl" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def fig(r):
    t = r["target"]
    if t == "recovery": return f'without snapshot {r["without_snapshot_ms"]} ms, with {r["with_snapshot_ms"]} ms'
    if t == "balance": return f'wall {r["wall_s"]} s, cpu {r["cpu_s"]} s'
    if t == "opens": return f'opens {r["opens_per_s"]}/s, working set after opens {r["working_set_after_opens_mb"]} MB, heap {r["gc_heap_after_opens_mb"]} MB'
    return f'{r["ops_per_s"]}/s p50 {r["p50_ms"]} p99 {r["p99_ms"]} ms, {r.get("allocated_bytes_per_op")} B/op' + (f', {r["hops_per_op"]} hops/op ({r["account_hops_per_op"]} account)' if r.get("hops_per_op") is not None else "")
for target in dict.fromkeys(r["target"] for r in rows):
    print(f"## {target}")
    for r in rows:
        if r["target"] == target: print(f'  run {r["run"]} {r["build"]}: {fig(r)}')
EOF
