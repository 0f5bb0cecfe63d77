"""Projects, folders and photos over /api/v1/: scoping, errors, pagination, signed links."""

from __future__ import annotations

import io
import time

import pytest
from django.core import signing
from PIL import Image

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory, UserFactory
from conftest import jpeg_bytes
from photolisting.storage import signed_url
from projects.models import Folder, Photo, Project
from projects.tests.factories import FolderFactory, ProjectFactory


def small_jpeg(shade: int = 120) -> bytes:
    return jpeg_bytes(Image.new("RGB", (64, 48), (shade, 90, 60)))


@pytest.mark.django_db
class TestProjects:
    def test_create_list_update_delete(self, api, user):
        created = api.post(
            "/api/v1/projects/",
            {"name": "Villa Sud", "address": "3 chemin des Pins", "listing_reference": "A-17"},
            format="json",
        )
        assert created.status_code == 201
        project_id = created.json()["id"]
        assert Project.objects.get(id=project_id).owner == user

        listing = api.get("/api/v1/projects/").json()
        assert [p["name"] for p in listing["results"]] == ["Villa Sud"]

        patched = api.patch(
            f"/api/v1/projects/{project_id}/", {"name": "Villa Nord"}, format="json"
        )
        assert patched.json()["name"] == "Villa Nord"

        assert api.delete(f"/api/v1/projects/{project_id}/").status_code == 204
        assert not Project.objects.filter(id=project_id).exists()

    def test_name_is_required(self, api):
        response = api.post("/api/v1/projects/", {"address": "nowhere"}, format="json")
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert "name" in error["details"] and error["message"].startswith("name:")

    def test_another_users_project_is_404_everywhere(self, api):
        theirs = ProjectFactory()
        for method, path, body in [
            ("get", f"/api/v1/projects/{theirs.id}/", None),
            ("patch", f"/api/v1/projects/{theirs.id}/", {"name": "mine now"}),
            ("delete", f"/api/v1/projects/{theirs.id}/", None),
            ("post", "/api/v1/folders/", {"project": str(theirs.id), "name": "Kitchen"}),
            ("get", f"/api/v1/folders/?project={theirs.id}", None),
        ]:
            response = getattr(api, method)(path, body, format="json")
            assert response.status_code == 404, (method, path)
            assert response.json()["error"]["code"] == "project_not_found"
        theirs.refresh_from_db()
        assert theirs.name != "mine now"
        assert api.get("/api/v1/projects/").json()["results"] == []

    def test_agency_projects_are_shared_and_only_admins_delete(self, api, user, client_for):
        membership = MembershipFactory(user=user, role=Membership.Role.MEMBER)
        colleague = MembershipFactory(agency=membership.agency, role=Membership.Role.ADMIN).user
        created = api.post(
            "/api/v1/projects/",
            {"name": "Agency listing", "agency": membership.agency_id},
            format="json",
        )
        assert created.status_code == 201
        project_id = created.json()["id"]
        colleague_api = client_for(colleague)
        assert colleague_api.get(f"/api/v1/projects/{project_id}/").status_code == 200

        refused = api.delete(f"/api/v1/projects/{project_id}/")
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "not_project_admin"
        assert colleague_api.delete(f"/api/v1/projects/{project_id}/").status_code == 204

    def test_cannot_create_in_an_agency_you_are_not_in(self, api):
        other = MembershipFactory()
        response = api.post(
            "/api/v1/projects/", {"name": "x", "agency": other.agency_id}, format="json"
        )
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "agency_not_found"

    def test_cursor_pagination_walks_every_project_once(self, api, user):
        for _ in range(5):
            ProjectFactory(owner=user)
        seen, url = [], "/api/v1/projects/?page_size=2"
        while url:
            page = api.get(url).json()
            assert len(page["results"]) <= 2
            seen += [p["id"] for p in page["results"]]
            url = page["next"]
        assert len(seen) == len(set(seen)) == 5


