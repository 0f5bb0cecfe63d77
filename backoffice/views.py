"""The admin dashboard page and its CSV: staff only (the admin site wraps it)."""

from __future__ import annotations

import csv

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext

from backoffice.dashboard import Filters, csv_rows
from backoffice.dashboard import dashboard as dashboard_data
from billing.models import Plan


def dashboard(request: HttpRequest) -> HttpResponse:
    filters = Filters.from_query(request.GET)
    data = dashboard_data(filters)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        plan = f"-{filters.plan}" if filters.plan else ""
        name = f"photolisting-{filters.start}-{filters.end}{plan}"
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        csv.writer(response).writerows(csv_rows(data))
        return response
    context = {
        **admin.site.each_context(request),
        "title": gettext("Dashboard"),
        "plans": Plan.objects.values_list("code", "name"),
        **data,
    }
    return TemplateResponse(request, "backoffice/dashboard.html", context)
