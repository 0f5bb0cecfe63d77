"""A project's photo list polled by an app, answered from stamps in Redis (``projects.stamps``):
without reading a photo while nothing changed, and never an old list once anything it shows
changed — whichever way it changed."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import MembershipFactory
from projects.models import Folder, Photo
from projects.tests.factories import PhotoFactory, PhotoVersionFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def photos(app, project, tag: str | None = None):
    url = f"/api/v1/photos/?project={project.id}"
    return app.get(url, HTTP_IF_NONE_MATCH=tag) if tag else app.get(url)


def reads_photos(queries: CaptureQueriesContext) -> bool:
    return any('FROM "projects_photo"' in query["sql"] for query in queries)


def test_an_unchanged_list_is_answered_without_reading_photos(project, app_for):
    PhotoFactory.create_batch(3, project=project)
    app = app_for(project.owner)
    first = photos(app, project)
    assert first.status_code == 200 and len(first.json()["results"]) == 3
    with CaptureQueriesContext(connection) as queries:
        unchanged = photos(app, project, first["ETag"])
        again = photos(app, project)
    assert unchanged.status_code == 304
    assert again.status_code == 200 and again.json() == first.json()
    assert not reads_photos(queries), queries.captured_queries


def _upload_another(app, project, listed):
    PhotoFactory(project=project)
    return lambda body: len(body["results"]) == len(listed) + 1


def _delete_one_through_the_api(app, project, listed):
    assert app.delete(f"/api/v1/photos/{listed[0]['id']}/").status_code == 204
    return lambda body: listed[0]["id"] not in {p["id"] for p in body["results"]}


def _add_a_version(app, project, listed):
    PhotoVersionFactory(photo=Photo.objects.get(pk=listed[0]["id"]), preset_name="Twilight")
    return lambda body: any(
        v["preset_name"] == "Twilight" for p in body["results"] for v in p["versions"]
    )


def _reorder_through_the_api(app, project, listed):
    order = [p["id"] for p in reversed(listed)]
    answer = app.post(f"/api/v1/projects/{project.id}/order", {"photos": order}, format="json")
    assert answer.status_code == 200
    return lambda body: (
        {p["id"]: p["position"] for p in body["results"]}
        == {photo_id: index for index, photo_id in enumerate(order)}
    )


def _update_rows(app, project, listed):
    Photo.objects.filter(pk=listed[0]["id"]).update(status=Photo.Status.FAILED)
    return lambda body: (
        body["results"][[p["id"] for p in body["results"]].index(listed[0]["id"])]["status"]
        == "failed"
    )


def _delete_their_folder(app, project, listed):
    Folder.objects.get(photos__id=listed[0]["id"]).delete()
    return lambda body: all(p["folder"] is None for p in body["results"])


@pytest.mark.parametrize(
    "change",
    [
        _upload_another,
        _delete_one_through_the_api,
        _add_a_version,
        _reorder_through_the_api,
        _update_rows,
        _delete_their_folder,
    ],
    ids=lambda change: change.__name__.strip("_"),
)
def test_every_change_to_a_listed_photo_ends_the_lists_304(project, change, app_for):
    folder = Folder.objects.create(project=project, name="Kitchen")
    PhotoFactory.create_batch(3, project=project, folder=folder)
    app = app_for(project.owner)
    first = photos(app, project)
    listed = first.json()["results"]
    assert photos(app, project, first["ETag"]).status_code == 304

    shows_it = change(app, project, listed)

    moved = photos(app, project, first["ETag"])
    assert moved.status_code == 200 and moved["ETag"] != first["ETag"]
    assert shows_it(moved.json()), moved.json()
    assert photos(app, project, moved["ETag"]).status_code == 304


def test_another_projects_changes_leave_this_lists_304(project, app_for):
    PhotoFactory(project=project)
    app = app_for(project.owner)
    tag = photos(app, project)["ETag"]
    PhotoFactory(project=ProjectFactory(owner=project.owner))
    assert photos(app, project, tag).status_code == 304


def test_a_reader_who_lost_access_no_longer_sees_the_photos(app_for):
    membership = MembershipFactory()
    project = ProjectFactory(agency=membership.agency, owner=None)
    PhotoFactory(project=project)
    app = app_for(membership.user)
    first = photos(app, project)
    assert len(first.json()["results"]) == 1
    membership.delete()
    after = photos(app, project, first["ETag"])
    assert after.status_code == 200 and after.json()["results"] == []
