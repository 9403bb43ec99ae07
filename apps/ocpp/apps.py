from django.apps import AppConfig


class OcppConfig(AppConfig):
    name = "apps.ocpp"
    label = "ocpp"
    verbose_name = "OCPP"

    def ready(self) -> None:
        from apps.chargepoints.services import status
        from apps.ocpp.db import register_preloader
        from apps.transactions.services import locking

        # Meter-value messages name their session, status reports their EVSE;
        # a batch loads them together.
        register_preloader(locking.KIND, locking.preload_transactions)
        register_preloader(status.KIND, status.preload_evses)
