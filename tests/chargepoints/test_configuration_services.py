"""Stored configuration: 1.6 keys and the 2.0.1 device model, its reports."""

from datetime import UTC, datetime

import pytest

from apps.chargepoints.models import (
    Component,
    DeviceModelReport,
    StationConfigurationKey,
    Variable,
    VariableAttribute,
)
from apps.chargepoints.services.configuration import (
    ReportedKey,
    configuration_key_changed,
    configuration_keys_reported,
    configured_limit,
)
from apps.chargepoints.services.device_model import (
    ReportedAttribute,
    ReportedCharacteristics,
    ReportedVariable,
    VariableRef,
    VariableResult,
    device_model_attributes,
    device_model_report_answered,
    device_model_report_part,
    device_model_report_start,
    device_model_store,
    device_model_values_read,
    device_model_values_set,
)
from tests.factories import ChargePointFactory

pytestmark = pytest.mark.django_db

GENERATED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _variable(text: str, value: str = "1", **attribute) -> ReportedVariable:
    return ReportedVariable(
        VariableRef.parse(text),
        (ReportedAttribute(value=value, mutability="ReadWrite", **attribute),),
        ReportedCharacteristics(data_type="integer", supports_monitoring=False),
    )


def _values(station) -> dict[str, str | None]:
    return {
        str(VariableRef.of(a.variable)): a.value
        for a in device_model_attributes(charge_point_id=station.pk)
    }


# --- references ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "OCPPCommCtrlr.OfflineThreshold",
        "DeviceDataCtrlr.ItemsPerMessage[GetVariables]",
        "EVSE@1.AvailabilityState",
        "Connector@1:2.AvailabilityState",
        "TxCtrlr[main]@2.EVConnectionTimeOut",
        "EVSE@1",
    ],
)
def test_variable_reference_round_trips(text):
    assert str(VariableRef.parse(text)) == text


def test_variable_reference_parts():
    ref = VariableRef.parse("Connector[x]@1:2.Power[Max]")

    assert ref == VariableRef(
        component="Connector",
        variable="Power",
        component_instance="x",
        variable_instance="Max",
        evse_id=1,
        connector_id=2,
    )


@pytest.mark.parametrize("text", ["", ".Variable", "A@x.B", "A[.B"])
def test_malformed_reference_is_refused(text):
    with pytest.raises(ValueError):
        VariableRef.parse(text)


# --- 1.6 keys --------------------------------------------------------------------


def test_full_get_configuration_replaces_the_stored_keys():
    # given
    station = ChargePointFactory()
    configuration_keys_reported(
        charge_point_id=station.pk,
        keys=[
            ReportedKey("Old", False, "1"),
            ReportedKey("HeartbeatInterval", False, "60"),
        ],
        complete=True,
    )

    # when
    configuration_keys_reported(
        charge_point_id=station.pk,
        keys=[
            ReportedKey("HeartbeatInterval", False, "300"),
            ReportedKey("NumberOfConnectors", True, "2"),
        ],
        complete=True,
    )

    # then
    stored = {k.key: (k.value, k.readonly) for k in station.configuration_keys.all()}
    assert stored == {
        "HeartbeatInterval": ("300", False),
        "NumberOfConnectors": ("2", True),
    }


def test_partial_get_configuration_keeps_others_and_drops_unknown_keys():
    station = ChargePointFactory()
    configuration_keys_reported(
        charge_point_id=station.pk,
        keys=[ReportedKey("A", False, "1"), ReportedKey("B", False, "2")],
        complete=True,
    )

    configuration_keys_reported(
        charge_point_id=station.pk,
        keys=[ReportedKey("A", False, "10")],
        unknown=["B"],
    )

    assert list(station.configuration_keys.values_list("key", "value")) == [("A", "10")]


