#!/usr/bin/env bash
# Fuzz the API against its own OpenAPI schema with random seeds, for longer than the test
# suite does (the suite's schemathesis run is derandomised and bounded). Builds a small
# marketplace store, serves it on a free port, and runs schemathesis' CLI against it with
# every check. Usage: bash scripts/fuzz_api.sh [MAX_EXAMPLES per operation, default 300]
# The seed is printed; pass SEED=<n> to repeat a run.
set -euo pipefail
cd "$(dirname "$0")/.."

examples="${1:-300}"
seed="${SEED:-$RANDOM$RANDOM}"
work="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

export GRAPHFRAUD_STORE_URL="duckdb:///$work/graph.duckdb"
key="fuzz-$RANDOM$RANDOM"
export GRAPHFRAUD_API_INVESTIGATOR_KEYS="[\"$key\"]"
export GRAPHFRAUD_API_READ_KEYS="[\"read-$key\"]"
python3 -m graphfraud generate --accounts 3000 --seed 5 --out "$work/data" >/dev/null
python3 -m graphfraud load "$work/data" >/dev/null
python3 -m graphfraud detect >/dev/null
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 -m graphfraud serve --port "$port" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    sleep 0.2
done
echo "fuzzing with seed $seed, $examples examples per operation"
python3 -m schemathesis.cli run "http://127.0.0.1:$port/openapi.json" \
    --header "X-API-Key: $key" --checks all --max-examples "$examples" --seed "$seed"
