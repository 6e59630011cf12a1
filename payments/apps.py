from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from payments import checks  # noqa: F401  (registers system checks)
        from payments.sales import failed_webhook_events_figure, open_disputes_figure
        from shop.orders.sales import sales_overview_register

        sales_overview_register(failed_webhook_events_figure)
        sales_overview_register(open_disputes_figure)
