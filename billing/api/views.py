"""Billing over the API: plan, usage and invoices; Checkout, Portal and cancel URLs for the apps;
and Stripe's webhook."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import agency_get_for_member
from billing.entitlements import entitlements_for, entitlements_of
from billing.models import Plan, Subscription
from billing.selectors import billing_overview, processing_counts, usage_report, usage_summary
from billing.services import quota_subject_for, subscription_for
from billing.subscriptions import plan_change_start, portal_start, subscription_cancel
from billing.webhooks import event_process, event_verify
from photolisting.api import also_answers, error_body, validated
from photolisting.errors import ApplicationError, NotFound
from projects.selectors import project_get

AGENCY = OpenApiParameter(
    "agency", OpenApiTypes.INT, description="An agency you belong to; omit for your own plan."
)


def subscription_from(request: Request, agency_id) -> Subscription:
    if agency_id:
        return subscription_for(
            agency=agency_get_for_member(user=request.user, agency_id=agency_id)
        )
    return subscription_for(user=request.user)


class EntitlementsView(APIView):
    @extend_schema(
        parameters=[
            AGENCY,
            OpenApiParameter(
                "project", OpenApiTypes.UUID, description="The plan that pays for this project."
            ),
        ],
        responses=OpenApiTypes.OBJECT,
        summary="What the plan includes, each feature with the reason when it does not",
    )
    def get(self, request: Request) -> Response:
        project_id = request.query_params.get("project")
        if project_id:
            entitlements = entitlements_of(project_get(user=request.user, project_id=project_id))
        else:
            agency_id = request.query_params.get("agency")
            agency = (
                agency_get_for_member(user=request.user, agency_id=agency_id) if agency_id else None
            )
            entitlements = entitlements_for(user=request.user, agency=agency)
        return Response(entitlements.as_json())


class SubjectInput(serializers.Serializer):
    agency = serializers.IntegerField(required=False, allow_null=True)


class CheckoutInput(SubjectInput):
    plan = serializers.SlugField()
    interval = serializers.ChoiceField(choices=["month", "year"], default="month")


class BillingView(APIView):
    @extend_schema(
        parameters=[AGENCY], responses=OpenApiTypes.OBJECT, summary="Plan, period, usage, invoices"
    )
    def get(self, request: Request) -> Response:
        subscription = subscription_from(request, request.query_params.get("agency"))
        return Response(billing_overview(subscription=subscription))


class CheckoutView(APIView):
    @extend_schema(
        request=CheckoutInput,
        responses=OpenApiTypes.OBJECT,
        summary="Where to go to subscribe or change plan (Stripe Checkout, or back to billing)",
    )
    @also_answers(503)
    def post(self, request: Request) -> Response:
        data = validated(CheckoutInput, request.data)
        subscription = subscription_from(request, data.get("agency"))
        plan = Plan.objects.filter(code=data["plan"]).first()
        if plan is None:
            raise NotFound(gettext("No such plan."), code="plan_not_found")
        url = plan_change_start(
            user=request.user, subscription=subscription, plan=plan, interval=data["interval"]
        )
        return Response({"url": url})


class PortalView(APIView):
    @extend_schema(
        request=SubjectInput, responses=OpenApiTypes.OBJECT, summary="Stripe Billing Portal URL"
    )
    @also_answers(503)
    def post(self, request: Request) -> Response:
        data = validated(SubjectInput, request.data)
        subscription = subscription_from(request, data.get("agency"))
        return Response({"url": portal_start(user=request.user, subscription=subscription)})


class CancelView(APIView):
    @extend_schema(
        request=SubjectInput, responses=OpenApiTypes.OBJECT, summary="Cancel at period end"
    )
    @also_answers(503)
    def post(self, request: Request) -> Response:
        data = validated(SubjectInput, request.data)
        subscription = subscription_from(request, data.get("agency"))
        subscription = subscription_cancel(user=request.user, subscription=subscription)
        return Response(billing_overview(subscription=subscription))


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """Stripe calls this; the signature, not a session, is the authentication."""
    try:
        event = event_verify(request.body, request.headers.get("Stripe-Signature", ""))
        outcome = event_process(event)
    except ApplicationError as error:
        return JsonResponse(
            error_body(error.code, error.message, error.details), status=error.status
        )
    return JsonResponse({"received": True, "outcome": outcome})


class UsageView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("project", OpenApiTypes.UUID, required=True)],
        responses=inline_serializer(
            "Usage",
            {
                "plan": serializers.CharField(),
                "subject": serializers.CharField(),
                "usage": serializers.ListField(),
                "processing": inline_serializer(
                    "ProcessingCounts",
                    {
                        "jobs": serializers.IntegerField(),
                        "counted_photos": serializers.IntegerField(),
                        "free_jobs": serializers.IntegerField(),
                    },
                ),
                "days": serializers.ListField(),
            },
        ),
        summary="This period's usage against the plan that pays for a project",
        description="A photo counts once per period whatever runs on it, the same preset "
        "again included (`processing.counted_photos` vs `processing.jobs`); AI edits served "
        "from the cache are free. `days` gives processed photos and AI edits per day of the "
        "period.",
    )
    def get(self, request: Request) -> Response:
        project = project_get(user=request.user, project_id=request.query_params.get("project", ""))
        subject = quota_subject_for(project)
        return Response(
            {
                "plan": subject.plan.code,
                "subject": subject.key,
                "usage": usage_summary(subject=subject),
                "processing": processing_counts(subject=subject),
                "days": usage_report(subscription=subject.subscription)["days"],
            }
        )
