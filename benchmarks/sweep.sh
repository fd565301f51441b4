#!/usr/bin/env bash
# Throughput against concurrency: `bank bench --json` on an embedded node (SQLite in a fresh folder per run), the state
# store on and off, and the Orleans peer (benchmarks/OrleansPeer, memory grain storage) right after bank at each
# concurrency, then the plot. Usage: benchmarks/sweep.sh [OUT_DIR] (default docs/); takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs}"
mkdir -p "$out"
dotnet build src/Nodes -c Release -v quiet -nologo >/dev/null
dotnet build benchmarks/OrleansPeer -c Release -v quiet -nologo >/dev/null
bank="src/Nodes/bin/Release/net10.0/bank"
peer="benchmarks/OrleansPeer/bin/Release/net10.0/orleans-peer"
results="$out/bench-concurrency.jsonl"
echo "# bank bench --json, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -sr)" > "$results"
for store in off on; do
  for concurrency in 1 10 100 1000; do
    ops=100; [ "$concurrency" -lt 100 ] && ops=20
    data="$(mktemp -d)"
    "$bank" bench --accounts 1000 --ops "$ops" --concurrency "$concurrency" --state-store "$store" --data "$data" --json >> "$results"
    rm -rf "$data"
    # Orleans has no state store: one run per concurrency, beside bank's runs with the store off.
    if [ "$store" = off ]; then
      "$peer" --accounts 1000 --ops "$ops" --concurrency "$concurrency" --json >> "$results"
    fi
  done
done
dotnet run --project benchmarks/Plot -c Release -- "$results" "$out/bench-concurrency.png" --title "deposits/s against concurrent callers: bank (SQLite) and Orleans (memory storage), 2 cores"
