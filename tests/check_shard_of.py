#!/usr/bin/env python3
"""Checks `meridian shard-of` against Python's mmh3, the reference every client language follows.

Usage: check_shard_of.py <path-to-meridian> [--count N] [--seed S]

Generates vector ids from a seeded RNG (so a failure is repeatable): ASCII, 2-, 3- and 4-byte
UTF-8, mixtures, and ids starting with '-', of 1..100 characters. Runs
`<meridian> shard-of --shards N -- ID...` for each N in SHARD_COUNTS, expects one `ID<TAB>shard`
line per id in input order, and compares each with `mmh3.hash(id, signed=False) % N`.
Exits 1 at the first mismatch, printing it.
"""

import argparse
import random
import subprocess
import sys
from importlib.metadata import version

import mmh3

SHARD_COUNTS = (1, 7, 64, 1000)
# Keep each command line well under the kernel's argument limit (ARG_MAX is often 2 MiB).
MAX_ARG_BYTES_PER_RUN = 128 * 1024

# Code point ranges by UTF-8 width. No controls (tab and newline would break the output format,
# NUL cannot be in argv) and no surrogates (not encodable).
ASCII = [(0x20, 0x7E)]
TWO_BYTE = [(0xA1, 0x17F), (0x391, 0x3C9), (0x410, 0x44F), (0x5D0, 0x5EA), (0x627, 0x64A)]
THREE_BYTE = [(0x3041, 0x3096), (0x30A1, 0x30FA), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3),
              (0xFF01, 0xFF5E), (0x2010, 0x2027)]
FOUR_BYTE = [(0x1F300, 0x1F5FF), (0x1F600, 0x1F64F), (0x1F680, 0x1F6FF), (0x1D400, 0x1D7FF),
             (0x20000, 0x2A6DF)]
MIXED = ASCII + TWO_BYTE + THREE_BYTE + FOUR_BYTE


def random_char(rng, ranges):
    lo, hi = rng.choice(ranges)
    return chr(rng.randint(lo, hi))


def random_id(rng):
    length = rng.randint(1, 100)
    ranges = rng.choice([ASCII, ASCII, TWO_BYTE, THREE_BYTE, FOUR_BYTE, MIXED, MIXED])
    vector_id = "".join(random_char(rng, ranges) for _ in range(length))
    if rng.random() < 0.05:
        # Looks like an option; the script passes ids after `--` so the CLI must take it as an id.
        vector_id = rng.choice(["-", "--"]) + vector_id[: max(1, length - 2)]
    return vector_id


def generate_ids(count, seed):
    rng = random.Random(seed)
    ids = [random_id(rng) for _ in range(count)]
    # Fixed cases worth always having, whatever the seed.
    ids += ["a", "héllo", "向量", "🦀", "emoji 👍🏽 skin", "-leading-dash", "--double-dash",
            "550e8400-e29b-41d4-a716-446655440000", "x" * 100]
    return ids


def batches(ids):
    batch, size = [], 0
    for vector_id in ids:
        n = len(vector_id.encode("utf-8")) + 1
        if batch and size + n > MAX_ARG_BYTES_PER_RUN:
            yield batch
            batch, size = [], 0
        batch.append(vector_id)
        size += n
    if batch:
        yield batch


def describe(vector_id):
    return f"{vector_id!r} (UTF-8 {vector_id.encode('utf-8').hex()})"


def check(meridian, ids, shards):
    """Returns the number of lines checked; exits 1 at the first problem."""
    checked = 0
    for batch in batches(ids):
        argv = [meridian, "shard-of", "--shards", str(shards), "--"]
        argv += [vector_id.encode("utf-8") for vector_id in batch]
        try:
            run = subprocess.run(argv, capture_output=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            fail(f"could not run {meridian} shard-of --shards {shards}: {e}")
        if run.returncode != 0:
            stderr = run.stderr.decode("utf-8", "replace").strip()
            fail(f"{meridian} shard-of --shards {shards} exited {run.returncode}: {stderr}")
        lines = run.stdout.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        for i, vector_id in enumerate(batch):
            where = f"--shards {shards}, output line {checked + i + 1}"
            if i >= len(lines):
                fail(f"{where}: missing; expected a line for id {describe(vector_id)} "
                     f"({len(lines)} lines for {len(batch)} ids)")
            expected = mmh3.hash(vector_id, signed=False) % shards
            got_id, tab, got_shard = lines[i].rpartition(b"\t")
            ok = tab and got_id == vector_id.encode("utf-8") and got_shard == b"%d" % expected
            if not ok:
                fail(f"{where}: MISMATCH for id {describe(vector_id)}: expected "
                     f"{(vector_id + chr(9) + str(expected)).encode('utf-8')!r}, "
                     f"got {lines[i]!r}")
        if len(lines) > len(batch):
            fail(f"--shards {shards}: {len(lines) - len(batch)} extra output lines, first: "
                 f"{lines[len(batch)]!r}")
        checked += len(batch)
    return checked


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("meridian", help="path to the meridian binary")
    parser.add_argument("--count", type=int, default=2000, help="random ids to generate")
    parser.add_argument("--seed", type=int, default=20240611, help="RNG seed for the ids")
    args = parser.parse_args()

    ids = generate_ids(args.count, args.seed)
    total = sum(check(args.meridian, ids, shards) for shards in SHARD_COUNTS)
    print(f"ok: {total} lines of `meridian shard-of` match mmh3 {version('mmh3')} "
          f"({len(ids)} ids x shard counts {', '.join(map(str, SHARD_COUNTS))}; seed {args.seed})")


if __name__ == "__main__":
    main()
