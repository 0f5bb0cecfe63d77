"""The rolling-deploy gate flags drops and renames that touch the database, and lets through
what only changes Django's state or is declared a contract step."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import migrations, models
from django.test import override_settings

from operations.migration_safety import findings_in


def migration(*operations, **attributes) -> migrations.Migration:
    made = type(
        "Migration", (migrations.Migration,), {"operations": list(operations), **attributes}
    )
    return made("0042_change", "projects")


@pytest.mark.parametrize(
    "operation",
    [
        migrations.RemoveField("photo", "room_label"),
        migrations.RenameField("photo", "room_label", "room"),
        migrations.DeleteModel("Rendition"),
        migrations.RenameModel("Rendition", "Derivative"),
        migrations.RunSQL("ALTER TABLE projects_photo DROP COLUMN room_label"),
        migrations.RunSQL("ALTER TABLE projects_photo RENAME COLUMN room_label TO room"),
    ],
)
def test_drops_and_renames_are_flagged(operation):
    (finding,) = findings_in(migration(operation))
    assert finding.migration == "projects.0042_change"


def test_safe_changes_pass():
    assert not findings_in(
        migration(
            migrations.AddField("photo", "note", models.TextField(null=True)),
            migrations.AddField("photo", "rank", models.IntegerField(db_default=0)),
            # Moving a model between apps: only Django's state changes, the table stays.
            migrations.SeparateDatabaseAndState(
                state_operations=[migrations.DeleteModel("Export")], database_operations=[]
            ),
            migrations.RunSQL("CREATE INDEX photo_rank ON projects_photo (rank)"),
        )
    )


def test_a_contract_step_says_why_and_passes():
    drop = migrations.RemoveField("photo", "room_label")
    assert not findings_in(migration(drop, contract="room is read since release 41"))
    # A state-and-database split still counts what reaches the database.
    split = migrations.SeparateDatabaseAndState(database_operations=[drop])
    assert len(findings_in(migration(split))) == 1


def test_the_tree_passes_the_gate(capsys):
    call_command("check_migrations")
    assert "migrations safe for a rolling deploy" in capsys.readouterr().out


@override_settings(MIGRATION_MODULES={"operations": "operations.tests.unsafe_migrations"})
def test_the_command_fails_naming_the_migration(capsys):
    with pytest.raises(CommandError, match="1 migration operation"):
        call_command("check_migrations")
    assert "operations.0002_drop_note: Remove field note from probe" in capsys.readouterr().err
