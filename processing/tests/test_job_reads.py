"""Job list and job status as apps poll them: a constant number of queries whatever the page,
and a 304 for a job whose status has not moved."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import MembershipFactory, UserFactory
from processing.api.serializers import JobOutput
from processing.models import Job
from processing.selectors import job_row_get, job_rows
from processing.tests.factories import BatchFactory, JobFactory
from projects.models import Rendition
from projects.tests.factories import PhotoVersionFactory, RenditionFactory
from projects.tests.test_read_paths import is_absolute

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_request_log_sample(settings):
    """The gateway logs a random tenth of API calls (an INSERT): counts must not depend on it."""
    settings.API_LOG_SAMPLE_RATE = 0


def finished_job(batch) -> Job:
    """A succeeded job with its result version and the version's renditions."""
    job = JobFactory(batch=batch, status=Job.Status.SUCCEEDED, progress=100)
    version = PhotoVersionFactory(photo=job.photo)
    for spec in Rendition.Spec.values:
        RenditionFactory(photo=job.photo, version=version, spec=spec)
    Job.objects.filter(pk=job.pk).update(result_version=version)
    return job


def test_the_job_list_takes_the_same_queries_for_2_or_30_jobs(api, project):
    batch = BatchFactory(project=project)
    for _ in range(30):
        finished_job(batch)
    api.get("/api/v1/me")  # the caller's plan rate is read once, then cached
    counts = {}
    for size in (2, 30):
        with CaptureQueriesContext(connection) as queries:
            page = api.get(f"/api/v1/jobs/?batch={batch.id}&page_size={size}").json()
        counts[size] = len(queries)
        assert len(page["results"]) == size
        assert all(job["result"]["urls"]["thumbnail"] for job in page["results"])
    assert counts[2] == counts[30]


def test_a_job_entry_has_exactly_the_fields_the_schema_declares(api, project):
    job = finished_job(BatchFactory(project=project))
    entry = api.get(f"/api/v1/jobs/{job.id}/").json()
    assert list(entry) == JobOutput.Meta.fields
    assert entry["cost"] == "0.000000" and entry["error"] is None
    assert is_absolute(entry["result"]["urls"]["download"])  # this server, or S3 in S3 mode


def test_job_status_answers_304_until_the_job_moves(api, project):
    job = JobFactory(batch=BatchFactory(project=project))
    url = f"/api/v1/jobs/{job.id}/"
    first = api.get(url)
    assert first.status_code == 200 and first.json()["status"] == "queued"
    tag = first["ETag"]
    with CaptureQueriesContext(connection) as queries:
        again = api.get(url, HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304 and again.content == b""
    assert not any("projects_rendition" in q["sql"] for q in queries)  # no links built
    assert api.post(f"{url}cancel").status_code == 200
    moved = api.get(url, HTTP_IF_NONE_MATCH=tag)
    assert moved.status_code == 200 and moved.json()["status"] == "cancelled"
    assert moved["ETag"] != tag


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL prepares statements")
def test_job_status_polls_run_a_statement_the_server_prepared_once(api, project, settings):
    job = finished_job(BatchFactory(project=project))
    url = f"/api/v1/jobs/{job.id}/"

    def executions() -> int:
        """Runs of prepared job statements in this connection, the one the API calls use."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(sum(generic_plans + custom_plans), 0) FROM pg_prepared_statements"
                " WHERE statement LIKE %s",
                ['%FROM "processing_job"%'],
            )
            return cursor.fetchone()[0]

    settings.DATABASE_PREPARED_STATEMENTS = False  # behind a pooler that cannot keep them
    before = executions()
    unprepared = api.get(url)
    assert executions() == before
    settings.DATABASE_PREPARED_STATEMENTS = True
    answers = [api.get(url) for _ in range(2)]
    assert executions() == before + 2
    assert [a.json() for a in answers] == [unprepared.json()] * 2
    assert {a["ETag"] for a in answers} == {unprepared["ETag"]}


def test_the_job_list_answers_304_until_a_job_on_the_page_moves(api, project):
    batch = BatchFactory(project=project)
    jobs = [JobFactory(batch=batch) for _ in range(3)]
    url = f"/api/v1/jobs/?batch={batch.id}"
    tag = api.get(url)["ETag"]
    assert api.get(url, HTTP_IF_NONE_MATCH=tag).status_code == 304
    Job.objects.filter(pk=jobs[1].pk).update(progress=40, status=Job.Status.RUNNING)
    moved = api.get(url, HTTP_IF_NONE_MATCH=tag)
    assert moved.status_code == 200
    assert {j["progress"] for j in moved.json()["results"]} == {0, 40}


def test_a_job_status_reads_the_same_as_the_orm_and_only_for_its_readers(api, project, client_for):
    """The status query is compiled once and rebound per call: another reader's call (bound
    to their id) must not see this job, and every value converts as the ORM converts it."""
    job = finished_job(BatchFactory(project=project))
    Job.objects.filter(pk=job.pk).update(
        provider_usage={"input_tokens": 12, "images": [1, 2]}, cost="0.125000"
    )
    mine = api.get(f"/api/v1/jobs/{job.id}/")
    assert mine.status_code == 200 and mine.json()["provider_usage"]["images"] == [1, 2]
    assert mine.json()["cost"] == "0.125000"
    assert job_row_get(user=project.owner, job_id=str(job.id)) == job_rows(user=project.owner).get(
        pk=job.pk
    )

    stranger = client_for(UserFactory()).get(f"/api/v1/jobs/{job.id}/")
    assert stranger.status_code == 404
    assert stranger.json()["error"]["code"] == "job_not_found"
    for malformed in ("abc", "0", "null"):
        assert api.get(f"/api/v1/jobs/{malformed}/").status_code == 404

    # An agency colleague sees a job of an agency project (the membership subquery is bound).
    agency_job = finished_job(
        BatchFactory(project__agency=MembershipFactory().agency, project__owner=None)
    )
    colleague = MembershipFactory(agency=agency_job.project.agency).user
    assert client_for(colleague).get(f"/api/v1/jobs/{agency_job.id}/").status_code == 200
    assert api.get(f"/api/v1/jobs/{agency_job.id}/").status_code == 404
