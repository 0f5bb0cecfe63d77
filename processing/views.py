"""Pages for presets: the shipped ones, yours and your agencies', and a builder to make or change
one. The builder's controls come from each operation's parameter schema (the registry); with
JavaScript steps can be added, removed, reordered and previewed, without it a JSON field works."""

from __future__ import annotations

import json
import math
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.selectors import agency_get_for_member, membership_list
from billing.entitlements import entitlements_for
from imaging.ops import REGISTRY
from imaging.ops.registry import Operation, Param
from photolisting.errors import ApplicationError, NotFound
from processing.labels import CHOICE_LABELS, OPERATION_LABELS, PARAM_LABELS, in_words
from processing.models import Preset
from processing.selectors import preset_get, preset_list
from processing.services import (
    preset_check_edit,
    preset_create,
    preset_delete,
    preset_text,
    preset_update,
)
from projects.models import Photo
from projects.selectors import photo_list

EXAMPLE = [
    {"op": "auto_enhance", "params": {"strength": 0.8, "brightness": 0.5}},
    {"op": "watermark", "params": {"text": "My Agency", "position": "bottom-right"}},
    {"op": "encode", "params": {"format": "jpeg", "quality": 88}},
]
MAX_STEPS = 20
PREVIEW_PHOTOS = 60

# --- The form generated from the schemas ---------------------------------------------------


def _control(param: Param) -> str:
    if param.type is bool:
        return "checkbox"
    if param.type in (int, float):
        bounded = param.minimum is not None and param.maximum is not None
        small = param.type is float or (bounded and param.maximum - param.minimum <= 1000)
        return "range" if bounded and small and param.default is not None else "number"
    if param.type is list:
        return "list"
    return "select" if param.choices else "text"


def _number(value: Any) -> str:
    """A number as an HTML attribute wants it (never localised): 0.46, 6, 12000."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    return format(value, "g") if isinstance(value, float) else str(value)


def _step_size(param: Param) -> str:
    if param.type is int:
        return "1"
    return "0.01" if param.maximum - param.minimum <= 2 else "0.1"


def _field(name: str, param: Param, value: Any, error: str = "") -> dict:
    control = _control(param)
    field = {
        "name": name,
        "label": PARAM_LABELS.get(name, name.replace("_", " ").capitalize()),
        "help": _(param.help) if param.help else "",
        "control": control,
        "error": error,
        "nullable": param.default is None,
    }
    if control == "checkbox":
        field["checked"] = value is True
    elif control in ("range", "number"):
        field |= {
            "value": _number(value),
            "min": _number(param.minimum),
            "max": _number(param.maximum),
            "step": _step_size(param) if param.minimum is not None else "any",
        }
    elif control == "list":
        field["value"] = json.dumps(value) if value not in (None, []) else ""
    else:
        field["value"] = "" if value is None else str(value)
        field["choices"] = [
            (choice, CHOICE_LABELS.get(choice, choice)) for choice in param.choices or ()
        ]
    return field


def _step(operation: Operation, params: dict, index: str, errors: dict | None = None) -> dict:
    """One step of the builder: the operation's controls with the given (or default) values."""
    errors = errors or {}
    defaults = operation.clean({})[0]
    # The registry's summaries and help texts are msgids of processing's French catalogue.
    return {
        "index": index,
        "op": operation.name,
        "kind": operation.kind,
        "label": OPERATION_LABELS.get(operation.name, operation.name),
        "summary": _(operation.summary),
        "error": errors.get("", ""),
        "fields": [
            _field(name, param, params.get(name, defaults.get(name)), errors.get(name, ""))
            for name, param in operation.params.items()
        ],
    }


def builder_operations() -> list[dict]:
    """Every operation as a blank step, for the "Add a step" list."""
    return [_step(operation, {}, "__i__") for operation in REGISTRY.values()]


def builder_steps(operations: Any, errors: dict) -> list[dict]:
    """The steps of an operation list the builder can show (unknown ones are left out: their
    error is in the summary)."""
    if not isinstance(operations, list):
        return []
    steps = []
    for index, item in enumerate(operations[:MAX_STEPS]):
        operation = REGISTRY.get(item.get("op")) if isinstance(item, dict) else None
        if operation is None:
            continue
        params = item.get("params") if isinstance(item.get("params"), dict) else {}
        steps.append(_step(operation, params, str(len(steps)), errors.get(index)))
    return steps


