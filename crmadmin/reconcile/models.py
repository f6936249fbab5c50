"""Resolutions: what was done about a divergent audit entry, linked to the entry and to
the probe call that settled it. Audit entries stay as they are (immutable); an item is
closed by a closing resolution, never by changing its entry.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crmadmin.audit.models import AuditEntry


class Action(models.TextChoices):
    PROBE = "probe", _("probe")
    RESEND = "resend", _("sent again")
    REAPPLY = "reapply", _("register change applied again")
    RECREATE = "recreate", _("created again in the CRM")
    REMOVE = "remove", _("removed from the register only")
    ADOPT = "adopt", _("adopted into the register")
    INTERPRET = "interpret", _("answer interpreted by a person")
    RESTORE = "restore", _("restored")


class Resolution(models.Model):
    entry = models.ForeignKey(
        AuditEntry, on_delete=models.PROTECT, related_name="resolutions", verbose_name=_("entry")
    )
    # The audit entry of the call this step made (a probe, a resend, a restore's create).
    probe = models.ForeignKey(
        AuditEntry,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resolves",
        verbose_name=_("call"),
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    # What was found, in words for people ("The CRM has the record: the register follows.").
    finding = models.TextField(_("finding"), blank=True)
    # The next step a person may take ("resend" after a create the CRM never received),
    # or "choose" when the CRM answered a code the meanings table does not know.
    offer = models.CharField(max_length=16, blank=True)
    # Which probe's answer a person must interpret (for "choose").
    step = models.CharField(max_length=16, blank=True)
    closes = models.BooleanField(_("closes the item"), default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_username = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("resolution")
        verbose_name_plural = _("resolutions")
        default_permissions = ()
        indexes = [models.Index(fields=["entry", "closes"], name="resolution_entry_closes")]

    def __str__(self) -> str:
        return f"{self.action} of entry {self.entry_id}"
