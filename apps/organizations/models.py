from django.conf import settings
from django.db import models

from apps.organizations.scoping import TenantQuerySet


class Organization(models.Model):
    """A tenant: a charge point operator, or a part of one."""

    class StopTokenMismatch(models.TextChoices):
        REJECT = "reject", "Reject the stop token"
        ACCEPT_AND_FLAG = "accept_flag", "Accept and flag the transaction"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    auto_register_stations = models.BooleanField(
        default=False,
        help_text="Unknown stations connecting with this organization's slug as "
        "prefix are refused unless this is on; then they are created Pending.",
    )
    accept_foreign_tokens = models.BooleanField(
        default=False,
        help_text="Whether this organization's stations accept id tokens of "
        "other organizations.",
    )
    stop_token_mismatch = models.CharField(
        max_length=16,
        choices=StopTokenMismatch.choices,
        default=StopTokenMismatch.ACCEPT_AND_FLAG,
    )
    heartbeat_interval = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Seconds; empty uses the server default.",
    )
    local_list_auto_sync = models.BooleanField(
        "sync local authorization lists",
        default=False,
        help_text="Push the difference of the local authorization list to a "
        "station each time it boots (OCPP SendLocalList).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    TENANT_FIELD = "id"

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        OPERATOR = "operator", "Operator"
        VIEWER = "viewer", "Viewer"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], name="unique_membership"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"


class ApiKey(models.Model):
    """An organization's key for programs; only its hash is stored."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=128, editable=False)
    role = models.CharField(
        max_length=16, choices=Membership.Role.choices, default=Membership.Role.OPERATOR
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
