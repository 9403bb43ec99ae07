from django.apps import AppConfig


class OcppConfig(AppConfig):
    name = "apps.ocpp"
    label = "ocpp"
    verbose_name = "OCPP"

    def ready(self) -> None:
        from apps.chargepoints.services import lifecycle, status
        from apps.ocpp.db import register_preloader
        from apps.transactions.services import authorization, locking

        # Meter-value messages name their session, status reports their EVSE,
        # session starts and stops their session and token, connects their
        # station; a batch loads each kind together.
        register_preloader(locking.KIND, locking.preload_transactions)
        register_preloader(locking.KIND_WHOLE, locking.preload_whole_transactions)
        register_preloader(authorization.KIND, authorization.preload_id_tags)
        register_preloader(status.KIND, status.preload_evses)
        register_preloader(lifecycle.KIND, lifecycle.preload_stations)