def _posted_steps(data: QueryDict) -> tuple[list, dict]:
    """The builder's fields (``steps-<n>-op``, ``steps-<n>-<param>``) as an operation list, and
    the values that could not even be read (per step, per parameter)."""
    operations: list = []
    errors: dict = {}
    for index in range(MAX_STEPS + 1):
        name = data.get(f"steps-{index}-op")
        if name is None:
            break
        operation = REGISTRY.get(name)
        params: dict = {}
        for param_name, param in (operation.params if operation else {}).items():
            key = f"steps-{index}-{param_name}"
            control = _control(param)
            if control == "checkbox":
                params[param_name] = key in data
                continue
            if key not in data:
                continue
            raw = data[key].strip()
            try:
                params[param_name] = _read(param, raw)
            except ValueError as error:
                errors.setdefault(index, {})[param_name] = str(error)
        operations.append({"op": name, "params": params})
    return operations, errors


def _read(param: Param, raw: str) -> Any:
    if param.type in (int, float):
        if raw == "":
            if param.default is None:
                return None
            raise ValueError(_("Enter a number."))
        try:
            number = float(raw.replace(",", "."))
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise ValueError(_("Enter a number."))
        return int(number) if param.type is int and number.is_integer() else number
    if param.type is list:
        if raw == "":
            return []
        try:
            return json.loads(raw, parse_constant=_refuse_constant)
        except ValueError as error:
            raise ValueError(_("Enter boxes like [[0.1, 0.1, 0.4, 0.3]].")) from error
    return raw


def _refuse_constant(name: str) -> None:
    raise ValueError(name)


def _explain(details: dict) -> tuple[dict, list[str]]:
    """``validate_operations``'s details as messages per step and parameter, and sentences for
    what belongs to no field."""
    per_step: dict = {}
    general: list[str] = []
    for key, detail in details.items():
        if not key.isdigit():
            general.append(in_words(detail))
            continue
        index = int(key)
        if "op" in detail:
            per_step.setdefault(index, {})[""] = in_words(detail["op"])
        if isinstance(detail.get("params"), dict):
            for name, message in detail["params"].items():
                per_step.setdefault(index, {})[name] = in_words(message)
        elif "params" in detail:
            per_step.setdefault(index, {})[""] = in_words(detail["params"])
    return per_step, general


def _sentences(operations: Any, per_step: dict) -> list[str]:
    """Every step error as a sentence: "Step 2 (Watermark) — Opacity: Must be at most 1."."""
    sentences = []
    for index in sorted(per_step):
        item = operations[index] if isinstance(operations, list) and index < len(operations) else {}
        name = item.get("op") if isinstance(item, dict) else None
        step = {"number": index + 1, "op": OPERATION_LABELS.get(name, name or "?")}
        for param, message in per_step[index].items():
            where = (
                _("Step %(number)s (%(op)s)") % step
                if not param
                else _("Step %(number)s (%(op)s) — %(param)s")
                % {**step, "param": PARAM_LABELS.get(param, param)}
            )
            sentences.append(_("%(where)s: %(message)s") % {"where": where, "message": message})
    return sentences


# --- Pages ---------------------------------------------------------------------------------


class PresetForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    description = forms.CharField(label=gettext_lazy("Description"), max_length=300, required=False)
    agency = forms.IntegerField(required=False)


def _operations_from(data: QueryDict) -> tuple[Any, dict, list[str]]:
    """The builder's steps when JavaScript built them, else the JSON field; with what could not
    be read (per step and parameter, and in general)."""
    if "steps-0-op" in data:
        operations, unreadable = _posted_steps(data)
        return operations, unreadable, []
    raw = data.get("operations", "").strip()
    if not raw:
        return [], {}, [_("Add at least one step.")]
    try:
        return json.loads(raw, parse_constant=_refuse_constant), {}, []
    except ValueError as error:
        return raw, {}, [_("The operations are not valid JSON: %(error)s") % {"error": error}]


