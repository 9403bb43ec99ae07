from django.apps import AppConfig


class OcppConfig(AppConfig):
    name = "apps.ocpp"
    label = "ocpp"
    verbose_name = "OCPP"

    def ready(self) -> None:
        from apps.ocpp.db import register_preloader
        from apps.transactions.services import locking

        # Meter-value messages name their session; a batch loads them together.
        register_preloader(locking.KIND, locking.preload_transactions)
