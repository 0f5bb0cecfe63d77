"""Job entries of the API as plain dicts, built from the values ``selectors.job_rows`` fetches:
the shape ``JobOutput`` declares for the schema, without DRF's per-field machinery or model
instances (apps poll job status every second)."""

from __future__ import annotations

from decimal import Decimal

from rest_framework.request import Request

from processing.models import Job
from processing.services import job_error_message
from projects.links import absolutizer, version_entry
from projects.selectors import VERSION_FIELDS, version_renditions

_COST_PLACES = Decimal("0.000001")  # Job.cost's decimal places, written as DRF writes decimals


def job_entries(rows: list[dict], *, request: Request | None) -> list[dict]:
    """Entries for job rows: one more query (the results' renditions), however many."""
    renditions = version_renditions(
        version_ids=[row["result_version_id"] for row in rows if row["result_version_id"]]
    )
    absolute = absolutizer(request)
    entries = []
    for row in rows:
        result = None
        if row["result_version_id"] is not None:
            result = version_entry(
                {name: row[f"result_version__{name}"] for name in VERSION_FIELDS},
                renditions.get(row["result_version_id"], {}),
                photo_filename=row["result_version__photo__original_filename"],
                absolute=absolute,
            )
        error = None
        if row["error_code"] and row["status"] != Job.Status.SUCCEEDED:
            error = {
                "code": row["error_code"],
                "message": job_error_message(row["error_code"], row["error_message"]),
            }
        entries.append(
            {
                "id": str(row["id"]),
                "batch": str(row["batch_id"]),
                "photo": str(row["photo_id"]),
                "bracket": row["bracket"],
                "preset": None if row["preset_id"] is None else str(row["preset_id"]),
                "preset_name": row["preset_name"],
                "lane": row["lane"],
                "status": row["status"],
                "progress": row["progress"],
                "attempts": row["attempts"],
                "error": error,
                "provider_usage": row["provider_usage"],
                "cost": format(row["cost"].quantize(_COST_PLACES), "f"),
                "result": result,
                "created_at": row["created_at"],
                "started_at": row["started_at"],
                "finished_at": row["finished_at"],
            }
        )
    return entries
