from rest_framework import serializers

from apps.authlists.models import LocalAuthList
from apps.authlists.services import UPDATE_TYPES


class LocalListPushSerializer(serializers.Serializer):
    update_type = serializers.ChoiceField(
        choices=UPDATE_TYPES,
        required=False,
        help_text="Omitted: the difference when the station's content is known "
        "exactly, the full list otherwise.",
    )


class LocalListPushResultSerializer(serializers.Serializer):
    status = serializers.CharField(
        help_text="The station's answer to the last SendLocalList (Accepted, "
        "Failed, VersionMismatch, NotSupported), or UpToDate: nothing to send."
    )
    response = serializers.DictField(allow_null=True)
    update_type = serializers.CharField(allow_null=True)
    version = serializers.IntegerField(help_text="The list version sent.")
    station_version = serializers.IntegerField(
        help_text="The version the station said it held before."
    )
    messages = serializers.IntegerField(help_text="SendLocalList messages sent.")


class LocalAuthListRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = LocalAuthList
        fields = ("id", "name", "station_group", "version")
        read_only_fields = fields


class LocalListStatusSerializer(serializers.Serializer):
    local_list = LocalAuthListRefSerializer()
    current_version = serializers.IntegerField(
        help_text="The version of the list's current content."
    )
    entries = serializers.IntegerField(help_text="Tokens in the current content.")
    station_version = serializers.IntegerField(
        help_text="The version the station holds after our updates (0: none)."
    )
    reported_version = serializers.IntegerField(
        allow_null=True, help_text="The station's last answer to GetLocalListVersion."
    )
    reported_at = serializers.DateTimeField(allow_null=True)
    last_update_type = serializers.CharField(allow_null=True)
    last_status = serializers.CharField(allow_null=True)
    last_sync_at = serializers.DateTimeField(allow_null=True)
    up_to_date = serializers.BooleanField()