@pytest.mark.django_db
class TestFolders:
    def test_create_list_and_duplicate_name(self, api, project):
        body = {"project": str(project.id), "name": "Kitchen"}
        assert api.post("/api/v1/folders/", body, format="json").status_code == 201
        again = api.post("/api/v1/folders/", body, format="json")
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "folder_exists"
        listing = api.get(f"/api/v1/folders/?project={project.id}").json()
        assert [f["name"] for f in listing] == ["Kitchen"]

    def test_rename_and_rename_onto_an_existing_name(self, api, project):
        kitchen = FolderFactory(project=project, name="Kitchen")
        FolderFactory(project=project, name="Garden")
        renamed = api.patch(f"/api/v1/folders/{kitchen.id}/", {"name": "Cuisine"}, format="json")
        assert renamed.status_code == 200 and renamed.json()["name"] == "Cuisine"
        clash = api.patch(f"/api/v1/folders/{kitchen.id}/", {"name": "Garden"}, format="json")
        assert clash.status_code == 409
        kitchen.refresh_from_db()
        assert kitchen.name == "Cuisine"

    def test_delete_keeps_the_photos(self, api, project, upload):
        folder = FolderFactory(project=project)
        photo_id = upload(small_jpeg(), fields={"folder": str(folder.id)}).json()["id"]
        assert api.delete(f"/api/v1/folders/{folder.id}/").status_code == 204
        assert Photo.objects.get(id=photo_id).folder is None
        assert not Folder.objects.filter(id=folder.id).exists()

    def test_another_users_folder_is_404(self, api):
        folder = FolderFactory()
        assert api.get(f"/api/v1/folders/{folder.id}/").status_code == 404
        assert api.delete(f"/api/v1/folders/{folder.id}/").status_code == 404
        assert Folder.objects.filter(id=folder.id).exists()


@pytest.mark.django_db
class TestPhotos:
    def test_upload_to_another_users_project_or_folder_is_404(self, upload):
        theirs = ProjectFactory()
        response = upload(small_jpeg(), project_id=theirs.id)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "project_not_found"
        their_folder = FolderFactory()
        response = upload(small_jpeg(), fields={"folder": str(their_folder.id)})
        assert response.status_code == 404
        assert not Photo.objects.exists()

    def test_folder_of_another_project_is_refused(self, upload, user):
        mine_elsewhere = FolderFactory(project=ProjectFactory(owner=user))
        response = upload(small_jpeg(), fields={"folder": str(mine_elsewhere.id)})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "folder_mismatch"

    def test_another_users_photo_is_404(self, api, client_for, upload):
        photo_id = upload(small_jpeg()).json()["id"]
        stranger = client_for(UserFactory())
        assert stranger.get(f"/api/v1/photos/{photo_id}/").status_code == 404
        assert stranger.delete(f"/api/v1/photos/{photo_id}/").status_code == 404
        assert stranger.get("/api/v1/photos/").json()["results"] == []
        assert Photo.objects.filter(id=photo_id).exists()

    def test_list_filters_and_pages(self, api, project, upload, user):
        folder = FolderFactory(project=project)
        other_project = ProjectFactory(owner=user)
        in_folder = {
            upload(small_jpeg(i), fields={"folder": str(folder.id)}).json()["id"] for i in range(3)
        }
        upload(small_jpeg(), project_id=other_project.id)
        Photo.objects.filter(id__in=list(in_folder)[:1]).update(status=Photo.Status.REJECTED)

        def ids(query: str) -> set[str]:
            collected, url = set(), f"/api/v1/photos/?page_size=2&{query}"
            while url:
                page = api.get(url).json()
                collected |= {p["id"] for p in page["results"]}
                url = page["next"]
            return collected

        assert ids(f"folder={folder.id}") == in_folder
        assert len(ids(f"project={project.id}")) == 3
        assert len(ids("")) == 4
        assert ids("status=rejected") == set(list(in_folder)[:1])
        bad = api.get("/api/v1/photos/?status=lost")
        assert bad.status_code == 400 and "status" in bad.json()["error"]["details"]

    def test_delete_removes_the_stored_files(self, api, upload, django_capture_on_commit_callbacks):
        from django.core.files.storage import storages

        photo_id = upload(small_jpeg()).json()["id"]
        key = Photo.objects.get(id=photo_id).storage_key
        assert storages["originals"].exists(key)
        with django_capture_on_commit_callbacks(execute=True):
            assert api.delete(f"/api/v1/photos/{photo_id}/").status_code == 204
        assert not storages["originals"].exists(key)

    def test_keys_never_contain_the_client_file_name(self, upload):
        photo_id = upload(small_jpeg(), "../../etc/passwd .jpg").json()["id"]
        photo = Photo.objects.get(id=photo_id)
        assert "passwd" not in photo.storage_key and ".." not in photo.storage_key
        assert photo.original_filename == "passwd .jpg"


