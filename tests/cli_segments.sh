#!/usr/bin/env bash
# Black-box test of the segment commands: make-segments writes deterministic files that
# verify-segment accepts; a flipped byte or a truncated file is rejected naming the block or the
# problem and its offset; digest prints identical output for two identically made directories and
# different output after an update; catch-up brings an old directory up to a new one; restore
# rebuilds the collection.
set -euo pipefail
meridian=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

make() { "$meridian" make-segments "$@" --vectors 3000 --dim 16 --shards 4 --seed 11 >/dev/null; }
make "$tmp/a"
make "$tmp/b"
make "$tmp/new" --update-fraction 0.02
make "$tmp/active" --update-fraction 0.02 --active

files=("$tmp"/a/*.seg)
[[ ${#files[@]} == 4 ]] || fail "expected 4 segment files, got ${#files[@]}"
cmp -s "${files[0]}" "$tmp/b/$(basename "${files[0]}")" || fail "make-segments is not deterministic"

out=$("$meridian" verify-segment "${files[@]}") || fail "verify-segment rejected good files: $out"
[[ $(grep -c ': ok kind=shard-snapshot' <<<"$out") == 4 ]] || fail "unexpected verify output: $out"
decoded=$("$meridian" verify-segment --decode "$tmp"/active/*.seg)
grep -q 'kind=applied-records' <<<"$decoded" || fail "active segments not reported as applied-records"
json=$("$meridian" verify-segment --json "${files[1]}")
python3 - "$json" <<'PY' || fail "verify-segment --json: $json"
import json, sys
r = json.loads(sys.argv[1])
assert r["ok"] and r["kind"] == "shard-snapshot" and r["shard"] == 1 and r["num_shards"] == 4, r
assert r["dimension"] == 16 and r["records"] > 0 and r["blocks"] > 0, r
assert r["version_vector"].startswith("{1:"), r
PY

expect_rejected() {  # file, expected text
  local out
  if out=$("$meridian" verify-segment "$1" 2>&1); then fail "$1 was accepted: $out"; fi
  [[ $out == *"$2"* ]] || fail "error for $1 does not mention '$2': $out"
}
# A flipped byte in the middle of the body: named by block number and byte range.
victim=${files[2]}
size=$(stat -c %s "$victim")
python3 -c "import sys; b=bytearray(open(sys.argv[1],'rb').read()); b[int(sys.argv[3])]^=0x01; open(sys.argv[2],'wb').write(b)" \
  "$victim" "$tmp/flipped.seg" $((size / 2))
expect_rejected "$tmp/flipped.seg" "checksum mismatch"
expect_rejected "$tmp/flipped.seg" "block "
# A flipped byte in the header.
python3 -c "import sys; b=bytearray(open(sys.argv[1],'rb').read()); b[20]^=0x01; open(sys.argv[2],'wb').write(b)" \
  "$victim" "$tmp/header.seg"
expect_rejected "$tmp/header.seg" "header (bytes 0.."
# Truncated (with dd), and not a segment at all.
dd if="$victim" of="$tmp/cut.seg" bs=1 count=$((size - 100)) status=none
expect_rejected "$tmp/cut.seg" "truncated"
printf 'not a segment file at all\n' > "$tmp/garbage.seg"
expect_rejected "$tmp/garbage.seg" "bad magic at offset 0"
expect_rejected "$tmp/missing.seg" "cannot open"

# Digests: equal for equal state (also when the updates sit in active segments), different after
# an update; JSON has one object per shard in shard order.
da=$("$meridian" digest "$tmp/a")
[[ $da == $("$meridian" digest "$tmp/b") ]] || fail "digests differ for identical directories"
[[ $da != $("$meridian" digest "$tmp/new") ]] || fail "digest did not change after updates"
[[ $("$meridian" digest "$tmp/new") == $("$meridian" digest "$tmp/active") ]] \
  || fail "snapshot+records digest differs from the applied snapshot's"
"$meridian" digest --json --buckets "$tmp/a" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert [s["shard"] for s in d] == [0, 1, 2, 3], d
assert all(len(s["root"]) == 64 and len(s["buckets"]) == 256 for s in d)
' || fail "digest --json"
cp "$tmp/flipped.seg" "$tmp/b/"
if "$meridian" digest "$tmp/b" >/dev/null 2>&1; then fail "digest accepted a corrupt file"; fi

# Catch-up: old a -> new, then a's files equal new's and so do the digests.
"$meridian" catch-up "$tmp/a" "$tmp/new" --digest --write >/dev/null || fail "catch-up failed"
for f in "$tmp"/new/*.seg; do cmp -s "$f" "$tmp/a/$(basename "$f")" || fail "catch-up: $f differs"; done
[[ $("$meridian" digest "$tmp/a") == $("$meridian" digest "$tmp/new") ]] || fail "digest after catch-up"

# Restore rebuilds every vector.
"$meridian" restore --json "$tmp/active" | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["live_vectors"] == 3000 and r["records_applied"] > 0, r
' || fail "restore"

echo "cli_segments: all checks passed"
