#!/usr/bin/env bash
# Black-box tests of meridian-node (ctest meridian_node_cli, label unit: no Kafka, log: memory):
#   --help exits 0; a bad config names the field and exits 2; the node serves HTTP (upsert,
#   then a session search sees it: read-your-writes), GET /metrics passes promtool and has every
#   metric dashboards/meridian.json and deploy/prometheus's alerts query (also on the separate
#   listen.metrics listener, which serves nothing else, and over mutual TLS with
#   listen.metrics_tls), and SIGTERM shuts it down with exit 0.
# Usage: meridian_node_cli_test.sh MERIDIAN_NODE GEN_CERTS
set -euo pipefail
node=${1:?meridian-node binary}
gen_certs=${2:?tests/gen_certs.sh}
source "$(dirname "${BASH_SOURCE[0]}")/../../../tests/lib.sh"  # work, fail, http, start_node, ...

# --help
"$node" --help >"$work/help.txt" || fail "--help exited $?"
grep -q -- "--config" "$work/help.txt" || fail "--help does not mention --config"
echo "ok: --help"
set +e
"$node" >/dev/null 2>&1
status=$?
set -e
[[ $status -eq 2 ]] || fail "no --config exited $status, expected 2"
echo "ok: missing --config -> exit 2"

make_certs
write_config() {  # file collections-dimension
  cat >"$1" <<YAML
region: {name: solo, id: 1}
regions:
  - {name: solo, id: 1}
log: {kind: memory}
tls: {ca: certs/ca.pem, cert: certs/node.pem, key: certs/node.key}
listen: {grpc: 127.0.0.1:0, http: 127.0.0.1:0, metrics: 127.0.0.1:0}
collections:
  - {name: docs, dimension: $2, metric: l2, index: flat, shards: 4}
YAML
}

# A bad config: the message names the file, line and field; exit status 2.
write_config "$work/bad.yaml" 0
set +e
"$node" --config "$work/bad.yaml" >"$work/bad.out" 2>"$work/bad.err"
status=$?
set -e
[[ $status -eq 2 ]] || fail "bad config exited $status, expected 2"
grep -q "bad.yaml:8: collections\[0\].dimension: must be an integer in 1..4096" "$work/bad.err" ||
  fail "bad config message: $(cat "$work/bad.err")"
echo "ok: bad config -> $(cat "$work/bad.err")"

# Missing TLS file: named too.
sed 's#certs/node.key#certs/missing.key#' "$work/bad.yaml" | sed 's/dimension: 0/dimension: 4/' \
  >"$work/nokey.yaml"
set +e
"$node" --config "$work/nokey.yaml" >/dev/null 2>"$work/nokey.err"
status=$?
set -e
[[ $status -eq 2 ]] && grep -q "tls.key: cannot read" "$work/nokey.err" ||
  fail "missing key: exit $status: $(cat "$work/nokey.err")"
echo "ok: missing tls.key -> $(cat "$work/nokey.err")"

# Serve, write, read back, SIGTERM.
write_config "$work/node.yaml" 4
start_node
[[ $(http GET "http://$http/healthz") == 200* ]] || fail "healthz"
answer=$(http POST "http://$http/v1/collections/docs/vectors" '{"id": "v1", "embedding": [1, 2, 3, 4]}')
[[ $answer == 200* ]] || fail "upsert: $answer"
token=$(sed 's/.*"session_token":"\([^"]*\)".*/\1/' <<<"$answer")
[[ -n $token ]] || fail "upsert returned no session token"
answer=$(http POST "http://$http/v1/collections/docs/search" \
  "{\"query\": [1, 2, 3, 4], \"k\": 1, \"consistency\": \"session\", \"session_token\": \"$token\"}")
grep -q '"id":"v1"' <<<"$answer" || fail "session search missed the write: $answer"
grep -q '"guarantee_met":"session"' <<<"$answer" || fail "guarantee: $answer"
answer=$(http POST "http://$http/v1/collections/docs/vectors" '{"id": "v2", "embedding": [1, 2]}')
[[ $answer == 400* ]] || fail "wrong dimension gave $answer"
[[ $(http GET "http://$http/healthz") == 200* ]] || fail "healthz after a bad request"
echo "ok: served $http, read-your-writes, 400 on a bad request"

# GET /metrics: Prometheus text that promtool accepts, with every metric the Grafana dashboard
# (dashboards/meridian.json) and the alerting rules (deploy/prometheus) query.
answer=$(http GET "http://$http/metrics")
[[ $answer == "200 "* ]] || fail "metrics: $answer"
printf '%s\n' "${answer#200 }" >"$work/metrics.txt"
grep -q '^meridian_writes_acknowledged_total{region="solo"} 1$' "$work/metrics.txt" ||
  fail "metrics: no acknowledged write in $(cat "$work/metrics.txt")"
promtool check metrics <"$work/metrics.txt" >"$work/promtool.txt" 2>&1 ||
  fail "promtool check metrics: $(cat "$work/promtool.txt")"
root="$(dirname "${BASH_SOURCE[0]}")/../../.."
python3 - "$root/dashboards/meridian.json" "$root/deploy/prometheus/meridian-alerts.yml" \
  "$work/metrics.txt" <<'PY' || fail "dashboard or alerts and metrics disagree"
