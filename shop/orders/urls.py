from django.urls import path

from shop.orders import views

app_name = "orders"

urlpatterns = [
    path("<str:number>/", views.order_detail, name="detail"),
    path("<str:number>/receipt/", views.order_receipt, name="receipt"),
]
