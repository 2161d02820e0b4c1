#!/usr/bin/env bash
# meridian-node durability on a real Kafka broker (ctest meridian_node_crash_itest, label
# integration):
#   1. with data_dir and fast checkpoints, clients write concurrently over HTTP; the node is
#      killed with SIGKILL mid-load; after a restart every acknowledged write is served (Get),
#      the node loaded its checkpoint segments, and its sequences continue (new writes work);
#      A second node started on the same data_dir exits 1 at once and names the owner's pid;
#   2. a byte of a checkpoint segment is flipped while the node is down: at the next start the
#      file is rejected with a message naming it (stderr and NodeStatus counters), never loaded,
#      and the shard is rebuilt from the log: every acknowledged write is still served;
#   3. each other region's source is recorded in <data_dir>/REPLICATION: a region first read
#      through MirrorMaker 2's copy cannot be switched to direct reading on the same directory
#      (the copies' offsets differ): exit 2, naming the region and both sources;
#   4. a directly read region's own librdkafka properties (regions[i].kafka.properties) reach
#      the handle for its cluster: one librdkafka rejects stops the node, naming the region;
#   5. two live nodes of one region on separate data_dirs (as on two hosts, where no lock
#      refuses the second): the one started last has the newer writer epoch (or the same one,
#      ordered by a random tie-breaker, if it started before the first's heartbeat landed); the
#      older one yields once it reads the newer one's heartbeats or records (stderr once,
#      writes_stopped in its status, 503 for every write) and the newer one keeps taking writes.
# Usage: meridian_node_crash_itest.sh MERIDIAN_NODE GEN_CERTS SCRIPTS_KAFKA
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
data_dir: data
engine: {checkpoint_interval_ms: 300}
collections:
  - {name: docs, dimension: 8, metric: l2, index: flat, shards: 4}
YAML

# Concurrent writers for `seconds`; every acknowledged id goes to acked.txt ("id value").
load() {  # seconds first_id
  python3 - "$http" "$1" "$2" "$work/acked.txt" <<'PY'
import json, sys, threading, time, urllib.error, urllib.request
http, seconds, first, out = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
lock, acked, stop = threading.Lock(), [], time.time() + seconds
def writer(t):
    i = first + t
    while time.time() < stop:
        body = json.dumps({"id": f"v{i}", "embedding": [float(i % 97)] * 8}).encode()
        req = urllib.request.Request(f"http://{http}/v1/collections/docs/vectors", data=body,
                                     method="POST", headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                if r.status == 200:
                    with lock: acked.append(f"v{i} {float(i % 97)}")
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)  # refused (recovering) or the node is gone
        i += 8
threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
for t in threads: t.start()
for t in threads: t.join()
with open(out, "a") as f:
    for line in acked: f.write(line + "\n")
print(len(acked))
PY
}

# Every acknowledged id is served with its value (Get); prints how many were checked.
check_all() {
  python3 - "$http" "$work/acked.txt" <<'PY'
import json, sys, time, urllib.request
http, path = sys.argv[1], sys.argv[2]
want = {}
for line in open(path):
    i, v = line.split(); want[i] = float(v)
deadline, missing = time.time() + 60, list(want)
while missing and time.time() < deadline:
    still = []
    for i in missing:
        try:
            with urllib.request.urlopen(f"http://{http}/v1/collections/docs/vectors/{i}", timeout=5) as r:
                got = json.load(r)
                if got["embedding"][0] != want[i]: still.append(i)
        except Exception:
            still.append(i)
    missing = still
    if missing: time.sleep(0.5)
if missing:
    print(f"MISSING {len(missing)} of {len(want)}: {missing[:5]}"); sys.exit(1)
print(len(want))
PY
}

status_field() {  # KEY... (a path into /v1/status)
  python3 - "$http" "$@" <<'PY'
import json, sys, urllib.request
with urllib.request.urlopen(f"http://{sys.argv[1]}/v1/status", timeout=10) as r:
    value = json.load(r)
for key in sys.argv[2:]: value = value[key]
print(value)
PY
}
status_counter() { status_field counters "$1"; }  # NAME

: >"$work/acked.txt"
start_node
# A second node on the same data_dir is refused at once, naming the owner; the first serves on.
set +e
"$node" --config "$work/node.yaml" >"$work/second.out" 2>"$work/second.err"
second_status=$?
set -e
[[ $second_status -eq 1 ]] || fail "second node on the same data_dir: exit $second_status"
grep -q "data_dir: data directory .* is in use by another node (pid $pid holds" "$work/second.err" ||
  fail "second node's error: $(cat "$work/second.err")"
