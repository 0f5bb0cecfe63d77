"""The maintenance banner staff set as a runtime switch, for every page."""

from __future__ import annotations

from django.http import HttpRequest

from runtime.switches import value


def maintenance_banner(request: HttpRequest) -> dict:
    return {"maintenance_banner": value("maintenance_banner")}
