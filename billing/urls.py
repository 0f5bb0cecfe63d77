from django.urls import path

from billing import team, views

urlpatterns = [
    path("billing/", views.billing_page, name="billing"),
    path("billing/checkout", views.checkout, name="billing-checkout"),
    path("billing/portal", views.portal, name="billing-portal"),
    path("usage/", views.usage_page, name="usage"),
    path("team/", team.team_page, name="team"),
    path("team/<str:agency_id>/", team.team_agency_page, name="team-agency"),
    path("team/<str:agency_id>/invite", team.team_invite, name="team-invite"),
    path("team/<str:agency_id>/branding", team.team_branding, name="team-branding"),
    path(
        "team/<str:agency_id>/members/<str:membership_id>/",
        team.team_member_update,
        name="team-member-update",
    ),
    path(
        "team/<str:agency_id>/members/<str:membership_id>/remove",
        team.team_member_remove,
        name="team-member-remove",
    ),
    path(
        "team/<str:agency_id>/invitations/<str:invitation_id>/cancel",
        team.team_invitation_cancel,
        name="team-invitation-cancel",
    ),
]
