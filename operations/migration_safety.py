"""Migrations that would break the release still serving traffic during a rolling or blue-green
deploy: the old code keeps reading and writing the tables while the new code's migrations run.

The rule is expand, deploy, contract: add (nullable or with a ``db_default``), ship the code that
stops using the old column, and only in a later release drop or rename it. A migration of that
later release says so with ``contract = "<why nothing uses it any more>"`` on its class. Checked
here: drops and renames (fields, models, raw SQL); a NOT NULL column added without ``db_default``
is the README's rule but not enforced (the existing migrations predate it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import migrations
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation

_DESTRUCTIVE_SQL = re.compile(
    r"\b(DROP\s+(COLUMN|TABLE)|RENAME\s+(COLUMN|TO))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Finding:
    migration: str
    operation: str
    why: str

    def __str__(self) -> str:
        return f"{self.migration}: {self.operation} — {self.why}"


def _database_operations(operations: list[Operation]) -> list[Operation]:
    """What touches the database: a state-only SeparateDatabaseAndState changes nothing there."""
    found = []
    for operation in operations:
        if isinstance(operation, migrations.SeparateDatabaseAndState):
            found += _database_operations(operation.database_operations)
        else:
            found.append(operation)
    return found


def _why_unsafe(operation: Operation) -> str | None:
    if isinstance(operation, migrations.RemoveField):
        return "drops a column the running release still selects"
    if isinstance(operation, migrations.RenameField):
        return "renames a column the running release still uses by its old name"
    if isinstance(operation, migrations.DeleteModel):
        return "drops a table the running release still uses"
    if isinstance(operation, migrations.RenameModel):
        return "renames a table the running release still uses by its old name"
    if isinstance(operation, migrations.RunSQL):
        sql = operation.sql if isinstance(operation.sql, str) else " ".join(map(str, operation.sql))
        if _DESTRUCTIVE_SQL.search(sql):
            return "raw SQL drops or renames a column or table"
    return None


def findings_in(migration: migrations.Migration) -> list[Finding]:
    if getattr(migration, "contract", ""):
        return []
    name = f"{migration.app_label}.{migration.name}"
    return [
        Finding(name, operation.describe(), why)
        for operation in _database_operations(migration.operations)
        if (why := _why_unsafe(operation))
    ]


def unsafe_migrations(app_labels: list[str], *, initial: bool = False) -> list[Finding]:
    """Findings in the project's own apps. Initial migrations create their tables from nothing
    and are skipped unless ``initial``."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    findings = []
    for (app_label, _), migration in sorted(loader.disk_migrations.items()):
        if app_label in app_labels and (initial or not migration.initial):
            findings += findings_in(migration)
    return findings
