# Shared by scripts/demo and scripts/test: a venv with the locked packages and the built static files.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
stamp=.venv/.lock-$(sha256sum requirements/dev.lock | cut -c1-16)
if [ ! -f "$stamp" ]; then
  # (grep hides this machine's notes about absent local package mirrors; pip's exit status still counts)
  python -m pip install --quiet --upgrade pip 2>&1 | { grep -v "^WARNING: Location '" || true; }
  python -m pip install --quiet --require-hashes -r requirements/dev.lock 2>&1 | { grep -v "^WARNING: Location '" || true; }
  rm -f .venv/.lock-* && touch "$stamp"
fi
if [ ! -f mchis/web/static/vendor/htmx.min.js ] || [ package-lock.json -nt mchis/web/static/vendor/htmx.min.js ]; then
  npm ci --no-audit --no-fund --loglevel=error
  npm run --silent build
fi
