#!/usr/bin/env bash
# Black-box test of `meridian make-record` and `meridian inspect-record`: a record round-trips to
# JSON; a record with one flipped byte, a truncated record and garbage are each rejected with the
# reason and a non-zero exit; several records back to back decode one JSON line each.
set -euo pipefail
meridian=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$meridian" make-record --collection docs --id "vec-é" --embedding 0.5,-1,2 --field lang=en \
  --tag red --timestamp $(((1700000000000 << 16) | 3)) --region 2 --sequence 7 -o "$tmp/a.rec"
"$meridian" make-record --op delete --collection docs --id other --timestamp 99 --region 1 \
  --sequence 1 -o "$tmp/b.rec"

json=$("$meridian" inspect-record "$tmp/a.rec")
python3 - "$json" <<'PY' || fail "decoded JSON differs from what was encoded: $json"
import json, sys
r = json.loads(sys.argv[1])
assert r["op"] == "upsert" and r["collection"] == "docs" and r["vector_id"] == "vec-é", r
assert r["embedding"] == [0.5, -1.0, 2.0] and r["dimension"] == 3, r
assert r["payload"] == {"fields": {"lang": "en"}, "tags": ["red"]}, r
assert r["origin_region"] == 2 and r["origin_sequence"] == 7 and r["offset"] == 0, r
assert r["hlc"] == {"physical_ms": 1700000000000, "logical": 3}, r
PY

# Several records back to back: one line each, offsets increasing.
cat "$tmp/a.rec" "$tmp/b.rec" "$tmp/a.rec" > "$tmp/stream.rec"
[[ $("$meridian" inspect-record - < "$tmp/stream.rec" | wc -l) == 3 ]] || fail "stream of 3 records"

expect_rejected() {  # file, expected text in the error
  local out
  if out=$("$meridian" inspect-record "$1" 2>&1); then fail "$1 was accepted: $out"; fi
  [[ $out == *"$2"* ]] || fail "error for $1 does not mention '$2': $out"
}

# Flip one byte in the middle of the embedding.
python3 -c "import sys; b=bytearray(open(sys.argv[1],'rb').read()); b[40]^=0x10; open(sys.argv[2],'wb').write(b)" \
  "$tmp/a.rec" "$tmp/flipped.rec"
expect_rejected "$tmp/flipped.rec" "checksum"
head -c 20 "$tmp/a.rec" > "$tmp/short.rec"
expect_rejected "$tmp/short.rec" "truncated"
head -c 50 "$tmp/a.rec" > "$tmp/cut.rec"
expect_rejected "$tmp/cut.rec" "truncated"
printf 'definitely not a record, just some text\n' > "$tmp/garbage.rec"
expect_rejected "$tmp/garbage.rec" "offset 0"
# A bad record after a good one is reported at its own offset.
cat "$tmp/b.rec" "$tmp/flipped.rec" > "$tmp/mixed.rec"
expect_rejected "$tmp/mixed.rec" "offset $(stat -c %s "$tmp/b.rec")"
expect_rejected "$tmp/does-not-exist.rec" "cannot open"

# make-record refuses invalid input with a reason.
if out=$("$meridian" make-record --collection docs --id x --embedding 1,nan --timestamp 1 \
    --region 1 --sequence 1 2>&1); then fail "NaN embedding accepted"; fi
[[ $out == *"not finite"* ]] || fail "NaN error unclear: $out"

echo "cli_records: all checks passed"
