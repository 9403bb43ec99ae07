from django.apps import AppConfig
from django.db.backends.signals import connection_created


class OperationsConfig(AppConfig):
    name = "apps.operations"
    label = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        # Imported here so uptime counts from start-up, not the first request.
        from apps.operations import runtime  # noqa: F401
        from csms.pgtypes import use_c_timestamp_loader

        connection_created.connect(use_c_timestamp_loader, dispatch_uid="csms.pgtypes")