@pytest.mark.django_db
def test_anonymous_requests_get_a_json_401_or_403():
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/projects/")
    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
def test_unknown_api_path_is_a_json_404(api):
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/photos/" in schema.content and b"Idempotency-Key" in schema.content
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.django_db
class TestSignedLinks:
    def test_original_is_served_with_the_uploaded_bytes(self, api, upload, fetch):
        data = small_jpeg()
        body = upload(data).json()
        status, _headers, content = fetch(body["urls"]["original"])
        assert status == 200 and content == data
        assert body["urls"]["expires_in"] > 0

    def test_tampered_and_expired_local_links_are_refused(self, client, upload, settings):
        if settings.STORAGE_BACKEND != "local":
            pytest.skip("the signed Django view serves local storage only")
        photo = Photo.objects.get(id=upload(small_jpeg()).json()["id"])
        url = signed_url(
            "originals", photo.storage_key, content_type="image/jpeg", filename="a.jpg"
        )
        assert client.get(url).status_code == 200
        token = url.rstrip("/").rsplit("/", 1)[-1]
        forged = signing.dumps(
            {
                "s": "originals",
                "k": "../../db.sqlite3",
                "t": "text/plain",
                "f": "x",
                "i": 1,
                "e": 2**40,
            },
            salt="another-salt",
        )
        assert client.get(url.replace(token, forged)).status_code == 403
        assert client.get(url[:-3] + "abc").status_code == 403
        expired = signed_url(
            "originals", photo.storage_key, content_type="image/jpeg", filename="a.jpg", max_age=1
        )
        time.sleep(1.1)
        assert client.get(expired).status_code == 403

    def test_presigned_s3_links(self, upload, fetch, settings):
        if settings.STORAGE_BACKEND != "s3":
            pytest.skip("S3 mode only")
        photo = Photo.objects.get(id=upload(small_jpeg()).json()["id"])
        url = signed_url(
            "originals", photo.storage_key, content_type="image/jpeg", filename="a.jpg"
        )
        assert "X-Amz-Signature=" in url and "X-Amz-Expires=" in url
        status, _headers, body = fetch(url)
        assert status == 200 and Image.open(io.BytesIO(body)).size == (64, 48)

    def test_tampered_and_expired_s3_links_are_refused(self, upload, fetch, settings):
        """moto does not check presigned signatures: a gate doing S3's SigV4 check sits in front."""
        if settings.STORAGE_BACKEND != "s3":
            pytest.skip("S3 mode only")
        from django.core.files.storage import storages

        from tests.fakes import s3_presign_gate

        upstream = settings.STORAGES["originals"]["OPTIONS"]["endpoint_url"]
        gate, gate_url = s3_presign_gate.start(upstream, storages["originals"].secret_key)
        try:
            photo = Photo.objects.get(id=upload(small_jpeg()).json()["id"])
            url = signed_url(
                "originals", photo.storage_key, content_type="image/jpeg", filename="a.jpg"
            )
            through_gate = url.replace(upstream, gate_url)
            status, headers, body = fetch(through_gate)
            assert status == 200 and Image.open(io.BytesIO(body)).size == (64, 48)
            assert headers["Content-Disposition"] == 'inline; filename="a.jpg"'
            forged = through_gate.replace("filename%3D%22a.jpg", "filename%3D%22b.jpg")
            assert forged != through_gate and fetch(forged)[0] == 403
            other_key = through_gate.replace("original.jpg", "original.png")
            assert fetch(other_key)[0] == 403
            short = signed_url(
                "originals",
                photo.storage_key,
                content_type="image/jpeg",
                filename="a.jpg",
                max_age=1,
            ).replace(upstream, gate_url)
            assert fetch(short)[0] == 200
            time.sleep(2.1)
            assert fetch(short)[0] == 403
        finally:
            gate.shutdown()


