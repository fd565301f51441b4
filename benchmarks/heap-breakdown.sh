#!/usr/bin/env bash
# Issue 19 (docs/benchmarks.md, "What 100,000 live accounts hold"): opens N accounts on an embedded node (`bank bench
# --hold-open`), takes a heap dump of the process while every account is open (dotnet-gcdump, a local tool of this
# repository) and prints the dump's largest types by the bytes they hold, with the working set and the managed heap
# the bench printed.
# Usage: benchmarks/heap-breakdown.sh [--accounts 100000] [--top 30] [--bank PATH] [-- EXTRA BENCH OPTIONS]
# Environment variables a run passes on to bank (DOTNET_GCgen0size=..., DOTNET_GCConserveMemory=...) apply as usual.
set -euo pipefail
cd "$(dirname "$0")/.."
accounts=100000 top=30 bank=""
while [ $# -gt 0 ]; do
  case "$1" in
    --accounts) accounts="$2"; shift 2 ;;
    --top) top="$2"; shift 2 ;;
    --bank) bank="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "usage: $0 [--accounts N] [--top N] [--bank PATH] [-- EXTRA BENCH OPTIONS]" >&2; exit 2 ;;
  esac
done
dotnet tool restore >/dev/null
if [ -z "$bank" ]; then
  dotnet build src/Nodes -c Release -v quiet -nologo >/dev/null
  bank="dotnet $(pwd)/src/Nodes/bin/Release/net10.0/bank.dll"
fi
work="$(mktemp -d)"
bench_pid=""
cleanup() {
  if [ -n "$bench_pid" ]; then kill "$bench_pid" 2>/dev/null || true; wait "$bench_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The deposits after the hold are one per account; the hold is long enough for the dump of a 1 GB heap.
$bank bench --accounts "$accounts" --ops 1 --concurrency 1000 --state-store off --warmup 0 --progress 0 --hold-open 120 \
  --data "$work/data" "$@" >/dev/null 2>"$work/bench.err" &
bench_pid=$!
pid=""
for _ in $(seq 1 1800); do
  pid="$(sed -n 's/^bench: all [0-9]* accounts open in process \([0-9]*\);.*/\1/p' "$work/bench.err")"
  [ -n "$pid" ] && break
  kill -0 "$bench_pid" 2>/dev/null || { cat "$work/bench.err" >&2; echo "heap-breakdown: the bench ended before its accounts were open" >&2; exit 1; }
  sleep 1
done
[ -n "$pid" ] || { echo "heap-breakdown: $accounts accounts were not open within 30 minutes" >&2; exit 1; }
rss_kb="$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")"
dotnet gcdump collect -p "$pid" -o "$work/heap.gcdump" >/dev/null
echo "accounts open: $accounts; working set at the dump: $((rss_kb / 1024)) MB"
dotnet gcdump report "$work/heap.gcdump" >"$work/report.txt"
head -n 3 "$work/report.txt"
# The report gives each type's object size and count; the table sums them per type, largest first, and per account.
awk -v accounts="$accounts" -v top="$top" 'NR > 4 && $1 ~ /^[0-9,]+$/ {
    size = $1; count = $2; gsub(",", "", size); gsub(",", "", count); $1 = ""; $2 = ""; sub(/^ +/, "")
    bytes[$0] += size * count; objects[$0] += count; all += size * count }
  END {
    printf "%12s %9s %10s  %s\n", "bytes", "objects", "B/account", "type"
    for (t in bytes) printf "%12d %9d %10.1f  %s\n", bytes[t], objects[t], bytes[t] / accounts, t | "sort -n -r | head -n " top
    close("sort -n -r | head -n " top)
    printf "%12d %9s %10.1f  %s\n", all, "", all / accounts, "(every type in the dump)" }' "$work/report.txt"
kill "$bench_pid" 2>/dev/null || true
wait "$bench_pid" 2>/dev/null || true
bench_pid=""
