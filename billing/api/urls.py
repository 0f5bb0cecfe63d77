from django.urls import path

from billing.api import views as api

urlpatterns = [
    path("billing/", api.BillingView.as_view(), name="api-billing"),
    path("billing/checkout", api.CheckoutView.as_view(), name="api-billing-checkout"),
    path("billing/portal", api.PortalView.as_view(), name="api-billing-portal"),
    path("billing/cancel", api.CancelView.as_view(), name="api-billing-cancel"),
    path("billing/webhook/", api.stripe_webhook, name="stripe-webhook"),
    path("usage/", api.UsageView.as_view(), name="api-usage"),
    path("entitlements/", api.EntitlementsView.as_view(), name="api-entitlements"),
]
