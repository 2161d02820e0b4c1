#!/usr/bin/env bash
# Black-box check that `meridian shard-of` routes every id exactly as Python's mmh3 does
# (mmh3.hash(id, signed=False) % N), i.e. as every client library must. See check_shard_of.py.
#
# Usage: tests/cli_shard_of_mmh3.sh <path-to-meridian-binary>
#
# Needs mmh3 from PyPI. It is installed once into a virtualenv under
# ${XDG_CACHE_HOME:-$HOME/.cache}/meridian/pyenv and reused by later runs. If PyPI cannot be
# reached this test FAILS rather than skips: a routing check that silently does not run is worse
# than a red build.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 <path-to-meridian-binary>" >&2
  exit 2
fi
meridian="$1"
if [[ ! -x "$meridian" ]]; then
  echo "FAIL: '$meridian' is not an executable file (build the 'meridian' target first)" >&2
  exit 1
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_dir="${XDG_CACHE_HOME:-${HOME:?neither XDG_CACHE_HOME nor HOME is set}/.cache}/meridian"
venv="$cache_dir/pyenv"
python="$venv/bin/python"

mkdir -p "$cache_dir"
# Concurrent runs (ctest -j, several build dirs) must not build the same venv at once.
exec 9>"$cache_dir/pyenv.lock"
if command -v flock >/dev/null; then
  flock 9
fi

if ! "$python" -c 'import mmh3' 2>/dev/null; then
  if [[ -e "$venv" && ! -f "$venv/pyvenv.cfg" ]]; then
    echo "FAIL: $venv exists but is not a virtualenv; remove it and re-run" >&2
    exit 1
  fi
  echo "setting up $venv (python3 -m venv, pip install mmh3)" >&2
  # --clear: a venv whose interpreter was upgraded or removed is rebuilt from scratch.
  if ! python3 -m venv --clear "$venv" >&2; then
    echo "FAIL: could not create a virtualenv at $venv (is python3-venv installed?)" >&2
    exit 1
  fi
  if ! "$python" -m pip install --disable-pip-version-check --quiet --timeout 30 --retries 2 \
      'mmh3>=4,<6' >&2; then
    echo "FAIL: could not install mmh3 from PyPI into $venv. This test needs it as the" \
         "reference for routing; check network access to PyPI (or pip's proxy settings)." >&2
    exit 1
  fi
fi
exec 9>&-

exec "$python" "$here/check_shard_of.py" "$meridian"