@pytest.mark.django_db
def test_local_links_serve_ranges_and_etags(client, upload, settings):
    if settings.STORAGE_BACKEND != "local":
        pytest.skip("the signed Django view serves local storage only")
    data = small_jpeg()
    photo = Photo.objects.get(id=upload(data).json()["id"])
    url = signed_url("originals", photo.storage_key, content_type="image/jpeg", filename="a.jpg")

    def body(response):
        return b"".join(response.streaming_content)

    whole = client.get(url)
    assert whole["Accept-Ranges"] == "bytes" and body(whole) == data
    etag = whole["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    part = client.get(url, HTTP_RANGE="bytes=10-19")
    assert part.status_code == 206 and body(part) == data[10:20]
    assert part["Content-Range"] == f"bytes 10-19/{len(data)}"
    tail = client.get(url, HTTP_RANGE="bytes=-5")
    assert body(tail) == data[-5:]
    assert client.get(url, HTTP_RANGE=f"bytes={len(data) + 10}-").status_code == 416


def test_cloudfront_signed_links_when_a_key_is_configured(settings):
    """With a CloudFront key pair, links are CloudFront-signed: checked here with the public key."""
    import base64
    import json as jsonlib
    from urllib.parse import parse_qs, urlsplit

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    from photolisting.settings.keys import new_private_key_pem

    pem = new_private_key_pem()
    settings.STORAGE_BACKEND = "s3"
    settings.STORAGES = {
        **settings.STORAGES,
        "originals": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "pl-originals",
                "region_name": "eu-west-3",
                "access_key": "AKIATEST",
                "secret_key": "secret",
                "custom_domain": "cdn.photolisting.example",
                "cloudfront_key_id": "K2JCJMDEHXQW5F",
                "cloudfront_key": pem,
                "querystring_auth": True,
            },
        },
    }
    url = signed_url(
        "originals", "p/1/original.jpg", content_type="image/jpeg", filename="a b.jpg", max_age=600
    )
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.netloc == "cdn.photolisting.example"
    assert query["Key-Pair-Id"] == ["K2JCJMDEHXQW5F"]
    assert query["response-content-disposition"] == ['inline; filename="a b.jpg"']
    expires = int(query["Expires"][0])
    assert 0 < expires - time.time() <= 601
    resource = url.split("&Expires=")[0]
    policy = jsonlib.dumps(
        {
            "Statement": [
                {"Resource": resource, "Condition": {"DateLessThan": {"AWS:EpochTime": expires}}}
            ]
        },
        separators=(",", ":"),
    ).encode()
    signature = base64.b64decode(
        query["Signature"][0].replace("-", "+").replace("_", "=").replace("~", "/")
    )
    public = serialization.load_pem_private_key(pem.encode(), None).public_key()
    public.verify(signature, policy, padding.PKCS1v15(), hashes.SHA1())  # raises if forged
