"""The signed-in user, as the apps see it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import membership_list


class MembershipOutput(serializers.Serializer):
    agency_id = serializers.IntegerField(source="agency.id")
    agency_name = serializers.CharField(source="agency.name")
    role = serializers.CharField()


class MeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    is_staff = serializers.BooleanField()
    memberships = MembershipOutput(many=True)


class MeView(APIView):
    @extend_schema(responses=MeOutput, summary="The signed-in user and their agencies")
    def get(self, request: Request) -> Response:
        user = request.user
        data = MeOutput(
            {
                "id": user.id,
                "email": user.email,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "is_staff": user.is_staff,
                "memberships": membership_list(user=user),
            }
        ).data
        return Response(data)
