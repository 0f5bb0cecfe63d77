from django.urls import path

from accounts.api import views

urlpatterns = [
    path("me", views.MeView.as_view(), name="api-me"),
    path("agencies/", views.AgencyListCreateView.as_view(), name="api-agencies"),
    path(
        "agencies/<int:agency_id>/members/",
        views.MemberListCreateView.as_view(),
        name="api-members",
    ),
    path(
        "agencies/<int:agency_id>/members/<int:user_id>/",
        views.MemberDetailView.as_view(),
        name="api-member",
    ),
]
