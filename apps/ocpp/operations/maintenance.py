"""Operations that maintain a station: base report, logs, firmware."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from apps.chargepoints.services.device_model import (
    device_model_report_answered,
    device_model_report_start,
)
from apps.ocpp.models import CommandRequest
from apps.ocpp.operations.base import (
    OperationResult,
    send,
    station_adapter,
    with_request,
)
from csms.errors import ApplicationError


def report(
    station_id: str,
    *,
    report_base: str = "FullInventory",
    requested_by: str = "",
    timeout: float | None = None,
) -> OperationResult:
    """2.0.1 GetBaseReport (B07). The report is recorded before it is asked
    for, so the NotifyReport parts that carry ``request_id`` are assembled
    into the station's device model (``apps.chargepoints.services``)."""
    station, adapter = station_adapter(station_id)
    request, command = with_request(
        station,
        CommandRequest.Kind.REPORT,
        lambda request_id: adapter.base_report(
            request_id=request_id, report_base=report_base
        ),
        requested_by=requested_by,
    )
    recorded = {"charge_point_id": station.pk, "request_id": request.pk}
    device_model_report_start(
        **recorded, report_base=report_base, requested_by=requested_by
    )
    try:
        result = send(
            station,
            command,
            requested_by=requested_by,
            timeout=timeout,
            request=request,
        )
    except ApplicationError:
        device_model_report_answered(**recorded, station_status=None)
        raise
    device_model_report_answered(**recorded, station_status=result.status)
    return result


def diagnostics(
    station_id: str,
    *,
    location: str,
    log_type: str = "DiagnosticsLog",
    start_time: datetime | None = None,
    stop_time: datetime | None = None,
    retries: int | None = None,
    retry_interval: int | None = None,
    requested_by: str = "",
    timeout: float | None = None,
) -> OperationResult:
    """Upload logs to ``location``: 1.6 GetDiagnostics (GetLog for a
    SecurityLog), 2.0.1 GetLog."""
    station, adapter = station_adapter(station_id)
    request, command = with_request(
        station,
        CommandRequest.Kind.LOG,
        lambda request_id: adapter.diagnostics(
            request_id=request_id,
            location=location,
            log_type=log_type,
            start_time=start_time,
            stop_time=stop_time,
            retries=retries,
            retry_interval=retry_interval,
        ),
        requested_by=requested_by,
    )
    return send(
        station, command, requested_by=requested_by, timeout=timeout, request=request
    )


def firmware_update(
    station_id: str,
    *,
    location: str,
    retrieve_at: datetime | None = None,
    install_at: datetime | None = None,
    retries: int | None = None,
    retry_interval: int | None = None,
    signing_certificate: str | None = None,
    signature: str | None = None,
    requested_by: str = "",
    timeout: float | None = None,
) -> OperationResult:
    """1.6 UpdateFirmware (SignedUpdateFirmware when signed), 2.0.1
    UpdateFirmware; download now unless ``retrieve_at`` says when."""
    station, adapter = station_adapter(station_id)
    request, command = with_request(
        station,
        CommandRequest.Kind.FIRMWARE,
        lambda request_id: adapter.firmware_update(
            request_id=request_id,
            location=location,
            retrieve_at=retrieve_at or timezone.now(),
            install_at=install_at,
            retries=retries,
            retry_interval=retry_interval,
            signing_certificate=signing_certificate,
            signature=signature,
        ),
        requested_by=requested_by,
    )
    return send(
        station, command, requested_by=requested_by, timeout=timeout, request=request
    )
