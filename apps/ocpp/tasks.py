from celery import shared_task

from apps.ocpp.services import journal_purge


@shared_task(name="apps.ocpp.tasks.purge_journal")
def purge_journal() -> int:
    return journal_purge()
