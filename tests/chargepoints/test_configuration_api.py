"""The configuration endpoint without a station: stored items, roles, tenants."""

import pytest

from apps.chargepoints.services.configuration import (
    ReportedKey,
    configuration_keys_reported,
)
from apps.chargepoints.services.device_model import (
    ReportedAttribute,
    ReportedCharacteristics,
    ReportedVariable,
    VariableRef,
    device_model_store,
)
from tests.factories import ChargePointFactory

pytestmark = pytest.mark.django_db


def _url(station) -> str:
    return f"/api/v1/charge-points/{station.pk}/configuration/"


def test_stored_v16_keys_in_the_one_item_shape(make_actor):
    viewer = make_actor("viewer")
    station = ChargePointFactory(organization=viewer.organization)
    configuration_keys_reported(
        charge_point_id=station.pk,
        keys=[ReportedKey("HeartbeatInterval", False, "300")],
    )

    response = viewer.client.get(_url(station))

    assert response.status_code == 200
    (item,) = response.json()
    assert item["key"] == "HeartbeatInterval"
    assert (item["value"], item["readonly"], item["reboot_required"]) == (
        "300",
        False,
        False,
    )
    assert item["component"] is None and item["attribute_type"] is None


def test_stored_v201_variables_filtered_by_reference(make_actor):
    viewer = make_actor("viewer")
    station = ChargePointFactory(organization=viewer.organization, ocpp_version="2.0.1")
    device_model_store(
        charge_point_id=station.pk,
        variables=[
            ReportedVariable(
                VariableRef.parse(text),
                (ReportedAttribute(value="1", mutability="ReadOnly"),),
                ReportedCharacteristics("integer", False, unit="W", max_limit=22000),
            )
            for text in ("EVSE@1.Power", "EVSE@2.Power")
        ],
    )

    response = viewer.client.get(_url(station), {"key": "EVSE@2.Power"})

    (item,) = response.json()
    assert item == {
        **item,
        "key": "EVSE@2.Power",
        "component": "EVSE",
        "evse_id": 2,
        "connector_id": None,
        "variable": "Power",
        "attribute_type": "Actual",
        "readonly": True,
        "unit": "W",
        "max_limit": 22000.0,
    }


def test_a_malformed_reference_is_invalid(make_actor):
    viewer = make_actor("viewer")
    station = ChargePointFactory(organization=viewer.organization, ocpp_version="2.0.1")

    response = viewer.client.get(_url(station), {"key": "Comp@x.Var"})

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["key"]


def test_asking_the_station_needs_the_operator_role(make_actor):
    viewer = make_actor("viewer")
    station = ChargePointFactory(organization=viewer.organization, online=True)

    refresh = viewer.client.get(_url(station), {"refresh": "1"})
    report = viewer.client.get(_url(station), {"report": "FullInventory"})
    change = viewer.client.post(
        _url(station), [{"key": "A", "value": "1"}], format="json"
    )

    assert [r.status_code for r in (refresh, report, change)] == [403, 403, 403]


def test_another_organization_s_station_is_not_found(make_actor):
    operator = make_actor("operator")
    station = ChargePointFactory()

    assert operator.client.get(_url(station)).status_code == 404
    response = operator.client.post(
        _url(station), [{"key": "A", "value": "1"}], format="json"
    )
    assert response.status_code == 404


def test_a_report_from_a_v16_station_is_invalid(make_actor):
    operator = make_actor("operator")
    station = ChargePointFactory(organization=operator.organization, online=True)

    response = operator.client.get(_url(station), {"report": "FullInventory"})

    assert response.status_code == 400
