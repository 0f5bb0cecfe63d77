from django.urls import path

from billing import views

urlpatterns = [
    path("billing/", views.billing_page, name="billing"),
    path("billing/checkout", views.checkout, name="billing-checkout"),
    path("billing/portal", views.portal, name="billing-portal"),
]
