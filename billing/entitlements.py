"""What a plan includes, decided in one place: every app asks here before it offers or does
something a plan may not include, and shows the same refusal (which plan would allow it)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext, gettext_lazy

from accounts.models import Agency, User
from billing.models import Plan
from billing.services import plan_name, subscription_for
from photolisting.errors import ApplicationError
from projects.models import Project

FEATURE_LABELS = {
    "custom_watermark": gettext_lazy("Your own watermark"),
    "offpeak_lane": gettext_lazy("Off-peak economy lane"),
    "exports": gettext_lazy("Portal exports"),
    "branding": gettext_lazy("Agency branding"),
}
UPGRADE_URL = "/billing/"


class NotInPlan(ApplicationError):
    """402: the subject's plan does not include this; ``details`` name a plan that does."""

    status = 402
    code = "plan_upgrade_required"


@dataclass(frozen=True)
class Entitlements:
    """A subject's plan and what it allows; pages read ``allowed`` to disable, services call
    ``require`` to refuse."""

    plan: Plan
    agency: Agency | None

    def allows(self, feature: str) -> bool:
        return bool(self.plan.features.get(feature))

    @property
    def allowed(self) -> dict[str, bool]:
        return {feature: self.allows(feature) for feature in FEATURE_LABELS}

    def reason(self, feature: str) -> str:
        """Why the feature is unavailable, in words for people (empty when it is available)."""
        if self.allows(feature):
            return ""
        upgrade = _cheapest_plan_with(feature)
        values = {"feature": FEATURE_LABELS[feature], "plan": plan_name(self.plan)}
        if upgrade is None:
            return gettext("“%(feature)s” is not included in the %(plan)s plan.") % values
        return gettext(
            "“%(feature)s” is not included in the %(plan)s plan; the %(upgrade)s plan includes it."
        ) % {**values, "upgrade": plan_name(upgrade)}

    def as_json(self) -> dict:
        """What the apps and pages show: each feature allowed or not, with the reason."""
        return {
            "plan": self.plan.code,
            "projects_limit": self.plan.projects_limit,
            "features": {
                feature: {"allowed": self.allows(feature), "reason": self.reason(feature)}
                for feature in FEATURE_LABELS
            },
        }

    def require(self, feature: str) -> None:
        if self.allows(feature):
            return
        upgrade = _cheapest_plan_with(feature)
        raise NotInPlan(
            self.reason(feature),
            details={
                "feature": feature,
                "plan": self.plan.code,
                "required_plan": upgrade.code if upgrade else None,
                "upgrade_url": UPGRADE_URL,
            },
        )


def _cheapest_plan_with(feature: str) -> Plan | None:
    return Plan.objects.filter(**{f"features__{feature}": True}).order_by("position").first()


def entitlements_for(*, user: User | None = None, agency: Agency | None = None) -> Entitlements:
    """The plan that pays: the agency's for agency work, the user's own otherwise."""
    return Entitlements(subscription_for(user=user, agency=agency).plan, agency)


def entitlements_of(project: Project) -> Entitlements:
    if project.agency_id:
        return entitlements_for(agency=project.agency)
    return entitlements_for(user=project.owner)
