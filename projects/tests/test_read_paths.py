"""The API's hot read paths: a constant number of queries whatever the page, nothing written by a
GET, and ETags that let a polling app revalidate for a 304 until something it shows changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.db import connection
from django.db.models import Count, Max
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from photolisting.celery import app as celery_app
from projects.api.serializers import PhotoOutput
from projects.models import Photo
from projects.selectors import photos_changed, photos_visible
from projects.services import StoredResult, version_create
from projects.tests.factories import (
    FolderFactory,
    PhotoFactory,
    ProjectFactory,
    ready_photo_with_version,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_request_log_sample(settings):
    """The gateway logs a random tenth of API calls (an INSERT): counts must not depend on it."""
    settings.API_LOG_SAMPLE_RATE = 0


WRITES = ("INSERT", "UPDATE", "DELETE")


def queries_for(api, url: str) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url)
    assert response.status_code == 200, response.content
    return len(queries), response.json()


def is_absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def test_the_photo_list_takes_the_same_queries_for_2_or_40_photos(api, project):
    for _ in range(40):
        ready_photo_with_version(project)
    api.get("/api/v1/me")  # the caller's plan rate is read once, then cached
    few, small = queries_for(api, f"/api/v1/photos/?project={project.id}&page_size=2")
    many, large = queries_for(api, f"/api/v1/photos/?project={project.id}&page_size=40")
    assert len(small["results"]) == 2 and len(large["results"]) == 40
    assert all(p["versions"][0]["urls"]["thumbnail"] for p in large["results"])
    assert all(p["urls"]["preview"] and p["urls"]["original"] for p in large["results"])
    assert few == many


def test_a_photo_entry_has_exactly_the_fields_the_schema_declares(api, project):
    photo = ready_photo_with_version(project)
    entry = api.get(f"/api/v1/photos/{photo.id}/").json()
    assert list(entry) == PhotoOutput.Meta.fields
    assert entry["id"] == str(photo.id) and entry["project"] == str(project.id)
    assert entry["created_at"].endswith("Z")  # as DRF writes dates
    version = entry["versions"][0]
    assert set(version["urls"]) == {"thumbnail", "preview", "download"}
    assert is_absolute(version["urls"]["download"])  # this server, or S3 in S3 mode


def test_no_get_writes_and_an_access_is_recorded_by_a_worker(
    api, project, django_capture_on_commit_callbacks
):
    photo = ready_photo_with_version(project)
    Photo.objects.filter(pk=photo.pk).update(last_accessed_at=None)
    urls = [
        f"/api/v1/photos/?project={project.id}",
        f"/api/v1/photos/{photo.id}/",
        "/api/v1/projects/",
        f"/api/v1/projects/{project.id}/",
        "/api/v1/jobs/",
        "/api/v1/me",
    ]
    with (
        django_capture_on_commit_callbacks() as queued,
        CaptureQueriesContext(connection) as queries,
    ):
        for url in urls:
            assert api.get(url).status_code == 200, url
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]
    assert writes == []
    assert len(queued) == 1  # the detail's access, for a worker
    # The worker's part runs here, inside this test's transaction (a worker process could not
    # see the uncommitted rows of a non-transactional test).
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        queued[0]()
    finally:
        celery_app.conf.task_always_eager = eager
    photo.refresh_from_db()
    assert photo.last_accessed_at is not None


def test_the_photo_list_answers_304_until_something_shown_changes(api, project):
    photos = [ready_photo_with_version(project) for _ in range(3)]
    url = f"/api/v1/photos/?project={project.id}"
    first = api.get(url)
    tag = first["ETag"]
    assert first.status_code == 200 and tag.startswith('"')
    assert "private" in first["Cache-Control"] and "Accept-Language" in first["Vary"]

    again = api.get(url, HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == tag

    # A room label, the listing order, a new photo: each gives a new body and a new tag.
    assert (
        api.patch(f"/api/v1/photos/{photos[0].id}/", {"room_label": "Kitchen"}).status_code == 200
    )
    labelled = api.get(url, HTTP_IF_NONE_MATCH=tag)
    assert labelled.status_code == 200 and labelled["ETag"] != tag
    assert "Kitchen" in {p["room_label"] for p in labelled.json()["results"]}
    tag = labelled["ETag"]

    order = [str(photos[2].id), str(photos[1].id)]
    assert api.post(f"/api/v1/projects/{project.id}/order", {"photos": order}).status_code == 200
    reordered = api.get(url, HTTP_IF_NONE_MATCH=tag)
    assert reordered.status_code == 200 and reordered["ETag"] != tag
    tag = reordered["ETag"]

    ready_photo_with_version(project)
    grown = api.get(url, HTTP_IF_NONE_MATCH=tag)
    assert grown.status_code == 200 and len(grown.json()["results"]) == 4


def test_a_page_asked_again_is_answered_from_this_process_without_building_it(api, project):
    from django.core.cache import cache

    for _ in range(5):
        ready_photo_with_version(project)
    url = f"/api/v1/photos/?project={project.id}&page_size=5"
    api.get("/api/v1/me")
    built, first = queries_for(api, url)
    cache.clear()  # the shared cache forgets the body (and the session): this process has it
    kept, again = queries_for(api, url)
    assert again == first
    assert kept < built


def test_a_new_version_or_a_removed_photo_changes_the_tag(api, project):
    photo = ready_photo_with_version(project)
    other = ready_photo_with_version(project)
    url = f"/api/v1/photos/?project={project.id}"
    tag = api.get(url)["ETag"]
    # What a finished job does: a new version, through the one service that records it.
    stored = StoredResult(photo, "k/v2.jpg", "JPEG", 10, 10, 100, renditions={})
    version_create(stored=stored, preset_name="Bright", operations=[], ai_operations=[])
    processed = api.get(url, HTTP_IF_NONE_MATCH=tag)
    assert processed.status_code == 200
    entry = next(p for p in processed.json()["results"] if p["id"] == str(photo.id))
    assert [v["preset_name"] for v in entry["versions"]] == ["Bright", "Natural"]
    tag = processed["ETag"]
    assert api.delete(f"/api/v1/photos/{other.id}/").status_code == 204
    assert api.get(url, HTTP_IF_NONE_MATCH=tag).status_code == 200


def test_the_tag_depends_on_the_reader_language_and_link_window(api, project, settings):
    settings.SIGNED_URL_WINDOW = 300
    ready_photo_with_version(project)
    url = f"/api/v1/photos/?project={project.id}"
    start = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)
    with time_machine.travel(start + timedelta(seconds=10), tick=False):
        english = api.get(url)
        french = api.get(url, HTTP_ACCEPT_LANGUAGE="fr", HTTP_IF_NONE_MATCH=english["ETag"])
        assert french.status_code == 200 and french["ETag"] != english["ETag"]
    with time_machine.travel(start + timedelta(seconds=290), tick=False):
        assert api.get(url, HTTP_IF_NONE_MATCH=english["ETag"]).status_code == 304
    with time_machine.travel(start + timedelta(seconds=301), tick=False):
        # New links in a new window: the held body's links age out, so it is sent again.
        renewed = api.get(url, HTTP_IF_NONE_MATCH=english["ETag"])
        assert renewed.status_code == 200
        assert renewed.json()["results"][0]["urls"] != english.json()["results"][0]["urls"]


def test_another_readers_tag_is_not_theirs_and_lost_access_is_a_404(api, client_for, project):
    photo = ready_photo_with_version(project)
    tag = api.get(f"/api/v1/photos/{photo.id}/")["ETag"]
    stranger = client_for(UserFactory())
    refused = stranger.get(f"/api/v1/photos/{photo.id}/", HTTP_IF_NONE_MATCH=tag)
    assert refused.status_code == 404
    listed = stranger.get(f"/api/v1/photos/?project={project.id}", HTTP_IF_NONE_MATCH=tag)
    assert listed.status_code == 200 and listed.json()["results"] == []


def test_the_photo_detail_answers_304_until_the_delivered_version_changes(api, project):
    photo = ready_photo_with_version(project)
    url = f"/api/v1/photos/{photo.id}/"
    tag = api.get(url)["ETag"]
    assert api.get(url, HTTP_IF_NONE_MATCH=tag).status_code == 304
    assert api.get(url, HTTP_IF_NONE_MATCH=f'W/{tag}, "other"').status_code == 304
    assert api.post(f"{url}delivered", {"original": True}).status_code == 200
    changed = api.get(url, HTTP_IF_NONE_MATCH=tag)
    assert changed.status_code == 200 and changed.json()["deliver_original"] is True


def test_the_project_list_answers_304_until_a_project_or_its_photo_count_changes(api, user):
    project = ProjectFactory(owner=user)
    first = api.get("/api/v1/projects/")
    tag = first["ETag"]
    assert api.get("/api/v1/projects/", HTTP_IF_NONE_MATCH=tag).status_code == 304
    ready_photo_with_version(project)
    counted = api.get("/api/v1/projects/", HTTP_IF_NONE_MATCH=tag)
    assert counted.status_code == 200 and counted.json()["results"][0]["photo_count"] == 1
    tag = counted["ETag"]
    assert api.patch(f"/api/v1/projects/{project.id}/", {"name": "Villa"}).status_code == 200
    renamed = api.get("/api/v1/projects/", HTTP_IF_NONE_MATCH=tag)
    assert renamed.status_code == 200 and renamed.json()["results"][0]["name"] == "Villa"


def test_the_list_validator_counts_what_each_reader_sees_under_each_filter(user):
    """The validator's query is compiled once per filter pattern and rebound per call: for
    every pattern and reader it must count exactly the photos the list would show."""
    project, other = ProjectFactory(owner=user), ProjectFactory()
    kitchen = FolderFactory(project=project)
    PhotoFactory(project=project, folder=kitchen)
    PhotoFactory(project=project, status=Photo.Status.FAILED)
    PhotoFactory(project=other)
    for reader in (user, other.owner, UserFactory()):
        for filters in (
            {},
            {"project_id": project.id},
            {"project_id": other.id},
            {"project_id": project.id, "folder_id": kitchen.id},
            {"status": Photo.Status.FAILED},
            {"status": Photo.Status.READY, "project_id": project.id},
        ):
            expected = photos_visible(user=reader, **filters).aggregate(
                count=Count("id"), changed=Max("updated_at")
            )
            assert photos_changed(user=reader, **filters) == (
                expected["count"],
                expected["changed"],
            ), (reader, filters)
