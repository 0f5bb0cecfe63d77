#!/usr/bin/env bash
# Restore drill: proves a pg_dump backup restores into a working database, and times it (RTO).
#
# On a scratch database of the local PostgreSQL (never the real one): migrate, write sample rows
# through the app, pg_dump -Fc, pg_restore into a second scratch database, compare the row count
# of every table and run the app's own checks against the restored copy. Both are dropped at the
# end, whatever happens. Exits non-zero on any difference. CI runs it (.ci/run).
#
#   ops/backup/restore_drill.sh            # PGHOST/PGPORT/PGUSER as for psql (127.0.0.1, postgres)
set -euo pipefail
cd "$(dirname "$0")/../.."

export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
suffix="$(date +%s)_$$"
source_db="photolisting_drill_${suffix}"
restored_db="photolisting_drill_${suffix}_restored"
work="$(mktemp -d)"
cleanup() {
  dropdb --if-exists --force "$source_db" 2>/dev/null || true
  dropdb --if-exists --force "$restored_db" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

app() {  # manage.py on one machine's settings against database $1
  DJANGO_SETTINGS_MODULE=photolisting.settings.local PHOTOLISTING_VAR_DIR="$work/var" \
    DATABASE_URL="postgres://${PGUSER}@${PGHOST}:${PGPORT}/$1" LOG_FORMAT=text \
    .venv/bin/python manage.py "${@:2}"
}

counts() {  # "table rows" for every table of database $1, sorted
  psql -d "$1" -Atc "SELECT table_name FROM information_schema.tables
                     WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1" |
    while read -r table; do
      printf '%s %s\n' "$table" "$(psql -d "$1" -Atc "SELECT count(*) FROM \"$table\"")"
    done
}

mkdir -p "$work/var"
createdb "$source_db"
app "$source_db" migrate --no-input -v0
app "$source_db" shell -c "
from accounts.services import user_create_verified
from projects.services import project_create
for n in range(20):
    user = user_create_verified(email=f'drill{n}@photolisting.example.com', password='Drill-2026!')
    project_create(user=user, name=f'Drill listing {n}')
"

started=$(date +%s.%N)
pg_dump -Fc -d "$source_db" -f "$work/backup.dump"
dumped=$(date +%s.%N)
createdb "$restored_db"
pg_restore --exit-on-error --no-owner -d "$restored_db" "$work/backup.dump"
restored=$(date +%s.%N)

counts "$source_db" >"$work/source.txt"
counts "$restored_db" >"$work/restored.txt"
if ! diff -u "$work/source.txt" "$work/restored.txt"; then
  echo "restore drill: the restored database differs from the source" >&2
  exit 1
fi
projects=$(psql -d "$restored_db" -Atc "SELECT count(*) FROM projects_project")
[ "$projects" -eq 20 ] || { echo "restore drill: $projects projects restored, not 20" >&2; exit 1; }
# The restored copy is a database the app accepts: no migration missing, checks clean.
app "$restored_db" migrate --check -v0
app "$restored_db" check --database default -v0 >/dev/null

printf 'restore drill: %s tables, %s bytes dumped in %.1f s, restored in %.1f s\n' \
  "$(wc -l <"$work/source.txt")" "$(stat -c %s "$work/backup.dump")" \
  "$(awk "BEGIN {print $dumped - $started}")" "$(awk "BEGIN {print $restored - $dumped}")"
