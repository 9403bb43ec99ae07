"""The OCPP versions the edge speaks, by subprotocol, in our order of preference."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Version:
    subprotocol: str
    number: str  # as stored on ChargePoint.ocpp_version and used by the package
    # Error code spellings differ: 1.6 keeps its historical typos (OCPP-J 1.6
    # errata: "known issues that will not be fixed").
    format_violation: str
    occurrence_violation: str
    framework_error: str


V16 = Version(
    "ocpp1.6",
    "1.6",
    "FormationViolation",
    "OccurenceConstraintViolation",
    "FormationViolation",
)
V201 = Version(
    "ocpp2.0.1",
    "2.0.1",
    "FormatViolation",
    "OccurrenceConstraintViolation",
    "RpcFrameworkError",
)
V21 = Version(
    "ocpp2.1",
    "2.1",
    "FormatViolation",
    "OccurrenceConstraintViolation",
    "RpcFrameworkError",
)

PREFERENCE = (V21, V201, V16)
BY_SUBPROTOCOL = {v.subprotocol: v for v in PREFERENCE}
BY_NUMBER = {v.number: v for v in PREFERENCE}


def negotiate(offered: list[str]) -> Version | None:
    """The best version the client offers, in the server's order; never a guess."""
    offered_set = {p.strip() for p in offered}
    for version in PREFERENCE:
        if version.subprotocol in offered_set:
            return version
    return None