load 0.5 900000 >/dev/null
[[ -s $work/acked.txt ]] || fail "the first node stopped serving"
[[ $(wc -l <"$work/second.err") -eq 1 ]] || fail "second node did more than refuse: $(cat "$work/second.err")"
echo "ok: a second node on the same data_dir exits 1 at once: $(cat "$work/second.err")"
load 2 0 >/dev/null  # checkpoints happen meanwhile
( load 3 100000 >"$work/load2.count" ) &
loader=$!
sleep 1.5
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
pid=
wait "$loader"
acked=$(wc -l <"$work/acked.txt")
ls "$work/data" | grep -q '\.seg$' || fail "no checkpoint segment was written"
echo "ok: $acked writes acknowledged; node killed with SIGKILL mid-load"

start_node
checked=$(check_all) || fail "after SIGKILL: $checked"
loaded=$(status_counter segments_loaded)
[[ $loaded -gt 0 ]] || fail "restart did not load checkpoint segments"
load 1 200000 >/dev/null
checked=$(check_all) || fail "writes after the restart: $checked"
conflicts=$(status_counter writer_conflicts)
[[ $conflicts -eq 0 ]] || fail "the restarted node took its predecessor for a second writer ($conflicts)"
epoch=$(status_field writer_epoch)
[[ $epoch -eq 2 ]] || fail "writer epoch after one restart: $epoch, expected 2"
echo "ok: after restart all $checked acknowledged writes are served; $loaded segments loaded"

