from django.urls import path

from integrations.api import views

urlpatterns = [
    path("webhooks/", views.EndpointListCreateView.as_view(), name="api-webhooks"),
    path("webhooks/<str:endpoint_id>/", views.EndpointDetailView.as_view(), name="api-webhook"),
    path(
        "webhooks/<str:endpoint_id>/deliveries/",
        views.DeliveryListView.as_view(),
        name="api-webhook-deliveries",
    ),
    path(
        "webhook-deliveries/<str:delivery_id>/replay",
        views.DeliveryReplayView.as_view(),
        name="api-webhook-replay",
    ),
]
