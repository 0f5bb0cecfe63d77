"""The image's HEALTHCHECK: GET /healthz on this container's gunicorn, stdlib only.

Sent with the first ALLOWED_HOSTS name as Host, which Django requires; /healthz is exempt from
the https redirect. Exit 0 when it answers 200, 1 otherwise (Docker's contract)."""

import http.client
import os
import sys

host = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip().lstrip(".")
port = int(os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[1])
try:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
    connection.request("GET", "/healthz", headers={"Host": host})
    sys.exit(0 if connection.getresponse().status == 200 else 1)
except OSError:
    sys.exit(1)