@pytest.mark.parametrize(
    ("status", "stored", "reboot"),
    [
        ("Accepted", "120", False),
        ("RebootRequired", "120", True),
        ("Rejected", "60", False),
        ("NotSupported", "60", False),
    ],
)
def test_change_configuration_answer_decides_the_stored_value(status, stored, reboot):
    station = ChargePointFactory()
    configuration_keys_reported(
        charge_point_id=station.pk, keys=[ReportedKey("HeartbeatInterval", False, "60")]
    )

    configuration_key_changed(
        charge_point_id=station.pk, key="HeartbeatInterval", value="120", status=status
    )

    row = StationConfigurationKey.objects.get(charge_point=station)
    assert (row.value, row.reboot_required) == (stored, reboot)


def test_limits_come_from_the_version_s_configuration():
    v16 = ChargePointFactory(ocpp_version="1.6")
    v201 = ChargePointFactory(ocpp_version="2.0.1")
    configuration_keys_reported(
        charge_point_id=v16.pk, keys=[ReportedKey("SendLocalListMaxLength", True, "5")]
    )
    device_model_store(
        charge_point_id=v201.pk,
        variables=[
            _variable("DeviceDataCtrlr.ItemsPerMessage[GetVariables]", "4"),
            _variable("LocalAuthListCtrlr.ItemsPerMessage", "7"),
        ],
    )

    assert configured_limit(charge_point_id=v16.pk, name="local_list_items") == 5
    assert configured_limit(charge_point_id=v16.pk, name="set_items") is None
    assert configured_limit(charge_point_id=v201.pk, name="get_items") == 4
    assert configured_limit(charge_point_id=v201.pk, name="local_list_items") == 7
    assert configured_limit(charge_point_id=v201.pk, name="set_items") is None


# --- device model ----------------------------------------------------------------


def test_store_creates_then_updates_without_duplicates():
    station = ChargePointFactory(ocpp_version="2.0.1")
    device_model_store(
        charge_point_id=station.pk,
        variables=[_variable("EVSE@1.AvailabilityState", "Available")],
    )

    device_model_store(
        charge_point_id=station.pk,
        variables=[
            _variable("EVSE@1.AvailabilityState", "Unavailable"),
            _variable("EVSE@2.AvailabilityState", "Available"),
        ],
    )

    assert _values(station) == {
        "EVSE@1.AvailabilityState": "Unavailable",
        "EVSE@2.AvailabilityState": "Available",
    }
    assert Component.objects.filter(charge_point=station).count() == 2


def test_components_without_evse_are_one_component():
    # NULL evse ids are distinct in a plain unique index; ours compares them.
    station = ChargePointFactory(ocpp_version="2.0.1")
    for value in ("1", "2"):
        device_model_store(
            charge_point_id=station.pk,
            variables=[_variable("AuthCtrlr.Enabled", value)],
        )

    assert Component.objects.filter(charge_point=station).count() == 1
    assert _values(station) == {"AuthCtrlr.Enabled": "2"}


def test_store_costs_a_constant_number_of_queries(django_assert_max_num_queries):
    station = ChargePointFactory(ocpp_version="2.0.1")
    variables = [_variable(f"Comp{i}.Var{i}", str(i)) for i in range(50)]

    with django_assert_max_num_queries(12):
        device_model_store(charge_point_id=station.pk, variables=variables)

    assert VariableAttribute.objects.count() == 50


def test_report_fields_are_kept_when_a_value_is_read_later():
    station = ChargePointFactory(ocpp_version="2.0.1")
    device_model_store(
        charge_point_id=station.pk,
        variables=[_variable("OCPPCommCtrlr.OfflineThreshold", "60", persistent=True)],
    )

    device_model_values_read(
        charge_point_id=station.pk,
        results=[
            VariableResult(
                VariableRef.parse("OCPPCommCtrlr.OfflineThreshold"),
                "Actual",
                "Accepted",
                "90",
            )
        ],
    )

    attribute = VariableAttribute.objects.get()
    assert (attribute.value, attribute.mutability, attribute.persistent) == (
        "90",
        "ReadWrite",
        True,
    )


