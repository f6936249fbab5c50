"""Audit entries for the screen tests, created directly in their final state."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crmadmin.audit.models import AuditEntry, Outcome


def entry_fields(**fields) -> dict:
    """A finished, successful ``status.create`` call unless ``fields`` say otherwise."""
    started_at = fields.pop("started_at", None) or timezone.now() - timedelta(minutes=10)
    actor = fields.get("actor")
    outcome = fields.get("outcome", Outcome.SUCCEEDED)
    finished = outcome != Outcome.PENDING
    duration_ms = fields.pop("duration_ms", 120.0 if finished else None)
    defaults = {
        "actor_username": actor.get_username() if actor is not None else "",
        "actor_ip": "10.0.0.7",
        "operation": "status.create",
        "record_kind": "status",
        "code": "VIP",
        "request_body": {
            "vbot_id": "VBOT-TEST",
            "project_code": "PRJ-TEST",
            "status_no": fields.get("code", "VIP"),
            "status_name": "Khách VIP",
        },
        "started_at": started_at,
        "finished_at": started_at + timedelta(milliseconds=duration_ms) if finished else None,
        "duration_ms": duration_ms,
        "outcome": outcome,
        "http_status": 200 if finished else None,
        "upstream_status": 1 if outcome == Outcome.SUCCEEDED else (0 if finished else None),
        "upstream_error": "",
        "upstream_message": "success" if outcome == Outcome.SUCCEEDED else "",
    }
    defaults.update(fields)
    return defaults


@pytest.fixture
def make_entry(db):
    """``make_entry(outcome="failed", actor=user, ...)`` → a stored AuditEntry."""

    def make(**fields) -> AuditEntry:
        return AuditEntry.objects.create(**entry_fields(**fields))

    return make
