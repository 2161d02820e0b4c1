#!/usr/bin/env bash
# meridian-node on a real Kafka broker (ctest meridian_node_kafka_itest, label integration):
# the binary creates its topics, serves HTTP, acknowledges an upsert once it is durable in
# Kafka, a session search sees it, and SIGTERM shuts it down with exit 0. A second start on the
# same broker replays the log (recovery) and serves the vector again.
# Usage: meridian_node_kafka_itest.sh MERIDIAN_NODE GEN_CERTS SCRIPTS_KAFKA
set -euo pipefail
node=${1:?meridian-node binary}
gen_certs=${2:?tests/gen_certs.sh}
kafka=${3:?scripts/kafka}
work=$(mktemp -d)
pid=
export MERIDIAN_KAFKA_OWNER_PID=$$  # scripts/kafka's watchdog stops the broker if we die
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  "$kafka" stop "$work/broker" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
# HTTP without curl (not in scripts/setup): python3's urllib. Prints "<status> <body>".
http() {  # METHOD URL [JSON_BODY]
  python3 - "$@" <<'PY'
import sys, urllib.error, urllib.request
method, url = sys.argv[1], sys.argv[2]
data = sys.argv[3].encode() if len(sys.argv) > 3 else None
request = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
try:
    with urllib.request.urlopen(request, timeout=30) as r:
        status, body = r.status, r.read().decode()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read().decode()
except OSError as e:
    status, body = 0, str(e)
print(status, body)
PY
}

read -r port controller_port <<<"$("$kafka" free-ports 2 | tr "\n" " ")"
bootstrap=$("$kafka" start solo "$port" "$controller_port" "$work/broker")
echo "broker at $bootstrap"
"$gen_certs" "$work/certs"
cat >"$work/node.yaml" <<YAML
region: {name: solo, id: 1}
regions:
  - {name: solo, id: 1}
log: {kind: kafka, bootstrap_servers: "$bootstrap"}
tls: {ca: certs/ca.pem, cert: certs/node.pem, key: certs/node.key}
listen: {grpc: 127.0.0.1:0, http: 127.0.0.1:0}
collections:
  - {name: docs, dimension: 4, metric: l2, index: flat, shards: 4}
YAML

start_node() {
  : >"$work/node.out"
  "$node" --config "$work/node.yaml" >"$work/node.out" 2>>"$work/node.err" &
  pid=$!
  for _ in $(seq 600); do
    grep -q "ready" "$work/node.out" && break
    kill -0 "$pid" 2>/dev/null || fail "node exited: $(cat "$work/node.err")"
    sleep 0.1
  done
  grep -q "ready" "$work/node.out" || fail "node not ready: $(cat "$work/node.err")"
  http=$(grep -o 'http=[0-9.]*:[0-9]*' "$work/node.out" | cut -d= -f2)
}

stop_node() {
  kill -TERM "$pid"
  set +e
  wait "$pid"
  local status=$?
  set -e
  pid=
  [[ $status -eq 0 ]] || fail "SIGTERM: exit $status: $(cat "$work/node.err")"
}

search() {  # token
  http POST "http://$http/v1/collections/docs/search" \
    "{\"query\": [1, 2, 3, 4], \"k\": 1, \"consistency\": \"session\", \"session_token\": \"$1\"}"
}

start_node
# Writes are refused (503) while the node reads its own log after start; retry briefly.
token=
for _ in $(seq 100); do
  answer=$(http POST "http://$http/v1/collections/docs/vectors" '{"id": "v1", "embedding": [1, 2, 3, 4]}')
  if grep -q session_token <<<"$answer"; then
    token=$(sed 's/.*"session_token":"\([^"]*\)".*/\1/' <<<"$answer")
    break
  fi
  sleep 0.2
done
[[ -n $token ]] || fail "upsert never acknowledged: $answer"
answer=$(search "$token")
grep -q '"id":"v1"' <<<"$answer" || fail "session search missed the write: $answer"
grep -q '"guarantee_met":"session"' <<<"$answer" || fail "guarantee: $answer"
echo "ok: upsert acknowledged through Kafka ($token), session search sees it"
stop_node
echo "ok: SIGTERM -> exit 0"

# Restart: the node rebuilds its replica from the log.
start_node
for _ in $(seq 100); do
  answer=$(search "$token" || true)
  grep -q '"id":"v1"' <<<"$answer" && break
  sleep 0.2
done
grep -q '"id":"v1"' <<<"$answer" || fail "after restart: $answer"
echo "ok: restarted node replayed the log and serves v1"
stop_node
