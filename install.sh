#!/usr/bin/env bash
# Idempotent set-up: a .venv with the project (editable) and its dependencies, plus Debian's
# libturbojpeg0 for jpeg4py when we are root. Re-running is fast: pip runs only when setup.py
# changed. Needs no network beyond the package registries.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
PYTHON=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
  echo "[install] creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi

if ldconfig -p 2>/dev/null | grep -q libturbojpeg; then
  :
elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "[install] installing libturbojpeg0 (Debian) for jpeg4py"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libturbojpeg0 >/dev/null; }; then
    echo "[install] could not install libturbojpeg0: jpeg4py is disabled and OpenCV decodes JPEGs instead"
  fi
else
  echo "[install] libturbojpeg not found and not root: jpeg4py is disabled and OpenCV decodes JPEGs instead"
fi

stamp=.venv/.install-stamp
want="$(cat setup.py | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && .venv/bin/python -c "import ltr, pytracking" 2>/dev/null; then
  echo "[install] up to date"
else
  echo "[install] installing the project and its dependencies (torch 2.14.1, torchvision 0.29.1, ...)"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  if ! .venv/bin/python -m pip install -q -e ".[dev,export,vot]" > .venv/pip-install.log 2>&1; then
    grep -v "is ignored: it is neither" .venv/pip-install.log >&2
    echo "[install] pip install failed (full log: .venv/pip-install.log)" >&2
    exit 1
  fi
  .venv/bin/python -c "import ltr, pytracking, torch, torchvision" 
  echo "$want" > "$stamp"
fi