@login_required
def presets(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save(request, preset=None)
    return _page(request, PresetForm(), EXAMPLE)


@login_required
def preset_edit(request: HttpRequest, preset_id: str) -> HttpResponse:
    try:
        preset = preset_get(user=request.user, preset_ref=preset_id)
    except NotFound:
        return render(request, "404.html", status=404)
    try:
        preset_check_edit(user=request.user, preset=preset)
    except ApplicationError as error:
        messages.error(request, _refusal(error))
        return redirect("presets")
    if request.method == "POST":
        return _save(request, preset=preset)
    form = PresetForm(initial={"name": preset.name, "description": preset.description})
    return _page(request, form, preset.operations, preset=preset)


@login_required
@require_POST
def preset_remove(request: HttpRequest, preset_id: str) -> HttpResponse:
    try:
        preset = preset_get(user=request.user, preset_ref=preset_id)
    except NotFound:
        return render(request, "404.html", status=404)
    try:
        preset_delete(user=request.user, preset=preset)
    except ApplicationError as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(request, _("Preset “%(name)s” deleted.") % {"name": preset.name})
    return redirect("presets")


def _refusal(error: ApplicationError) -> str:
    wording = {
        "not_agency_admin": _("Only the agency's owners and admins can change its presets."),
        "not_preset_owner": _("This preset is not yours."),
        "system_preset": _("Shipped presets cannot be changed; make your own instead."),
        "preset_exists": _("You already have a preset with this name."),
        "agency_not_found": _("No such agency."),
    }
    return wording.get(error.code, error.message)


def _save(request: HttpRequest, *, preset: Preset | None) -> HttpResponse:
    form = PresetForm(request.POST)
    operations, per_step, general = _operations_from(request.POST)
    if form.is_valid() and not per_step and not general:
        data = form.cleaned_data
        fields = {
            "name": data["name"],
            "description": data["description"],
            "operations": operations,
        }
        try:
            if preset is None:
                agency_id = data["agency"]
                agency = (
                    agency_get_for_member(user=request.user, agency_id=agency_id)
                    if agency_id
                    else None
                )
                saved = preset_create(user=request.user, agency=agency, **fields)
            else:
                saved = preset_update(user=request.user, preset=preset, **fields)
        except ApplicationError as error:
            if error.code == "invalid_operations":
                per_step, general = _explain(error.details)
            elif error.code == "preset_exists":
                form.add_error("name", _refusal(error))
            else:
                general = [_refusal(error)]
        else:
            messages.success(request, _("Preset “%(name)s” saved.") % {"name": saved.name})
            return redirect("presets")
    return _page(
        request, form, operations, preset=preset, per_step=per_step, general=general, status=400
    )


def _page(
    request: HttpRequest,
    form: PresetForm,
    operations: Any,
    *,
    preset: Preset | None = None,
    per_step: dict | None = None,
    general: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    per_step = per_step or {}
    posted_json = request.method == "POST" and "operations" in request.POST
    listed = list(preset_list(user=request.user))
    for item in listed:
        item.editable = _editable(request, item)
        item.label = preset_text(item, item.name)
        item.summary = preset_text(item, item.description)
        item.step_labels = [
            OPERATION_LABELS.get(step.get("op"), step.get("op"))
            for step in item.operations
            if isinstance(step, dict)
        ]
    photos = photo_list(user=request.user, status=Photo.Status.READY).order_by("-created_at")
    managed = [m for m in membership_list(user=request.user) if m.can_manage]
    return render(
        request,
        "processing/presets.html",
        {
            "presets": listed,
            "preset": preset,
            "form": form,
            "operations": builder_operations(),
            "watermark_unavailable": _watermark_unavailable(request, managed),
            "steps": builder_steps(operations, per_step),
            "errors": _sentences(operations, per_step) + (general or []),
            "managed_agencies": managed,
            "photos": photos[:PREVIEW_PHOTOS],
            "operations_json": request.POST["operations"]
            if posted_json
            else json.dumps(operations, indent=2, ensure_ascii=False),
        },
        status=status,
    )


def _watermark_unavailable(request: HttpRequest, managed: list) -> str:
    """Why the watermark step is not offered: none of the plans a preset could be saved under
    (the user's own, or an agency they manage) includes a watermark of one's own."""
    subjects = [entitlements_for(user=request.user)] + [
        entitlements_for(agency=membership.agency) for membership in managed
    ]
    if any(entitlements.allows("custom_watermark") for entitlements in subjects):
        return ""
    return subjects[0].reason("custom_watermark")


def _editable(request: HttpRequest, preset: Preset) -> bool:
    if preset.is_system:
        return False
    try:
        preset_check_edit(user=request.user, preset=preset)
    except ApplicationError:
        return False
    return True
