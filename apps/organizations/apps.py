from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class OrganizationsConfig(AppConfig):
    name = "apps.organizations"
    label = "organizations"

    def ready(self) -> None:
        from apps.organizations import schema  # noqa: F401 - registers the scheme
        from apps.organizations.authentication import remember
        from apps.organizations.models import ApiKey

        # Every process reads keys from the cache: keep it in step.
        post_save.connect(
            lambda instance, **_: remember(instance),
            sender=ApiKey,
            weak=False,
            dispatch_uid="api-key-cache-save",
        )
        post_delete.connect(
            lambda instance, **_: remember(instance, deleted=True),
            sender=ApiKey,
            weak=False,
            dispatch_uid="api-key-cache-delete",
        )
