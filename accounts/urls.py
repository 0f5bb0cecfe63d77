from django.urls import path

from accounts import views

urlpatterns = [
    path("invitations/<str:token>/", views.accept_invitation, name="accept-invitation"),
]
