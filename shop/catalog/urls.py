from django.urls import path

from shop.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.book_list, name="book_list"),
    path("books/<slug:slug>/", views.book_detail, name="book_detail"),
    path("subjects/<slug:slug>/", views.subject_detail, name="subject_detail"),
    path("search/", views.search, name="search"),
]
