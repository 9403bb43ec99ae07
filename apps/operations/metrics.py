"""Prometheus metrics of this process."""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "csms_http_requests_total", "HTTP requests", ["method", "route", "status"]
)
STATIONS_CONNECTED = Gauge(
    "csms_stations_connected", "Stations connected to this process", ["ocpp_version"]
)
OCPP_MESSAGES_IN = Counter(
    "csms_ocpp_messages_in_total", "OCPP frames received", ["ocpp_version", "action"]
)
OCPP_MESSAGES_OUT = Counter(
    "csms_ocpp_messages_out_total", "OCPP frames sent", ["ocpp_version", "action"]
)
OCPP_HANDLER_SECONDS = Histogram(
    "csms_ocpp_handler_seconds",
    "Time from an incoming CALL to its answer",
    ["ocpp_version", "action"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OCPP_AUTH_FAILURES = Counter(
    "csms_ocpp_auth_failures_total", "Refused station handshakes", ["reason"]
)
GC_MAX_PAUSE = Gauge("csms_gc_max_pause_seconds", "Longest garbage-collection pause")
