"""The integrations page: webhook endpoints, their delivery log, replay."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from integrations.models import EVENT_TYPES
from integrations.selectors import delivery_list, endpoint_list
from integrations.services import delivery_replay, endpoint_create
from photolisting.api import get_visible
from photolisting.errors import ApplicationError, NotFound


@login_required
def webhooks(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            endpoint = endpoint_create(
                user=request.user,
                url=request.POST.get("url", ""),
                events=request.POST.getlist("events"),
            )
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Endpoint added. Its signing secret (shown once): %(secret)s")
                % {"secret": endpoint.secret},
            )
        return redirect("webhooks")
    endpoints = endpoint_list(user=request.user).prefetch_related("deliveries")
    return render(
        request,
        "integrations/webhooks.html",
        {
            "endpoints": [(e, list(e.deliveries.all()[:20])) for e in endpoints],
            "event_types": EVENT_TYPES,
        },
    )


@login_required
@require_POST
def replay(request: HttpRequest, delivery_id: str) -> HttpResponse:
    try:
        delivery = get_visible(delivery_list(user=request.user), delivery_id, "delivery")
    except NotFound:
        return render(request, "404.html", status=404)
    delivery_replay(delivery=delivery)
    messages.success(request, _("%(event)s sent again.") % {"event": delivery.event_type})
    return redirect("webhooks")
