#!/usr/bin/env bash
# A real Prometheus scrapes examples/metrics_service every second; its HTTP API must
# then return the pool figures the service itself reports on /metrics.
#   prometheus_scrape.sh <metrics_service> <prometheus> <service port> <prometheus port>
# Ends by itself (at most ~60 s), killing Prometheus and the service, and removing
# its temporary directory, whatever happens.
set -euo pipefail
service=$1 prometheus=$2 sport=$3 pport=$4

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# Polls `cmd` every 0.2 s until it succeeds, or fails after $1 seconds.
wait_for() {
  local limit=$1; shift
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$end" ]; then echo "timed out after ${limit}s waiting for: $*" >&2; return 1; fi
    sleep 0.2
  done
}

"$service" "$sport" "$tmp/service.db" >"$tmp/service.log" 2>&1 &
pids+=($!)
wait_for 20 curl -fsS "http://127.0.0.1:$sport/health/live" || { cat "$tmp/service.log"; exit 1; }
curl -fsS "http://127.0.0.1:$sport/health/ready"

cat >"$tmp/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: appinfra
    static_configs:
      - targets: ['127.0.0.1:$sport']
YML
"$prometheus" --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
  --web.listen-address="127.0.0.1:$pport" >"$tmp/prometheus.log" 2>&1 &
pids+=($!)

query() {  # query <promql>: the API's JSON
  curl -fsS --get "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1"
}
has_result() { query "$1" | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["data"]["result"] else 1)'; }
if ! wait_for 40 has_result 'appinfra_pool_connections{db="primary"}'; then
  echo "--- prometheus.log"; tail -20 "$tmp/prometheus.log"; exit 1
fi

# What the service says, and what Prometheus read from it.
served=$(curl -fsS "http://127.0.0.1:$sport/metrics")
json=$(query 'appinfra_pool_connections')
echo "Prometheus: /api/v1/query?query=appinfra_pool_connections -> $json"
SERVED="$served" JSON="$json" python3 - <<'PY'
import json, os, re, sys
served = {}
for line in os.environ["SERVED"].splitlines():
    m = re.match(r'appinfra_pool_connections\{db="primary",state="(\w+)"\} (\S+)$', line)
    if m:
        served[m.group(1)] = float(m.group(2))
read = {r["metric"]["state"]: float(r["value"][1])
        for r in json.loads(os.environ["JSON"])["data"]["result"] if r["metric"].get("db") == "primary"}
want = {"idle": 2.0, "checked_out": 1.0}
print("served:", served, "read back:", read)
if served != want or read != want:
    sys.exit(f"expected {want} both served and read back")
PY
# A counter too.
curl -fsS --get "http://127.0.0.1:$pport/api/v1/query" --data-urlencode 'query=appinfra_pool_acquired_total{db="primary"}' |
  python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print("acquired_total:", r[0]["value"][1]); sys.exit(0 if float(r[0]["value"][1]) >= 3 else 1)'
echo "ok"
