from django.urls import path

from payments import views

app_name = "payments"

urlpatterns = [
    path("checkout/", views.cart_checkout_page, name="cart_checkout"),
    path("checkout/<slug:slug>/", views.checkout_page, name="checkout"),
    path("checkout/<slug:slug>/buy/", views.buy_now, name="buy_now"),
    path("payments/create-intent/", views.create_intent, name="create_intent"),
    path("payments/discount/", views.checkout_discount, name="checkout_discount"),
    path("payments/success/", views.payment_success, name="success"),
    path("payments/webhook/", views.stripe_webhook, name="webhook"),
]
