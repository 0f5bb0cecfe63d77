#!/usr/bin/env bash
# The API against its own schema: serves the app on loopback (test settings, a scratch var/ with a
# seeded account), signs in as an app client and runs Schemathesis over every operation with that
# JWT. Any server error, undocumented status, wrong content type or body off the schema fails.
# Schemathesis has its own venv (.venv-schemathesis/), outside uv.lock: its pins (hypothesis,
# jsonschema) must not move the app's.
# Usage: scripts/schemathesis.sh [extra `st run` options]; ST_MAX_EXAMPLES, ST_MAX_TIME bound it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

SCHEMATHESIS_VERSION="4.32.5"
if [ "$(.venv-schemathesis/bin/st --version 2>/dev/null)" != "st, version $SCHEMATHESIS_VERSION" ]; then
  "$UV" venv --quiet --allow-existing .venv-schemathesis
  "$UV" pip install --quiet --python .venv-schemathesis/bin/python "schemathesis==$SCHEMATHESIS_VERSION"
fi

work=$(mktemp -d /tmp/photolisting-schemathesis-XXXXXX)
mkdir -p "$work/var"
export PHOTOLISTING_VAR_DIR="$work/var" DJANGO_SETTINGS_MODULE=photolisting.settings.test
# One key for the whole run: the server signs the JWT the client was given at login.
.venv/bin/python -c 'from photolisting.settings.keys import new_private_key_pem; print(new_private_key_pem())' >"$work/jwt.pem"
export JWT_PRIVATE_KEY_FILE="$work/jwt.pem"
unset DATABASE_URL REDIS_URL STORAGE_BACKEND CELERY_BROKER_URL
# Billing talks to the local Stripe stand-in the tests use: Checkout and Portal answer for real.
.venv/bin/python -u -c 'import time; from tests.fakes import stripe_server as s; server, _ = s.start(); print(server.server_port); time.sleep(86400)' >"$work/stripe.port" &
stripe_pid=$!
trap 'kill $stripe_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$work/stripe.port" ] && break; sleep 0.1; done
export STRIPE_SECRET_KEY=sk_test_photolisting STRIPE_API_BASE="http://127.0.0.1:$(cat "$work/stripe.port")"
.venv/bin/python manage.py migrate --verbosity 0
# The demo account (premium, an agency, photos already enhanced): ids for every path to find.
.venv/bin/python manage.py seed_demo >"$work/seed.log" 2>&1
PYTHONPATH=. .venv/bin/python scripts/schemathesis_config.py >"$work/schemathesis.toml"

port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.venv/bin/python manage.py runserver --noreload --insecure "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
trap 'kill $server_pid $stripe_pid 2>/dev/null || true' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 100); do
  curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break
  sleep 0.2
done

token=$(curl -fsS -H 'Content-Type: application/json' \
  -d '{"email": "demo@photolisting.local", "password": "listing-demo-2026"}' \
  "$base/_allauth/app/v1/auth/login" \
  | .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["meta"]["access_token"])')

# Access tokens live minutes; a run is bounded well inside the refresh the server allows.
status=0
.venv-schemathesis/bin/st --config-file "$work/schemathesis.toml" run "$base/api/schema/" \
  --url "$base" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "${ST_MAX_EXAMPLES:-25}" \
  --max-time "${ST_MAX_TIME:-200}" \
  --seed 1 \
  --request-timeout 20 \
  --workers 2 \
  --report junit --report-dir "$work/report" \
  "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "server log: $work/server.log" >&2
fi
exit "$status"
