from django import forms
from django.contrib import admin

from runtime.models import Switch
from runtime.services import switch_reset, switch_set
from runtime.switches import REGISTRY, value


class SwitchForm(forms.ModelForm):
    name = forms.ChoiceField(choices=[(name, name) for name in REGISTRY])

    class Meta:
        model = Switch
        fields = ["name", "value"]

    def clean(self) -> dict:
        cleaned = super().clean()
        name = cleaned.get("name")
        if name:
            try:
                REGISTRY[name].parse(cleaned.get("value", ""))
            except ValueError as error:
                self.add_error("value", str(error))
        return cleaned


@admin.register(Switch)
class SwitchAdmin(admin.ModelAdmin):
    form = SwitchForm
    list_display = ["name", "value", "current", "default", "description", "updated_at"]
    list_select_related = ["updated_by"]
    readonly_fields = ["updated_by", "updated_at"]

    @admin.display(description="in effect")
    def current(self, switch: Switch) -> str:
        return str(value(switch.name)) if switch.name in REGISTRY else "unknown switch"

    @admin.display(description="default (settings)")
    def default(self, switch: Switch) -> str:
        spec = REGISTRY.get(switch.name)
        return str(spec.default()) if spec else ""

    @admin.display(description="what it does")
    def description(self, switch: Switch) -> str:
        spec = REGISTRY.get(switch.name)
        return spec.help if spec else ""

    def save_model(self, request, obj: Switch, form, change: bool) -> None:
        # Through the service, so the cached value is dropped for every process.
        saved = switch_set(name=obj.name, text=obj.value, user=request.user)
        obj.pk = saved.pk

    def delete_model(self, request, obj: Switch) -> None:
        switch_reset(name=obj.name)

    def delete_queryset(self, request, queryset) -> None:
        for switch in queryset:
            switch_reset(name=switch.name)
