from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from apps.ocpp.models import MessageLog


def journal_purge(*, older_than_days: int | None = None) -> int:
    """Delete journal rows past the retention; returns how many went."""
    days = (
        settings.OCPP_JOURNAL_RETENTION_DAYS
        if older_than_days is None
        else older_than_days
    )
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = MessageLog.objects.filter(created_at__lt=cutoff).delete()
    return deleted
