from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from config.health import healthz

admin.site.site_header = "Stripe Press admin"
admin.site.site_title = "Stripe Press admin"
admin.site.index_title = "Orders, payments and the catalog"

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("", include("payments.urls")),
    path("cart/", include("shop.cart.urls")),
    path("orders/", include("shop.orders.urls")),
    path("", include("shop.catalog.urls")),
]
# Uploaded covers in development (local storage); production serves MEDIA_ROOT from the web
# server or keeps media in S3 (docs/operations.md). `static()` adds nothing with DEBUG off.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
