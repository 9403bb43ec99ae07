"""Local authorization lists: the id tokens a station may authorize offline.

A list belongs to an organization (its default list) or to one of its station
groups. Its content is built from id tags; each distinct content gets the next
version number, and that content is kept (``LocalAuthListVersion``) so that a
station holding an older version can be sent just the difference. What each
station holds is tracked in ``StationLocalList``.
"""

from django.db import models
from django.db.models import Q

from apps.chargepoints.models import ChargePoint, StationGroup
from apps.organizations.models import Organization
from apps.organizations.scoping import TenantQuerySet
from apps.transactions.models import IdTag


class LocalAuthList(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="local_auth_lists"
    )
    name = models.CharField(max_length=100)
    station_group = models.ForeignKey(
        StationGroup,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="local_auth_lists",
        help_text="Empty: the organization's default list, for stations of no "
        "group with a list of its own.",
    )
    all_id_tags = models.BooleanField(
        "all id tags",
        default=True,
        help_text="Every id tag of the organization; otherwise the selected ones.",
    )
    id_tags = models.ManyToManyField(IdTag, blank=True, related_name="local_auth_lists")
    version = models.PositiveIntegerField(
        default=0, editable=False, help_text="0 until the list is first built."
    )
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "local authorization list"
        ordering = ["organization", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "station_group"],
                name="one_local_list_per_group",
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(station_group__isnull=True),
                name="one_default_local_list",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class LocalAuthListVersion(models.Model):
    """The content of a list at one version: the base of differential updates.

    ``entries`` maps each id token to ``{"status", "expiry_date",
    "parent_id_tag", "type"}`` (version-neutral; the edge maps it to 1.6
    idTagInfo or 2.0.1 idTokenInfo).
    """

    TENANT_FIELD = "local_list__organization"

    local_list = models.ForeignKey(
        LocalAuthList, on_delete=models.CASCADE, related_name="versions"
    )
    version = models.PositiveIntegerField()
    entries = models.JSONField(default=dict)
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["local_list", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["local_list", "version"], name="unique_local_list_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.local_list} v{self.version}"


class StationLocalList(models.Model):
    """What the CSMS knows of one station's local authorization list."""

    TENANT_FIELD = "charge_point__organization"

    charge_point = models.OneToOneField(
        ChargePoint, on_delete=models.CASCADE, related_name="local_list_state"
    )
    local_list = models.ForeignKey(
        LocalAuthList,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stations",
        help_text="The list last sent to the station.",
    )
    version = models.IntegerField(
        default=0, help_text="The version the station holds after our updates."
    )
    content = models.ForeignKey(
        LocalAuthListVersion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The content at that version, when known exactly: the base "
        "of the next differential update.",
    )
    reported_version = models.IntegerField(
        null=True,
        blank=True,
        help_text="The station's last answer to GetLocalListVersion "
        "(0: no list, -1: not supported by a 1.6 station).",
    )
    reported_at = models.DateTimeField(null=True, blank=True)
    last_update_type = models.CharField(max_length=12, blank=True)
    last_status = models.CharField(max_length=20, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "station local list"
        ordering = ["charge_point"]

    def __str__(self) -> str:
        return f"{self.charge_point_id} v{self.version}"
