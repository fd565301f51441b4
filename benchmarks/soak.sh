#!/usr/bin/env bash
# The 60-minute soak of docs/benchmarks.md: `bank bench --duration 60m --rate 300 --chaos` on an embedded node over
# PostgreSQL (a database of its own), memory sampled every 10 s, then the plot. Usage:
#   benchmarks/soak.sh CONNECTION_STRING [DURATION (60m)] [RATE (300)] [OUT_DIR (docs/)]
# The database must exist and be empty; the build goes to a folder of its own so that other builds do not disturb the run.
set -euo pipefail
cd "$(dirname "$0")/.."
connection="$1"; duration="${2:-60m}"; rate="${3:-300}"; out="${4:-docs}"
bin="$(mktemp -d)"
dotnet publish src/Nodes -c Release -o "$bin" -v quiet -nologo >/dev/null
mkdir -p "$out"
echo "# bank bench --duration $duration --rate $rate --accounts 1000 --chaos, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -sr)" >&2
"$bin/bank" bench --duration "$duration" --rate "$rate" --accounts 1000 --chaos --journal postgres --connection "$connection" \
  --samples "$out/soak-samples.csv" --json > "$out/soak-summary.json"
dotnet run --project benchmarks/Plot -c Release -- --soak "$out/soak-samples.csv" "$out/soak-memory.png" \
  --title "bank bench --duration $duration --rate $rate --chaos (PostgreSQL, $(nproc) cores): memory"
rm -rf "$bin"
