#!/usr/bin/env bash
# make run: install, migrate, seed the demo, then serve web + API and a Celery worker on
# 127.0.0.1:8000 with the embedded defaults (SQLite, local storage, filesystem broker).
source "$(dirname "$0")/env.sh"
cd "$(dirname "$0")/.."
"$UV" sync --frozen --quiet
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-photolisting.settings.local}"
PY=.venv/bin/python
mkdir -p "${PHOTOLISTING_VAR_DIR:-var}"
$PY manage.py migrate --no-input -v0
# -B: the embedded beat releases off-peak jobs inside their window.
.venv/bin/celery -A photolisting worker -B --loglevel=INFO --concurrency=2 \
  --queues=ingest,process,ai,offpeak,default &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT INT TERM
$PY manage.py seed_demo
echo "PhotoListing on http://127.0.0.1:8000/  (API docs: http://127.0.0.1:8000/api/docs/)"
$PY manage.py runserver 127.0.0.1:8000 --noreload