import json, re, sys
dashboard, exported = json.load(open(sys.argv[1])), set()
for line in open(sys.argv[3]):
    if line.startswith("# TYPE "): exported.add(line.split()[2])
queries = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
queries += [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
queries += [line.split("expr:", 1)[1] for line in open(sys.argv[2]) if "expr:" in line]
queried = set(re.findall(r"meridian_[a-z_]+", " ".join(queries)))
missing = sorted(queried - exported)
if not queried or missing:
    sys.exit(f"dashboard or alerts query metrics the node does not export: {missing or 'none found'}")
print(f"ok: /metrics passes promtool; the dashboard's and alerts' {len(queries)} queries use "
      f"{len(queried)} metrics, all exported")
PY

# listen.metrics: the same metrics on their own listener, which serves nothing else.
metrics=$(grep -o 'metrics=[0-9.]*:[0-9]*' "$work/node.out" | cut -d= -f2)
[[ -n $metrics && $metrics != "$http" ]] || fail "no metrics listener in $(cat "$work/node.out")"
answer=$(http GET "http://$metrics/metrics")
[[ $answer == "200 "* ]] || fail "metrics listener: $answer"
grep -q '^meridian_writes_acknowledged_total{region="solo"} 1$' <<<"${answer#200 }" ||
  fail "metrics listener: no acknowledged write in $answer"
[[ $(http GET "http://$metrics/healthz") == 200* ]] || fail "metrics listener: healthz"
answer=$(http GET "http://$metrics/v1/status")
[[ $answer == 404* ]] || fail "metrics listener served /v1/status: $answer"
answer=$(http POST "http://$metrics/v1/collections/docs/vectors" '{"id": "v3", "embedding": [1, 2, 3, 4]}')
[[ $answer == 404* ]] || fail "metrics listener accepted a write: $answer"
echo "ok: listen.metrics $metrics serves /metrics and /healthz, 404 for the data plane"

# A client keeps an idle keep-alive connection open (as k6 and HTTP client pools do): SIGTERM
# must not wait for it to time out (httplib's default 5 s did, every time).
python3 - "$http" <<'PY' &
import http.client, sys, time
host, port = sys.argv[1].rsplit(":", 1)
c = http.client.HTTPConnection(host, int(port))
c.request("GET", "/healthz")
c.getresponse().read()
time.sleep(10)
PY
idle_client=$!
sleep 0.5
started=$(date +%s%N)
stop_node
stop_ms=$((($(date +%s%N) - started) / 1000000))
kill "$idle_client" 2>/dev/null || true
grep -q "stopped" "$work/node.err" || fail "no clean stop: $(cat "$work/node.err")"
((stop_ms < 2500)) || fail "SIGTERM took $stop_ms ms with an idle keep-alive connection open"
echo "ok: SIGTERM -> exit 0 in $stop_ms ms (an idle keep-alive connection open)"

# listen.metrics_tls: the metrics listener over HTTPS, for a scraper with a certificate of the
# cluster CA only (Prometheus's tls_config: ca_file, cert_file, key_file).
sed 's#metrics: 127.0.0.1:0}#metrics: 127.0.0.1:0, metrics_tls: true}#' "$work/node.yaml" \
  >"$work/tls-metrics.yaml"
grep -q "metrics_tls: true" "$work/tls-metrics.yaml" || fail "could not write tls-metrics.yaml"
start_node "$work/tls-metrics.yaml"
metrics=$(grep -o 'metrics=[0-9.]*:[0-9]*' "$work/node.out" | cut -d= -f2)
[[ -n $metrics ]] || fail "no metrics listener in $(cat "$work/node.out")"
python3 - "$metrics" "$work/certs" <<'PY' || fail "metrics over mutual TLS"
import http.client, ssl, sys
host, port = sys.argv[1].rsplit(":", 1)
certs = sys.argv[2]
def get(path, cert=None):
    ctx = ssl.create_default_context(cafile=f"{certs}/ca.pem")
    if cert:
        ctx.load_cert_chain(f"{certs}/{cert}.pem", f"{certs}/{cert}.key")
    c = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=10)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read().decode()
    except (OSError, http.client.HTTPException) as e:
        return None, repr(e)
    finally:
        c.close()
status, body = get("/metrics", "client")
if status != 200 or "meridian_writes_acknowledged_total" not in body:
    sys.exit(f"with a cluster certificate: {status} {body[:200]}")
status, body = get("/v1/status", "client")
if status != 404:
    sys.exit(f"the TLS metrics listener served /v1/status: {status}")
for cert in (None, "rogue"):
    status, body = get("/metrics", cert)
    if status is not None:
        sys.exit(f"client certificate {cert}: served {status}, expected the handshake refused")
c = http.client.HTTPConnection(host, int(port), timeout=10)
try:
    c.request("GET", "/metrics")
    status = c.getresponse().status
    sys.exit(f"plain HTTP to the TLS listener: {status}")
except (OSError, http.client.HTTPException):
    pass
print("ok: listen.metrics_tls serves /metrics to a cluster certificate only "
      "(none, another CA's and plain HTTP refused)")
PY
stop_node
