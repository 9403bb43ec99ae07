"""Prometheus metrics of this process.

Each server process keeps its own registry and answers ``GET /metrics`` with
its own numbers: scrape every process (one ``manage.py serve`` per port), and
let Prometheus add them up. prometheus_client's multi-process mode is not used:
it cannot carry the function-backed gauges below (GC pause, frozen objects).

The OCPP edge imports these by name; keep the names stable.
"""

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# No "<name>_created" series beside every counter and histogram: they double
# what Prometheus stores and nothing here reads them.
disable_created_metrics()

HTTP_REQUESTS = Counter(
    "csms_http_requests_total", "HTTP requests", ["method", "route", "status"]
)
HTTP_REQUEST_SECONDS = Histogram(
    "csms_http_request_seconds",
    "Time to build an HTTP response, by route",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
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
GROUP_COMMIT_ITEMS = Histogram(
    "csms_group_commit_items",
    "Handler calls committed together in one group-commit batch",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
GROUP_COMMIT_SECONDS = Histogram(
    "csms_group_commit_seconds",
    "Time to run and commit one group-commit batch",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
OCPP_AUTH_FAILURES = Counter(
    "csms_ocpp_auth_failures_total", "Refused station handshakes", ["reason"]
)
# Fed by apps.operations.gctracker at scrape time (set_function), never from
# inside a collection: see the tracker's docstring.
GC_MAX_PAUSE = Gauge("csms_gc_max_pause_seconds", "Longest garbage-collection pause")
GC_FROZEN_OBJECTS = Gauge(
    "csms_gc_frozen_objects", "Objects moved to the permanent generation by gc.freeze"
)
SCHEDULED_JOB_RUNS = Counter(
    "csms_scheduled_job_runs_total",
    "Runs of the in-process scheduler's jobs",
    ["job", "outcome"],
)
