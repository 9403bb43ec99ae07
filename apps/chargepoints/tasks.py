from celery import shared_task

from apps.chargepoints.services.lifecycle import mark_stale_offline as _mark_stale


@shared_task(name="apps.chargepoints.tasks.mark_stale_offline")
def mark_stale_offline() -> list[str]:
    return _mark_stale()
