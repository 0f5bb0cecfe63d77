"""Webhook endpoints and their delivery log over the API."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import manageable_by
from accounts.selectors import agency_get_for_member
from integrations import services
from integrations.models import EVENT_TYPES, WebhookDelivery, WebhookEndpoint
from photolisting.api import get_visible, validated


def endpoints_visible_to(user):
    """Webhooks are an admin's tool: a plain agency member neither sees nor changes the
    agency's endpoints (their URLs, logs and replays), as only admins may create one."""
    return WebhookEndpoint.objects.filter(manageable_by(user))


class EndpointInput(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES), default=list)
    agency = serializers.IntegerField(required=False, allow_null=True)


class EndpointUpdateInput(serializers.Serializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES), required=False
    )
    is_active = serializers.BooleanField(required=False)


class EndpointOutput(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "events",
            "agency",
            "is_active",
            "consecutive_failures",
            "disabled_reason",
            "created_at",
        ]


class DeliveryOutput(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "response_status",
            "last_error",
            "replay_of",
            "created_at",
            "delivered_at",
        ]


class EndpointListCreateView(APIView):
    @extend_schema(responses=EndpointOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(EndpointOutput(endpoints_visible_to(request.user), many=True).data)

    @extend_schema(
        request=EndpointInput,
        responses={201: OpenApiTypes.OBJECT},
        summary="Register an endpoint; the signing secret is shown once",
    )
    def post(self, request: Request) -> Response:
        data = validated(EndpointInput, request.data)
        agency_id = data.pop("agency", None)
        agency = (
            agency_get_for_member(user=request.user, agency_id=agency_id) if agency_id else None
        )
        endpoint = services.endpoint_create(user=request.user, agency=agency, **data)
        return Response(
            {**EndpointOutput(endpoint).data, "secret": endpoint.secret},
            status=status.HTTP_201_CREATED,
        )


class EndpointDetailView(APIView):
    @extend_schema(request=EndpointUpdateInput, responses=EndpointOutput)
    def patch(self, request: Request, endpoint_id: str) -> Response:
        endpoint = get_visible(endpoints_visible_to(request.user), endpoint_id, "webhook")
        data = validated(EndpointUpdateInput, request.data, partial=True)
        return Response(EndpointOutput(services.endpoint_update(endpoint=endpoint, **data)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, endpoint_id: str) -> Response:
        get_visible(endpoints_visible_to(request.user), endpoint_id, "webhook").delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryListView(APIView):
    @extend_schema(
        responses=DeliveryOutput(many=True), summary="An endpoint's delivery log (newest first)"
    )
    def get(self, request: Request, endpoint_id: str) -> Response:
        endpoint = get_visible(endpoints_visible_to(request.user), endpoint_id, "webhook")
        return Response(DeliveryOutput(endpoint.deliveries.all()[:200], many=True).data)


class DeliveryReplayView(APIView):
    @extend_schema(request=None, responses={202: DeliveryOutput}, summary="Send an event again")
    def post(self, request: Request, delivery_id: str) -> Response:
        visible = WebhookDelivery.objects.filter(endpoint__in=endpoints_visible_to(request.user))
        replay = services.delivery_replay(delivery=get_visible(visible, delivery_id, "delivery"))
        return Response(DeliveryOutput(replay).data, status=status.HTTP_202_ACCEPTED)
