from django.urls import path

from shop.cart import views

app_name = "cart"

urlpatterns = [
    path("", views.cart_page, name="page"),
    path("add/", views.cart_add, name="add"),
    path("update/", views.cart_update, name="update"),
    path("voucher/", views.cart_voucher, name="voucher"),
]
