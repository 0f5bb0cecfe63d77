"""Job status polls answered from stamps in Redis (``processing.stamps``): without reading the
job's row while nothing changed, and never an old answer once anything the answer shows changed —
whichever way it changed."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.tests.factories import MembershipFactory, UserFactory
from processing.models import Job, Preset
from processing.tests.factories import BatchFactory, JobFactory
from processing.tests.test_job_reads import finished_job

pytestmark = pytest.mark.django_db


def poll(app: APIClient, job: Job, tag: str | None = None):
    url = f"/api/v1/jobs/{job.id}/"
    return app.get(url, HTTP_IF_NONE_MATCH=tag) if tag else app.get(url)


def reads_job_rows(queries: CaptureQueriesContext) -> bool:
    return any('FROM "processing_job"' in query["sql"] for query in queries)


def test_an_unchanged_job_is_answered_without_reading_its_row(project, app_for):
    job = finished_job(BatchFactory(project=project))
    app = app_for(project.owner)
    first = poll(app, job)
    assert first.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        unchanged = poll(app, job, first["ETag"])
        again = poll(app, job)
    assert unchanged.status_code == 304 and unchanged["ETag"] == first["ETag"]
    assert again.status_code == 200 and again.json() == first.json()
    assert not reads_job_rows(queries), queries.captured_queries


def _cancel_through_the_api(app, job):
    assert app.post(f"/api/v1/jobs/{job.id}/cancel").status_code == 200
    return lambda entry: entry["status"] == "cancelled"


def _save_the_row(app, job):
    job.progress = 55
    job.save()
    return lambda entry: entry["progress"] == 55


def _bulk_update(app, job):
    job.attempts = 3
    Job.objects.bulk_update([job], ["attempts"])
    return lambda entry: entry["attempts"] == 3


def _delete_the_result_version(app, job):
    job.result_version.delete()
    return lambda entry: entry["result"] is None


@pytest.mark.parametrize(
    "change",
    [_cancel_through_the_api, _save_the_row, _bulk_update, _delete_the_result_version],
    ids=lambda change: change.__name__.strip("_"),
)
def test_every_change_to_what_a_job_shows_ends_its_304(project, change, app_for):
    job = finished_job(BatchFactory(project=project))
    if change is _cancel_through_the_api:
        job = JobFactory(batch=job.batch)  # only queued or running jobs cancel
    app = app_for(project.owner)
    tag = poll(app, job)["ETag"]
    assert poll(app, job, tag).status_code == 304

    shows_it = change(app, Job.objects.get(pk=job.pk))

    moved = poll(app, job, tag)
    assert moved.status_code == 200 and moved["ETag"] != tag
    assert shows_it(moved.json()), moved.json()
    assert poll(app, job, moved["ETag"]).status_code == 304  # and polls are cheap again


def test_a_deleted_preset_leaves_its_jobs_naming_none(project, app_for):
    job = finished_job(BatchFactory(project=project))
    preset = Preset.objects.create(name="Twilight", owner=project.owner, operations=[])
    Job.objects.filter(pk=job.pk).update(preset=preset)
    app = app_for(project.owner)
    tag = poll(app, job)["ETag"]
    assert poll(app, job, tag).status_code == 304
    preset.delete()  # the job's column is set to NULL by Django, without signals
    moved = poll(app, job, tag)
    assert moved.status_code == 200 and moved.json()["preset"] is None


def test_a_reader_who_lost_access_is_told_the_job_is_not_theirs(app_for):
    job = finished_job(
        BatchFactory(project__agency=MembershipFactory().agency, project__owner=None)
    )
    membership = MembershipFactory(agency=job.project.agency)
    app = app_for(membership.user)
    tag = poll(app, job)["ETag"]
    assert poll(app, job, tag).status_code == 304
    membership.delete()
    gone = poll(app, job, tag)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "job_not_found"


def test_a_project_given_to_someone_else_is_no_longer_its_old_owners(project, app_for):
    job = finished_job(BatchFactory(project=project))
    app = app_for(project.owner)
    tag = poll(app, job)["ETag"]
    project.owner = UserFactory()
    project.save()
    assert poll(app, job, tag).status_code == 404


def test_a_job_deleted_with_its_photo_is_gone_for_its_poller(project, app_for):
    job = finished_job(BatchFactory(project=project))
    app = app_for(project.owner)
    tag = poll(app, job)["ETag"]
    job.photo.delete()
    assert poll(app, job, tag).status_code == 404


def test_a_lost_stamp_costs_one_full_answer_not_a_wrong_one(project, app_for):
    job = finished_job(BatchFactory(project=project))
    app = app_for(project.owner)
    first = poll(app, job)
    cache.delete(f"job-stamp:{job.id}")  # evicted, expired, or Redis restarted
    again = poll(app, job, first["ETag"])
    assert again.status_code == 200 and again.json() == first.json()
    assert poll(app, job, again["ETag"]).status_code == 304


def test_another_callers_stamps_do_not_answer_for_a_job_they_cannot_see(project, app_for):
    job = finished_job(BatchFactory(project=project))
    owner_tag = poll(app_for(project.owner), job)["ETag"]
    stranger = app_for(UserFactory())
    refused = poll(stranger, job, owner_tag)
    assert refused.status_code == 404
