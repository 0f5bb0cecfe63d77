"""Request bodies over the limit are refused from their Content-Length, before they are read:
a 300 MB PUT to the local upload endpoint is answered 413 while the client is still sending, and
the server's memory does not grow."""

from __future__ import annotations

import hashlib
import resource
import socket
from urllib.parse import urlsplit

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db(transaction=True)

MB = 1024 * 1024


def local_put_target(api, project, size: int) -> str:
    if settings.STORAGE_BACKEND != "local":
        pytest.skip("the signed PUT endpoint exists with local storage only")
    started = api.post(
        "/api/v1/uploads/",
        {
            "project": str(project.id),
            "filename": "IMG_1.JPG",
            "content_type": "image/jpeg",
            "size": size,
            "sha256": hashlib.sha256(b"x").hexdigest(),
        },
        format="json",
    )
    assert started.status_code == 201, started.content
    target = started.json()["target"]
    assert target["method"] == "PUT"
    parts = urlsplit(target["url"])
    return f"{parts.path}?{parts.query}"


def put_until_answered(base_url: str, path: str, declared: int, send_at_most: int) -> bytes:
    """Sends headers announcing ``declared`` bytes, then body bytes until the server answers
    (or ``send_at_most`` is sent); returns the answer's head."""
    host, port = urlsplit(base_url).hostname, urlsplit(base_url).port
    with socket.create_connection((host, port), timeout=10) as connection:
        connection.sendall(
            f"PUT {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/octet-stream\r\n"
            "Accept-Language: fr\r\n"
            f"Content-Length: {declared}\r\nConnection: close\r\n\r\n".encode()
        )
        chunk, sent = b"\0" * MB, 0
        connection.settimeout(0.05)
        while sent < send_at_most:
            try:
                answer = connection.recv(4096)
            except TimeoutError:
                answer = b""
            if answer:
                return answer + rest_of_answer(connection)
            try:
                connection.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        connection.settimeout(10)
        return rest_of_answer(connection)


def rest_of_answer(connection: socket.socket) -> bytes:
    """What the server still sends (its JSON body), until it closes or falls silent."""
    connection.settimeout(2)
    received = b""
    try:
        while chunk := connection.recv(4096):
            received += chunk
            if received.rstrip().endswith(b"}"):
                break
    except (TimeoutError, ConnectionResetError):
        pass
    return received


def test_a_300_mb_put_is_refused_before_it_is_read_with_flat_memory(live_server, api, project):
    path = local_put_target(api, project, size=5 * MB)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB, this process
    answer = put_until_answered(live_server.url, path, declared=300 * MB, send_at_most=40 * MB)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"request_too_large" in answer and b"La requ" in answer  # in the reader's language
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown_kib < 20 * 1024, f"peak memory grew by {grown_kib} KiB"


def test_a_span_longer_than_the_upload_declared_is_refused_unread(live_server, api, project):
    path = local_put_target(api, project, size=1 * MB)
    answer = put_until_answered(live_server.url, path, declared=20 * MB, send_at_most=15 * MB)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"file_too_large" in answer
