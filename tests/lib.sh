# Shell helpers shared by the black-box tests of meridian-node (engine/real/api/*_test.sh,
# *_itest.sh). Source it after setting `node` (the meridian-node binary), `gen_certs`
# (tests/gen_certs.sh) and, for tests on a real broker, `kafka` (scripts/kafka):
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../../../tests/lib.sh"
#
# It creates the work directory `$work` (removed at exit, with the node and the broker), and
# provides fail, http, make_certs, start_broker, start_node and stop_node. The running node's
# pid is `$pid`, its HTTP address `$http`; its stdout and stderr go to $work/node.out and
# $work/node.err.

work=$(mktemp -d)
pid=
if [[ -n ${kafka:-} ]]; then
  export MERIDIAN_KAFKA_OWNER_PID=$$ # scripts/kafka's watchdog stops the broker if we die
fi
lib_cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  if [[ -n ${kafka:-} && -d $work/broker ]]; then "$kafka" stop "$work/broker" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap lib_cleanup EXIT

# Prints the reason (and the end of the node's stderr, if any) and exits 1.
fail() {
  echo "FAIL: $*" >&2
  if [[ -f $work/node.err ]]; then tail -20 "$work/node.err" >&2; fi
  exit 1
}

# HTTP without curl (not in scripts/setup): python3's urllib. Prints "<status> <body>".
http() { # METHOD URL [JSON_BODY]
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

# CA, node and client certificates in $work/certs (node configs name certs/node.pem etc.).
make_certs() {
  "$gen_certs" "$work/certs"
}

# A single-broker KRaft cluster "solo" in $work/broker; sets `bootstrap`.
start_broker() {
  local port controller_port
  read -r port controller_port <<<"$("$kafka" free-ports 2 | tr "\n" " ")"
  bootstrap=$("$kafka" start solo "$port" "$controller_port" "$work/broker")
  echo "broker at $bootstrap"
}

# Starts the node with CONFIG (default $work/node.yaml) and waits (60 s) for its "ready" line;
# sets `pid` and `http`.
start_node() { # [CONFIG]
  : >"$work/node.out"
  "$node" --config "${1:-$work/node.yaml}" >"$work/node.out" 2>>"$work/node.err" &
  pid=$!
  for _ in $(seq 600); do
    grep -q "ready" "$work/node.out" && break
    kill -0 "$pid" 2>/dev/null || fail "node exited"
    sleep 0.1
  done
  grep -q "ready" "$work/node.out" || fail "node not ready"
  http=$(grep -o 'http=[0-9.]*:[0-9]*' "$work/node.out" | cut -d= -f2)
}

# SIGTERM; the node must exit 0.
stop_node() {
  kill -TERM "$pid"
  set +e
  wait "$pid"
  local status=$?
  set -e
  pid=
  [[ $status -eq 0 ]] || fail "SIGTERM: exit $status"
}
