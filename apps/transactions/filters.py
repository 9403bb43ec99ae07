from django_filters import rest_framework as filters

from apps.transactions.models import IdTag, MeterValue, Transaction


class TransactionFilter(filters.FilterSet):
    charge_point = filters.CharFilter(field_name="charge_point_id")
    status = filters.ChoiceFilter(choices=Transaction.Status.choices)
    id_tag = filters.CharFilter()
    started_after = filters.IsoDateTimeFilter(
        field_name="started_at", lookup_expr="gte"
    )
    started_before = filters.IsoDateTimeFilter(
        field_name="started_at", lookup_expr="lt"
    )
    organization = filters.NumberFilter(field_name="organization_id")
    evse_id = filters.NumberFilter()
    connector_id = filters.NumberFilter()
    stop_token_mismatch = filters.BooleanFilter()

    class Meta:
        model = Transaction
        fields = (
            "charge_point",
            "status",
            "id_tag",
            "started_after",
            "started_before",
            "organization",
            "evse_id",
            "connector_id",
            "stop_token_mismatch",
        )


class IdTagFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=IdTag.Status.choices)
    type = filters.ChoiceFilter(choices=IdTag.Type.choices)
    organization = filters.NumberFilter(field_name="organization_id")
    parent_id_tag = filters.CharFilter()

    class Meta:
        model = IdTag
        fields = ("status", "type", "organization", "parent_id_tag")


class MeterValueFilter(filters.FilterSet):
    measurand = filters.CharFilter()
    phase = filters.CharFilter()
    context = filters.CharFilter()
    after = filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    before = filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="lt")

    class Meta:
        model = MeterValue
        fields = ("measurand", "phase", "context", "after", "before")
