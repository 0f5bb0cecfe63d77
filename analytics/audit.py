"""The audit trail of administrative actions: one row per change made through the admin (add,
change, delete, each object a bulk action touched), with the values before and after.

``AuditedAdmin`` is mixed into every ModelAdmin by the project's admin site
(``backoffice.site``), so an app's admin needs nothing to be audited."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

from django.contrib.admin.options import ActionLocation
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.http import HttpRequest
from django.template.response import TemplateResponse

from analytics.models import AuditEntry

HIDDEN_FIELDS = {"password", "secret", "token", "key_hash"}
ACTION_SNAPSHOT_LIMIT = 200  # objects whose values a bulk action's row keeps


def _hidden(value: object) -> str:
    """A secret is never stored, only whether it changed."""
    return "hidden:" + hashlib.sha256(str(value).encode()).hexdigest()[:12]


def snapshot(obj: models.Model) -> dict:
    """The object's stored values as JSON: concrete fields and many-to-many ids."""
    values: dict = {}
    for field in obj._meta.concrete_fields:
        value = field.value_from_object(obj)
        values[field.name] = _hidden(value) if field.name in HIDDEN_FIELDS else value
    if obj.pk is not None:
        for field in obj._meta.many_to_many:
            values[field.name] = sorted(
                getattr(obj, field.name).values_list("pk", flat=True), key=str
            )
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder))


def changed(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the fields whose value differs, on both sides."""
    names = [name for name in after if before.get(name) != after.get(name)]
    return {name: before.get(name) for name in names}, {name: after[name] for name in names}


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    request: HttpRequest,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    before: dict | None = None,
    after: dict | None = None,
    message: str = "",
    reason: str = "",
) -> AuditEntry:
    """Writes one audit row for what ``request.user`` just did."""
    actor = request.user if request.user.is_authenticated else None
    return AuditEntry.objects.create(
        actor=actor,
        actor_email=getattr(actor, "email", "") or "",
        action=action[:80],
        target_type=target._meta.label if target is not None else target_type,
        target_id=str(target.pk)[:64] if target is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        before=before or {},
        after=after or {},
        message=message,
        reason=reason[:300],
        ip=client_ip(request),
    )


def _before_of(request: HttpRequest) -> dict:
    if not hasattr(request, "_audit_before"):
        request._audit_before = {}
    return request._audit_before


class AuditedAdmin:
    """ModelAdmin hooks: the values are taken when the object is loaded for a change (or
    saved from the list), and the row is written when Django logs the change."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and request.method == "POST":
            _before_of(request)[obj._meta.label, str(obj.pk)] = snapshot(obj)
        return obj

    def save_model(self, request, obj, form, change) -> None:
        if change:
            stored = type(obj)._default_manager.filter(pk=obj.pk).first()
            if stored is not None:
                _before_of(request).setdefault((obj._meta.label, str(obj.pk)), snapshot(stored))
        super().save_model(request, obj, form, change)

    def log_addition(self, request, obj, message):
        audit_record(
            request=request, action="add", target=obj, after=snapshot(obj), message=_text(message)
        )
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        before_all = _before_of(request).pop((obj._meta.label, str(obj.pk)), {})
        fresh = type(obj)._default_manager.filter(pk=obj.pk).first() or obj
        before, after = changed(before_all, snapshot(fresh))
        audit_record(
            request=request,
            action="change",
            target=obj,
            before=before,
            after=after,
            message=_text(message),
        )
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            audit_record(request=request, action="delete", target=obj, before=snapshot(obj))
        return super().log_deletions(request, queryset)

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        return {
            name: action
            if name == "delete_selected"
            else replace(action, func=_audited_action(action.func, name))
            for name, action in actions.items()
        }


def _text(message) -> str:
    """Django's change message is a JSON list or a plain string."""
    return message if isinstance(message, str) else json.dumps(message, cls=DjangoJSONEncoder)


def _audited_action(func, name: str):
    """An admin action that writes one row with the selected objects before and after.
    (``delete_selected`` is not wrapped: each deletion is its own row.) A confirmation page
    shown before anything is done is not recorded."""

    def run(modeladmin, request, queryset):
        selected = list(queryset[:ACTION_SNAPSHOT_LIMIT])
        before = {str(obj.pk): snapshot(obj) for obj in selected}
        response = func(modeladmin, request, queryset)
        if isinstance(response, TemplateResponse):
            return response
        fresh = queryset.model._default_manager.filter(pk__in=[obj.pk for obj in selected])
        after = {str(obj.pk): snapshot(obj) for obj in fresh}
        diff_before, diff_after = {}, {}
        for pk, values in before.items():
            old, new = changed(values, after.get(pk, {}))
            if old or new or pk not in after:
                diff_before[pk], diff_after[pk] = old or values, new
        audit_record(
            request=request,
            action=f"action:{name}",
            target_type=queryset.model._meta.label,
            before={"selected": list(before), "changed": diff_before},
            after={"changed": diff_after},
            message=f"{len(before)} selected",
        )
        return response

    run.__name__ = getattr(func, "__name__", name)
    return run
