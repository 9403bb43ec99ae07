from django_filters import rest_framework as filters

from apps.chargepoints.models import ChargePoint, OcppVersion
from apps.ocpp.models import MessageLog


class ChargePointFilter(filters.FilterSet):
    is_online = filters.BooleanFilter()
    ocpp_version = filters.ChoiceFilter(choices=OcppVersion.choices)
    # A number, not a choice of organizations: a foreign id just matches
    # nothing instead of telling "exists" from "does not exist".
    organization = filters.NumberFilter(field_name="organization_id")
    registration_status = filters.ChoiceFilter(
        choices=ChargePoint.RegistrationStatus.choices
    )
    security_profile = filters.TypedChoiceFilter(
        choices=ChargePoint.SecurityProfile.choices, coerce=int
    )

    class Meta:
        model = ChargePoint
        fields = (
            "is_online",
            "ocpp_version",
            "organization",
            "registration_status",
            "security_profile",
        )


class MessageLogFilter(filters.FilterSet):
    direction = filters.ChoiceFilter(choices=MessageLog.Direction.choices)
    action = filters.CharFilter()
    message_type = filters.TypedChoiceFilter(
        choices=((2, "CALL"), (3, "CALLRESULT"), (4, "CALLERROR")), coerce=int
    )
    unique_id = filters.CharFilter()
    created_after = filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte"
    )
    created_before = filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt"
    )

    class Meta:
        model = MessageLog
        fields = (
            "direction",
            "action",
            "message_type",
            "unique_id",
            "created_after",
            "created_before",
        )
