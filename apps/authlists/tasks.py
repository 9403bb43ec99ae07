"""Celery tasks of local authorization lists."""

from __future__ import annotations

import logging
import threading
import time

from celery import current_app, shared_task
from django.conf import settings
from django.db import connections

from apps.ocpp.local_list import local_list_push
from csms.errors import ApplicationError

logger = logging.getLogger(__name__)


@shared_task(name="apps.authlists.tasks.local_list_sync")
def local_list_sync(charge_point_id: str) -> str:
    """Bring the station's list up to date; returns the outcome.

    Safe to run twice: the second run finds the station up to date.
    """
    try:
        result = local_list_push(charge_point_id, requested_by="auto-sync")
    except ApplicationError as error:  # offline again, no answer, CallError
        logger.info("Local list sync of %s failed: %s", charge_point_id, error)
        return error.code
    return result.status


def queue_local_list_sync(charge_point_id: str) -> None:
    """Queue ``local_list_sync`` a moment from now (after the boot answer).

    An eager task (the embedded run) would run right here: in the thread that
    committed the boot, which is the edge's group-commit thread, blocking every
    station's database work while this one answers. It runs beside it instead.
    """
    delay = settings.LOCAL_LIST_SYNC_DELAY
    if current_app.conf.task_always_eager:
        threading.Thread(
            target=_run_eagerly,
            args=(charge_point_id, delay),
            name=f"local-list-sync-{charge_point_id}",
            daemon=True,
        ).start()
    else:
        local_list_sync.apply_async((charge_point_id,), countdown=delay)


def _run_eagerly(charge_point_id: str, delay: float) -> None:
    try:
        time.sleep(delay)
        local_list_sync.apply((charge_point_id,))
    except Exception:
        logger.exception("Local list sync of %s failed", charge_point_id)
    finally:
        connections.close_all()
