from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "apps.operations"
    label = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        # Imported here so uptime counts from start-up, not the first request.
        from apps.operations import runtime  # noqa: F401
