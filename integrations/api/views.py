"""Webhook endpoints and their delivery log over the API."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import agency_get_for_member
from integrations import services
from integrations.models import EVENT_TYPES, WebhookDelivery, WebhookEndpoint
from integrations.selectors import delivery_list, endpoint_list
from photolisting.api import get_visible, validated


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
        return Response(EndpointOutput(endpoint_list(user=request.user), many=True).data)

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
        endpoint = get_visible(endpoint_list(user=request.user), endpoint_id, "webhook")
        data = validated(EndpointUpdateInput, request.data, partial=True)
        return Response(EndpointOutput(services.endpoint_update(endpoint=endpoint, **data)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, endpoint_id: str) -> Response:
        services.endpoint_delete(
            endpoint=get_visible(endpoint_list(user=request.user), endpoint_id, "webhook")
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryListView(APIView):
    @extend_schema(
        responses=DeliveryOutput(many=True), summary="An endpoint's delivery log (newest first)"
    )
    def get(self, request: Request, endpoint_id: str) -> Response:
        endpoint = get_visible(endpoint_list(user=request.user), endpoint_id, "webhook")
        return Response(DeliveryOutput(endpoint.deliveries.all()[:200], many=True).data)


class DeliveryReplayView(APIView):
    @extend_schema(request=None, responses={202: DeliveryOutput}, summary="Send an event again")
    def post(self, request: Request, delivery_id: str) -> Response:
        visible = delivery_list(user=request.user)
        replay = services.delivery_replay(delivery=get_visible(visible, delivery_id, "delivery"))
        return Response(DeliveryOutput(replay).data, status=status.HTTP_202_ACCEPTED)
