#!/usr/bin/env bash
# Idempotent set-up: a .venv with the project (editable) and its dependencies, plus Debian's
# libturbojpeg0 for jpeg4py and the packages of the real-image pool when we are root, then the
# pool itself (workspace/data/real_pool). Re-running is fast: pip runs only when setup.py
# changed. Needs no network beyond the package registries.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
PYTHON=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
  echo "[install] creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi

# Debian packages: libturbojpeg0 (jpeg4py) and the real-image pool's sources (ltr/dataset/real_pool.py)
POOL_PACKAGES="tuxpaint-stamps-default tuxpaint-data ukui-wallpapers mate-backgrounds"
missing=""
ldconfig -p 2>/dev/null | grep -q libturbojpeg || missing="libturbojpeg0"
for pkg in $POOL_PACKAGES; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -z "$missing" ]; then
  :
elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "[install] installing Debian packages:$missing"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null; }; then
    echo "[install] could not install$missing: without libturbojpeg0 OpenCV decodes JPEGs; without the pool packages the real-imagery data is unavailable"
  fi
else
  echo "[install] not root: cannot install$missing (apt-get install$missing as root to get jpeg4py and the real-image pool)"
fi

stamp=.venv/.install-stamp
want="$(cat setup.py | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && .venv/bin/python -c "import ltr, pytracking" 2>/dev/null; then
  echo "[install] up to date"
else
  echo "[install] installing the project and its dependencies (torch 2.14.1, torchvision 0.29.1, ...)"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  # opencv-contrib-python-headless replaces opencv-python-headless (both own cv2/): remove both first
  if .venv/bin/python -m pip show -q opencv-python-headless >/dev/null 2>&1; then
    .venv/bin/python -m pip uninstall -q -y opencv-python-headless opencv-contrib-python-headless >/dev/null 2>&1 || true
  fi
  if ! .venv/bin/python -m pip install -q -e ".[dev,export,vot]" > .venv/pip-install.log 2>&1; then
    grep -v "is ignored: it is neither" .venv/pip-install.log >&2
    echo "[install] pip install failed (full log: .venv/pip-install.log)" >&2
    exit 1
  fi
  .venv/bin/python -c "import ltr, pytracking, torch, torchvision" 
  echo "$want" > "$stamp"
fi

if .venv/bin/python -c "from ltr.dataset.real_pool import missing_packages; raise SystemExit(bool(missing_packages()))"; then
  .venv/bin/python -m ltr.dataset.real_pool >/dev/null
else
  echo "[install] real-image pool not built: its Debian packages are missing (see above)"
fi