kill -TERM "$pid"
wait "$pid" || fail "SIGTERM exit status"
pid=
victim=$(ls "$work/data" | grep '\.seg$' | head -1)
python3 - "$work/data/$victim" <<'PY'
import sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
data[len(data) // 2] ^= 0x40
open(path, "wb").write(bytes(data))
PY
: >"$work/node.err"
start_node
grep -q "$victim rejected" "$work/node.err" || fail "flipped byte in $victim not reported"
rejected=$(status_counter segments_rejected)
[[ $rejected -ge 1 ]] || fail "segments_rejected = $rejected"
checked=$(check_all) || fail "after a corrupt segment: $checked"
echo "ok: flipped byte in $victim rejected ($(grep -m1 "$victim rejected" "$work/node.err" | cut -c1-160)); all $checked writes served after replaying the shard from the log"
kill -TERM "$pid"
wait "$pid" || fail "SIGTERM exit status"
pid=

# A second region "far", read through the mirror (its topics never appear: nothing to read).
sed 's/^  - {name: solo, id: 1}$/&\n  - {name: far, id: 2, grpc: 127.0.0.1:9}/' "$work/node.yaml" \
  >"$work/two.yaml"
start_node "$work/two.yaml"
stop_node
[[ $(cat "$work/data/REPLICATION") == "far mirror" ]] ||
  fail "REPLICATION: $(cat "$work/data/REPLICATION")"
sed "s/grpc: 127.0.0.1:9}/grpc: 127.0.0.1:9, kafka: \"$bootstrap\"}/" "$work/two.yaml" \
  >"$work/direct.yaml"
set +e
"$node" --config "$work/direct.yaml" >"$work/direct.out" 2>"$work/direct.err"
direct_status=$?
set -e
[[ $direct_status -eq 2 ]] || fail "switching far to direct: exit $direct_status"
grep -q "config error: region far is read direct in this config, but the checkpoints in .* were taken reading it mirror" \
  "$work/direct.err" || fail "switching far to direct: $(cat "$work/direct.err")"
[[ $(cat "$work/data/REPLICATION") == "far mirror" ]] || fail "the refusal changed REPLICATION"
echo "ok: switching a region's source on the same data_dir is refused: $(cut -c1-150 "$work/direct.err")"

# A directly read cluster's own librdkafka properties reach its handle: one that
# librdkafka does not know stops the node at start, naming the region. Fresh data_dir: the one
# above records far as mirrored.
sed -e "s/grpc: 127.0.0.1:9}/grpc: 127.0.0.1:9, kafka: {bootstrap_servers: \"$bootstrap\", properties: {no.such.property: x}}}/" \
  -e 's/^data_dir: data$/data_dir: data-direct/' "$work/two.yaml" >"$work/bad-props.yaml"
set +e
timeout 60 "$node" --config "$work/bad-props.yaml" >"$work/bad-props.out" 2>"$work/bad-props.err"
props_status=$?
set -e
[[ $props_status -eq 1 ]] || fail "an unknown property for far's cluster: exit $props_status"
grep -q "log: .*far's cluster: .*no.such.property" "$work/bad-props.err" ||
  fail "an unknown property for far's cluster: $(cat "$work/bad-props.err")"
echo "ok: far's own properties reach its handle: $(grep -m1 "far's cluster" "$work/bad-props.err" | cut -c1-200)"

# Two live nodes of region solo on one cluster (data_dirs apart, as on two hosts).
sed 's/^data_dir: data$/data_dir: data-one/' "$work/node.yaml" >"$work/one.yaml"
sed 's/^data_dir: data$/data_dir: data-two/' "$work/node.yaml" >"$work/other.yaml"
: >"$work/node.err"
start_node "$work/one.yaml"
first_pid=$pid first_http=$http
trap 'kill -KILL "$first_pid" 2>/dev/null || true; lib_cleanup' EXIT
# The first node replays the whole log into its empty data_dir before it takes a writer epoch
# and heartbeats; the second starts after that (two nodes started together would take the same
# epoch, ordered by their random tie-breakers: sim/region_node_split_brain_test.cc).
for _ in $(seq 300); do
  [[ $(status_field recovered) == True ]] && break
  sleep 0.1
done
[[ $(status_field recovered) == True ]] || fail "the first node did not recover within 30 s"
sleep 0.5  # usually its first heartbeat, with its epoch, is in the log by now
start_node "$work/other.yaml"
upsert() {  # HTTP ID
  http POST "http://$1/v1/collections/docs/vectors" "{\"id\": \"$2\", \"embedding\": [1,2,3,4,5,6,7,8]}"
}
# The second node started last: it took the next writer epoch, and the first yields once it
# reads the second's heartbeat or records. Both write at once, 20 upserts each.
python3 - "$first_http" "$http" <<'PY'
import json, sys, threading, urllib.error, urllib.request
def writer(address, name):
    for i in range(20):
        body = json.dumps({"id": f"{name}-{i}", "embedding": [1.0] * 8}).encode()
        request = urllib.request.Request(f"http://{address}/v1/collections/docs/vectors",
                                         data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(request, timeout=10).read()
        except urllib.error.HTTPError:
            pass
threads = [threading.Thread(target=writer, args=(a, n))
           for a, n in ((sys.argv[1], "one"), (sys.argv[2], "two"))]
for t in threads: t.start()
for t in threads: t.join()
PY
sleep 1  # each has read the other's heartbeats and records back by now
first_epoch=$(http=$first_http status_field writer_epoch)
second_epoch=$(http=$http status_field writer_epoch)
# The second usually took the next epoch (it read the first's heartbeat); if the first's first
# heartbeat was not in the log yet when the second started (it can take ~1 s after a node
# recovers), both took the same epoch and their random tie-breakers order them. Either way
# exactly one node yields, to a node whose epoch is at least its own, and the other writes on.
((second_epoch >= first_epoch)) || fail "writer epochs: first node $first_epoch, second $second_epoch"
older_http= newer_http= older_epoch= newer_epoch=
for pair in "$first_http:$first_epoch:$second_epoch:$http" "$http:$second_epoch:$first_epoch:$first_http"; do
  IFS=: read -r host port epoch other_epoch other_host other_port <<<"$pair"
  why=$(http=$host:$port status_field writes_stopped)
  if [[ -n $why ]]; then
    [[ -z $older_http ]] || fail "both nodes stopped taking writes: '$why'"
    [[ $why == *"by a newer node, writer epoch $other_epoch"* ]] ||
      fail "status writes_stopped of $host:$port (epoch $epoch): '$why'"
    ((other_epoch >= epoch)) || fail "epoch $epoch yielded to an older epoch $other_epoch"
    older_http=$host:$port older_epoch=$epoch newer_http=$other_host:$other_port newer_epoch=$other_epoch
  fi
done
[[ -n $older_http ]] || fail "neither node yielded to the other"
read -r code body <<<"$(upsert "$older_http" after-older)"
[[ $code -eq 503 && $body == *"another node is writing as region solo"* ]] ||
  fail "a write to the node that yielded: $code $body"
read -r code body <<<"$(upsert "$newer_http" after-newer)"
[[ $code -eq 200 ]] || fail "a write to the newer node: $code $body"
reports=$(grep -c "another node is writing as region solo: .*by a newer node" "$work/node.err" || true)
[[ $reports -eq 1 ]] || fail "$reports reports of yielding on stderr (the older node's, once)"
conflicts=$(http=$newer_http status_counter writer_conflicts)
stop_node
pid=$first_pid
stop_node
echo "ok: two live writers of region solo: epoch $older_epoch ($older_http) yields to epoch" \
  "$newer_epoch ($newer_http), which keeps taking writes ($conflicts records of the older one in its partitions): $(grep -m1 "newer node" "$work/node.err" | cut -c1-240)"
