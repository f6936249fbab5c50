from django.utils import timezone

from crmadmin.core.navigation import entries_for


def navigation(request):
    user = getattr(request, "user", None)
    if user is None:
        return {"nav_entries": []}
    return {"nav_entries": entries_for(user)}


def time_zone_label(moment=None) -> str:
    """The current time zone as an offset, "UTC+07:00": shown beside times of different
    days, so a reader in another zone knows what they are comparing."""
    offset = timezone.localtime(moment or timezone.now()).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def time_zone(request):
    return {"time_zone_label": time_zone_label()}
