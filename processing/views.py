"""Pages for presets: the shipped ones, yours and your agencies', and a form to make one."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.selectors import agency_get_for_member, membership_list
from imaging.ops import operation_schemas
from photolisting.errors import ApplicationError
from processing.selectors import preset_list
from processing.services import preset_create

EXAMPLE = [
    {"op": "auto_enhance", "params": {"strength": 0.8, "brightness": 0.5}},
    {"op": "watermark", "params": {"text": "My Agency", "position": "bottom-right"}},
    {"op": "encode", "params": {"format": "jpeg", "quality": 88}},
]


class PresetForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(max_length=300, required=False)
    agency = forms.IntegerField(required=False)
    operations = forms.CharField(widget=forms.Textarea(attrs={"class": "json"}))

    def clean_operations(self) -> list:
        try:
            return json.loads(self.cleaned_data["operations"])
        except json.JSONDecodeError as error:
            raise forms.ValidationError(f"Not valid JSON: {error}") from error


@login_required
def presets(request: HttpRequest) -> HttpResponse:
    form = PresetForm(request.POST or None, initial={"operations": json.dumps(EXAMPLE, indent=2)})
    errors = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        agency_id = data.pop("agency")
        try:
            agency = (
                agency_get_for_member(user=request.user, agency_id=agency_id) if agency_id else None
            )
            preset = preset_create(user=request.user, agency=agency, **data)
        except ApplicationError as error:
            errors = {"message": error.message, "details": json.dumps(error.details, indent=2)}
        else:
            messages.success(request, f"Preset “{preset.name}” saved.")
            return redirect("presets")
    return render(
        request,
        "processing/presets.html",
        {
            "presets": preset_list(user=request.user),
            "operations": operation_schemas(),
            "form": form,
            "errors": errors,
            "managed_agencies": [m for m in membership_list(user=request.user) if m.can_manage],
        },
    )
