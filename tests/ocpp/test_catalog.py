import importlib

import pytest

from apps.ocpp.catalog import TO_CSMS, TO_STATION


@pytest.mark.parametrize(
    ("version", "module", "to_station", "to_csms"),
    [
        ("1.6", "ocpp.v16.enums", 26, 14),
        ("2.0.1", "ocpp.v201.enums", 40, 25),
        ("2.1", "ocpp.v21.enums", 55, 36),
    ],
)
def test_directions_cover_every_action_the_schemas_define(
    version, module, to_station, to_csms
):
    actions = {str(a.value) for a in importlib.import_module(module).Action}
    assert TO_STATION[version] | TO_CSMS[version] == actions
    assert (len(TO_STATION[version]), len(TO_CSMS[version])) == (to_station, to_csms)
    assert TO_STATION[version] & TO_CSMS[version] == {"DataTransfer"}
