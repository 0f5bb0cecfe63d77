"""Writes Schemathesis' config for ``scripts/schemathesis.sh``: the seeded demo account's ids as
dictionaries, so generated requests reach real rows (not only 404s) about half of the time.
Deletes keep random ids: a deleted demo project would leave every later request a 404."""

from __future__ import annotations

import json
import sys
import uuid

import django

django.setup()

from accounts.models import Membership, User  # noqa: E402
from processing.models import Batch, Job  # noqa: E402
from projects.models import Photo, Project  # noqa: E402

user = User.objects.get(email="demo@photolisting.local")
membership = Membership.objects.filter(agency__memberships__user=user).exclude(user=user).first()
ids = {
    "project": [str(pk) for pk in Project.objects.filter(owner=user).values_list("id", flat=True)],
    "photo": [
        str(pk) for pk in Photo.objects.filter(project__owner=user).values_list("id", flat=True)
    ],
    "job": [str(pk) for pk in Job.objects.filter(project__owner=user).values_list("id", flat=True)],
    "batch": [
        str(pk) for pk in Batch.objects.filter(project__owner=user).values_list("id", flat=True)
    ],
    "agency": [membership.agency_id] if membership else [],
    "member": [membership.user_id] if membership else [],
    "preset": ["bright-airy"],
}
bindings = {
    "path.project_id": "project",
    "query.project": "project",
    "path.photo_id": "photo",
    "query.photo": "photo",
    "path.job_id": "job",
    "path.batch_id": "batch",
    "query.batch": "batch",
    "path.agency_id": "agency",
    "query.agency": "agency",
    "path.user_id": "member",
    "path.preset_ref": "preset",
}
lines = []
for name, values in ids.items():
    if values:
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
lines.append("[parameters]")
for key, name in bindings.items():
    if ids[name]:
        lines.append(f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}')
# Deletes aim at ids nobody has, so the demo rows live through the run.
nobody = {
    "path.project_id": str(uuid.UUID(int=0)),
    "path.photo_id": str(uuid.UUID(int=0)),
    "path.agency_id": 0,
    "path.user_id": 0,
    "path.preset_ref": "nobody",
}
lines += ["", "[[operations]]", 'include-method = "DELETE"', "[operations.parameters]"]
lines += [f'"{key}" = {json.dumps(value)}' for key, value in nobody.items()]
sys.stdout.write("\n".join(lines) + "\n")
