# Sourced by the Makefile and .ci/run: finds Python 3.12+ and uv, on a plain machine or under pyenv.
set -euo pipefail

find_python() {
  # pyenv shims exist for versions that are not selected, so each candidate must really run.
  for candidate in python3.12 python3.13; do
    if "$candidate" -c 'import sys' >/dev/null 2>&1; then command -v "$candidate"; return; fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    for version in 3.12 3.13; do
      found=$(ls -d "$(pyenv root)"/versions/"$version"*/bin/python"$version" 2>/dev/null | sort -V | tail -n 1)
      if [ -n "$found" ]; then echo "$found"; return; fi
    done
  fi
  if python3 -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
    command -v python3; return
  fi
  echo "PhotoListing needs Python 3.12 or newer (python3.12 on PATH, or pyenv)." >&2
  exit 1
}

export UV_PYTHON="${UV_PYTHON:-$(find_python)}"
export UV_PYTHON_DOWNLOADS=never
if ! command -v uv >/dev/null 2>&1 && [ ! -x "$HOME/.local/bin/uv" ]; then
  "$UV_PYTHON" -m pip install --quiet --user uv 2>/dev/null \
    || python3 -m pip install --quiet --user uv 2>/dev/null \
    || python3 -m pip install --quiet uv
fi
export PATH="$HOME/.local/bin:$PATH"
UV="$(command -v uv)"
export UV
