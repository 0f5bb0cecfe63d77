"""The signed-in user, their agencies, and agency teams, as the apps see them."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.models import MONTHLY_CAP_MAX, Invitation, Membership, User
from accounts.selectors import agency_get_for_member, membership_list
from photolisting.api import FastJSONRenderer, also_answers, get_visible, validated
from photolisting.errors import NotFound


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
    renderer_classes = [FastJSONRenderer]

    @extend_schema(responses=MeOutput, summary="The signed-in user and their agencies")
    def get(self, request: Request) -> Response:
        """Asked by every app at every start: built as a plain dict (``MeOutput`` is its schema)."""
        user = request.user
        memberships = membership_list(user=user).values_list("agency_id", "agency__name", "role")
        return Response(
            {
                "id": user.id,
                "email": user.email,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "is_staff": user.is_staff,
                "memberships": [
                    {"agency_id": agency_id, "agency_name": name, "role": role}
                    for agency_id, name, role in memberships
                ],
            }
        )


class AgencyInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)


class AgencyListCreateView(APIView):
    @extend_schema(responses=MembershipOutput(many=True), summary="Your agencies and your role")
    def get(self, request: Request) -> Response:
        return Response(MembershipOutput(membership_list(user=request.user), many=True).data)

    @extend_schema(request=AgencyInput, responses={201: MembershipOutput})
    def post(self, request: Request) -> Response:
        agency = services.agency_create(user=request.user, **validated(AgencyInput, request.data))
        membership = Membership.objects.select_related("agency").get(
            agency=agency, user=request.user
        )
        return Response(MembershipOutput(membership).data, status=status.HTTP_201_CREATED)


class MemberOutput(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email")

    class Meta:
        model = Membership
        fields = [
            "user",
            "email",
            "role",
            "monthly_processed_limit",
            "monthly_ai_limit",
            "created_at",
        ]


class MemberInput(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(
        choices=[Membership.Role.ADMIN, Membership.Role.MEMBER], default=Membership.Role.MEMBER
    )


class MemberUpdateInput(serializers.Serializer):
    role = serializers.ChoiceField(
        choices=[Membership.Role.ADMIN, Membership.Role.MEMBER], required=False
    )
    monthly_processed_limit = serializers.IntegerField(
        min_value=0, max_value=MONTHLY_CAP_MAX, required=False, allow_null=True
    )
    monthly_ai_limit = serializers.IntegerField(
        min_value=0, max_value=MONTHLY_CAP_MAX, required=False, allow_null=True
    )


class MemberListCreateView(APIView):
    @extend_schema(responses=MemberOutput(many=True), summary="An agency's team")
    def get(self, request: Request, agency_id: int) -> Response:
        agency = agency_get_for_member(user=request.user, agency_id=agency_id)
        members = agency.memberships.select_related("user").order_by("created_at")
        return Response(MemberOutput(members, many=True).data)

    @extend_schema(
        request=MemberInput,
        responses={
            201: MemberOutput,
            202: inline_serializer(
                "InvitationSent",
                {
                    "invited": serializers.EmailField(),
                    "role": serializers.CharField(),
                    "expires_at": serializers.DateTimeField(),
                },
            ),
        },
        summary="Add a member (seats permitting); an address without an account is invited",
    )
    @also_answers(402, 409)
    def post(self, request: Request, agency_id: int) -> Response:
        agency = agency_get_for_member(user=request.user, agency_id=agency_id)
        data = validated(MemberInput, request.data)
        added = services.membership_add(agency=agency, by=request.user, **data)
        if isinstance(added, Invitation):
            body = {"invited": added.email, "role": added.role, "expires_at": added.expires_at}
            return Response(body, status=status.HTTP_202_ACCEPTED)
        return Response(MemberOutput(added).data, status=status.HTTP_201_CREATED)


class MemberDetailView(APIView):
    def _membership(self, request: Request, agency_id: int, user_id: int) -> Membership:
        agency = agency_get_for_member(user=request.user, agency_id=agency_id)
        try:
            user = get_visible(User.objects.filter(memberships__agency=agency), user_id, "member")
        except NotFound:
            raise NotFound(_("No such member."), code="member_not_found") from None
        return agency.memberships.select_related("user", "agency").get(user=user)

    @extend_schema(
        request=MemberUpdateInput, responses=MemberOutput, summary="Role and per-member caps"
    )
    def patch(self, request: Request, agency_id: int, user_id: int) -> Response:
        membership = self._membership(request, agency_id, user_id)
        data = validated(MemberUpdateInput, request.data, partial=True)
        membership = services.membership_update(membership=membership, by=request.user, **data)
        return Response(MemberOutput(membership).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, agency_id: int, user_id: int) -> Response:
        services.membership_remove(
            membership=self._membership(request, agency_id, user_id), by=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
