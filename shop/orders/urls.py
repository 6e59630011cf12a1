from django.urls import path

from shop.orders import views, views_find

app_name = "orders"

urlpatterns = [
    path("", views_find.orders_find, name="find"),
    path("<str:number>/", views.order_detail, name="detail"),
    path("<str:number>/receipt/", views.order_receipt, name="receipt"),
]
