"""The admin site staff use: the security rules of ``accounts.admin_site`` plus sections grouped
by what admins do, the audit hook on every ModelAdmin, and the analytics dashboard."""

from __future__ import annotations

from django.contrib.admin import ModelAdmin
from django.http import HttpRequest
from django.urls import path
from django.utils.translation import gettext_lazy as _

from accounts.admin_site import AdminSite as SecureAdminSite
from analytics.audit import AuditedAdmin

# Section → app labels (or "app.Model" for a model that belongs elsewhere), in order.
SECTIONS = [
    (_("Customers"), ["accounts", "auth.Group", "account", "mfa", "socialaccount"]),
    (_("Photos & jobs"), ["projects", "processing", "delivery"]),
    (_("Billing"), ["billing"]),
    (_("Analytics"), ["analytics"]),
    (_("System"), ["runtime", "integrations"]),
]
OTHER = _("System")


def section_of(app_label: str, object_name: str) -> str:
    for title, members in SECTIONS:
        if f"{app_label}.{object_name}" in members or app_label in members:
            return str(title)
    return str(OTHER)


class AdminSite(SecureAdminSite):
    site_header = _("PhotoListing administration")
    site_title = _("PhotoListing admin")
    index_template = "backoffice/admin_index.html"

    def register(self, model_or_iterable, admin_class=None, **options) -> None:
        """Every ModelAdmin is audited, whichever app registers it."""
        base = admin_class or ModelAdmin
        if not issubclass(base, AuditedAdmin):
            base = type(f"Audited{base.__name__}", (AuditedAdmin, base), {})
        super().register(model_or_iterable, base, **options)

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        """The index and the sidebar show sections; an app's own page stays as Django has it."""
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps
        sections: dict[str, dict] = {
            str(title): {
                "name": str(title),
                "app_label": f"section-{index}",
                "app_url": "",
                "has_module_perms": True,
                "models": [],
            }
            for index, (title, _members) in enumerate(SECTIONS)
        }
        for app in apps:
            for model in app["models"]:
                title = section_of(app["app_label"], model["object_name"])
                sections[title]["models"].append(model)
        for section in sections.values():
            section["models"].sort(key=lambda model: str(model["name"]))
        return [section for section in sections.values() if section["models"]]

    def get_urls(self):
        from backoffice import views

        return [
            path("dashboard/", self.admin_view(views.dashboard), name="dashboard"),
            *super().get_urls(),
        ]
