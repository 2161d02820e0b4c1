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
source "$(dirname "${BASH_SOURCE[0]}")/../../../tests/lib.sh"  # work, fail, http, start_node, ...

start_broker
make_certs
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

search() {  # token
  http POST "http://$http/v1/collections/docs/search" \
    "{\"query\": [1, 2, 3, 4], \"k\": 1, \"consistency\": \"session\", \"session_token\": \"$1\"}"
}

start_node
# Writes are refused (503) while the node reads its own log after start and until its own
# partitions' consumer is fetching; retry often, so that the first write comes right after the
# node opens to writes (where a read-your-writes gap would show).
token=
for _ in $(seq 400); do
  answer=$(http POST "http://$http/v1/collections/docs/vectors" '{"id": "v1", "embedding": [1, 2, 3, 4]}')
  if grep -q session_token <<<"$answer"; then
    token=$(sed 's/.*"session_token":"\([^"]*\)".*/\1/' <<<"$answer")
    break
  fi
  sleep 0.05
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