def test_unknown_variable_answer_forgets_it():
    station = ChargePointFactory(ocpp_version="2.0.1")
    device_model_store(charge_point_id=station.pk, variables=[_variable("A.B")])

    device_model_values_read(
        charge_point_id=station.pk,
        results=[VariableResult(VariableRef.parse("A.B"), "Actual", "UnknownVariable")],
    )

    assert not VariableAttribute.objects.exists()


def test_set_values_marks_reboot_required_and_ignores_rejected():
    station = ChargePointFactory(ocpp_version="2.0.1")

    device_model_values_set(
        charge_point_id=station.pk,
        results=[
            VariableResult(VariableRef.parse("A.X"), "Actual", "RebootRequired", "1"),
            VariableResult(VariableRef.parse("A.Y"), "Actual", "Rejected", "2"),
        ],
    )

    (attribute,) = VariableAttribute.objects.all()
    assert (str(VariableRef.of(attribute.variable)), attribute.value) == ("A.X", "1")
    assert attribute.reboot_required is True


# --- reports ---------------------------------------------------------------------


def _part(station, seq_no, tbc, *variables, request_id=7):
    return device_model_report_part(
        charge_point_id=station.pk,
        request_id=request_id,
        seq_no=seq_no,
        tbc=tbc,
        generated_at=GENERATED,
        variables=list(variables),
    )


def test_report_parts_are_assembled_until_the_last():
    # given
    station = ChargePointFactory(ocpp_version="2.0.1")
    device_model_report_start(
        charge_point_id=station.pk, request_id=7, report_base="ConfigurationInventory"
    )
    device_model_report_answered(
        charge_point_id=station.pk, request_id=7, station_status="Accepted"
    )

    # when
    first = _part(station, 0, True, _variable("A.X"))
    second = _part(station, 1, True, _variable("A.Y"))
    last = _part(station, 2, False, _variable("B.Z"))

    # then
    assert (first.status, second.status) == ("receiving", "receiving")
    assert last.status == DeviceModelReport.Status.COMPLETE
    assert (last.parts_received, last.items_received, last.last_seq_no) == (3, 3, 2)
    assert set(_values(station)) == {"A.X", "A.Y", "B.Z"}


def test_a_repeated_part_is_applied_once():
    station = ChargePointFactory(ocpp_version="2.0.1")
    _part(station, 0, True, _variable("A.X", "1"))
    device_model_store(charge_point_id=station.pk, variables=[_variable("A.X", "2")])

    report = _part(station, 0, True, _variable("A.X", "1"))

    assert (report.parts_received, report.status) == (1, "receiving")
    assert _values(station) == {"A.X": "2"}


def test_parts_of_a_report_nobody_requested_start_one():
    station = ChargePointFactory(ocpp_version="2.0.1")

    report = _part(station, 0, False, _variable("A.X"), request_id=99)

    assert (report.request_id, report.status) == (99, "complete")


def test_full_inventory_forgets_what_it_no_longer_lists():
    station = ChargePointFactory(ocpp_version="2.0.1")
    device_model_store(
        charge_point_id=station.pk,
        variables=[_variable("Gone.Variable"), _variable("A.Stays")],
    )
    DeviceModelReport.objects.all().delete()
    device_model_report_start(
        charge_point_id=station.pk, request_id=8, report_base="FullInventory"
    )

    _part(station, 0, False, _variable("A.Stays"), request_id=8)

    assert set(_values(station)) == {"A.Stays"}
    assert not Component.objects.filter(name="Gone").exists()
    assert Variable.objects.count() == 1


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ("Rejected", "refused"),
        ("NotSupported", "refused"),
        ("EmptyResultSet", "refused"),
        (None, "failed"),
    ],
)
def test_report_request_refused_or_unanswered(answer, status):
    station = ChargePointFactory(ocpp_version="2.0.1")
    device_model_report_start(charge_point_id=station.pk, request_id=3)

    report = device_model_report_answered(
        charge_point_id=station.pk, request_id=3, station_status=answer
    )

    assert report.status == status
