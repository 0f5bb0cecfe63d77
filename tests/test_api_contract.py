"""The OpenAPI schema says what the API really answers: the shared error shape for every
refusal, pages where lists are paginated, arrays where they are not, 304 behind ETags. Schemathesis
checks the running app against it in CI (``scripts/schemathesis.sh``); these pin the shapes."""

from __future__ import annotations

import pytest
from django.conf import settings

from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

ERROR = {"$ref": "#/components/schemas/ErrorOutput"}


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        return APIClient().get("/api/schema/", {"format": "json"}).json()


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method.upper(), operation


def error_schema(operation: dict, code: int) -> dict | None:
    answer = operation["responses"].get(str(code))
    return answer and answer["content"]["application/json"]["schema"]


def test_every_operation_documents_the_shared_refusals_in_the_error_shape(schema):
    error = schema["components"]["schemas"]["ErrorOutput"]
    assert error["required"] == ["error"]
    detail = schema["components"]["schemas"][error["properties"]["error"]["$ref"].split("/")[-1]]
    assert set(detail["required"]) == {"code", "message"} and "details" in detail["properties"]

    checked = 0
    for path, method, operation in operations(schema):
        assert error_schema(operation, 429) == ERROR, (method, path)
        if path != "/api/v1/uploads/{upload_id}/data":  # the signed link is the credential
            assert error_schema(operation, 401) == error_schema(operation, 403) == ERROR
        if "{" in path or method in ("POST", "PUT", "PATCH"):
            assert error_schema(operation, 404) == ERROR, (method, path)
        if method in ("POST", "PUT", "PATCH"):
            for code in (400, 413, 415):
                assert error_schema(operation, code) == ERROR, (method, path, code)
        checked += 1
    assert checked > 50


def test_what_only_some_operations_answer_is_documented_where_they_answer_it(schema):
    paths = schema["paths"]
    for path in ("/api/v1/projects/", "/api/v1/photos/", "/api/v1/jobs/"):
        assert (
            "304" in paths[path]["get"]["responses"]
            and "content" not in (paths[path]["get"]["responses"]["304"])
        )
    assert "304" not in paths["/api/v1/folders/"]["get"]["responses"]
    assert error_schema(paths["/api/v1/projects/"]["post"], 402) == ERROR  # projects limit
    assert error_schema(paths["/api/v1/jobs/"]["post"], 422) == ERROR  # not one scene
    assert error_schema(paths["/api/v1/uploads/{upload_id}/complete"]["post"], 409) == ERROR
    assert error_schema(paths["/api/v1/billing/checkout"]["post"], 503) == ERROR
    members = paths["/api/v1/agencies/{agency_id}/members/"]["post"]["responses"]
    assert {"201", "202", "402", "409"} <= set(members)


def test_paginated_lists_are_documented_as_pages_and_whole_lists_as_arrays(schema):
    components = schema["components"]["schemas"]
    for path in ("/api/v1/projects/", "/api/v1/photos/", "/api/v1/jobs/"):
        page = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        properties = components[page["schema"]["$ref"].split("/")[-1]]["properties"]
        assert {"next", "previous", "results"} <= set(properties), path
        assert properties["results"]["type"] == "array"
        names = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert {"cursor", "page_size"} <= names, path
    for path in (
        "/api/v1/operations/",
        "/api/v1/export-profiles/",
        "/api/v1/projects/{project_id}/share-links/",
    ):
        answer = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert answer["schema"]["type"] == "array", path


def test_a_project_always_shows_an_integer_photo_count(api, user):
    created = api.post("/api/v1/projects/", {"name": "12 Rue des Lilas"}, format="json")
    assert created.status_code == 201 and created.json()["photo_count"] == 0
    changed = api.patch(f"/api/v1/projects/{created.json()['id']}/", {"name": "14"}, format="json")
    assert changed.json()["photo_count"] == 0


def test_a_request_django_refuses_before_any_view_is_answered_in_the_error_shape(api, user):
    project = ProjectFactory(owner=user)
    too_many = [str(project.id)] * (settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)
    refused = api.post(
        f"/api/v1/projects/{project.id}/order", {"photos": too_many}, format="multipart"
    )
    assert refused.status_code == 400
    assert refused["Content-Type"] == "application/json"
    assert refused.json()["error"]["code"] == "bad_request"
    body = "&".join(f"photos={photo}" for photo in too_many)
    page = api.post("/i18n/setlang/", body, content_type="application/x-www-form-urlencoded")
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "accept", [None, "*/*", "application/json", "text/html, application/json;q=0.9", "*/*;q=0.1"]
)
def test_json_answers_every_accept_that_admits_it(api, user, accept):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    answer = api.get("/api/v1/me", **headers)
    assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
    assert answer.json()["email"] == user.email


@pytest.mark.parametrize(
    ("asked", "status", "code"),
    [
        ({"HTTP_ACCEPT": "text/html"}, 406, "not_acceptable"),
        ({"QUERY_STRING": "format=xml"}, 404, "not_found"),  # DRF: no such format here
    ],
)
def test_an_answer_the_caller_cannot_take_is_refused_not_sent(api, asked, status, code):
    refused = api.get("/api/v1/me", **asked)
    assert refused.status_code == status and refused.json()["error"]["code"] == code
