from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kangle.core.crypto import EncryptedTextField


class Notification(models.Model):
    """A message in a person's inbox on the site."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("sent"), db_index=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self):
        return self.title


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    # A notice for a person's inbox on the site: written with the state change that causes it, turned into
    # a Notification (and, with ``also_sms``, a text) by the outbox job — so a crash loses none of them.
    INBOX = "inbox", _("Site inbox")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to send")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboxMessage(models.Model):
    """A message to another system (SMS gateway, mail server), sent by the worker, never inside a request.

    Each row is delivered at most once: workers claim rows with a compare-and-set on ``status``/``attempts``.
    """

    channel = models.CharField(max_length=10, choices=Channel.choices)
    # Phone numbers and addresses are personal data: encrypted like everywhere else.
    to = EncryptedTextField(blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    attachment_name = models.CharField(max_length=200, blank=True)
    attachment = models.BinaryField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()  # the due index below leads with status, as every claim does
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Inbox notices: who gets it, where it points, and whether it is also texted to their phone.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    link = models.CharField(max_length=300, blank=True)
    also_sms = models.BooleanField(default=False)
    # Free reference to what caused the message (e.g. "cases.case:17"), for tracing.
    reference = models.CharField(max_length=100, blank=True)

    class Meta:
        # Each index is one more write per row, and an SLA sweep writes thousands of rows a page: the due
        # index serves every claim, and references are read by equality only (no ``_like`` twin).
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notify_outbox_due_idx"),
            models.Index(fields=["reference"], name="notify_outbox_reference_idx"),
        ]
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")

    def __str__(self):
        return f"{self.channel} {self.status} {self.reference}"


class LoginCode(models.Model):
    """A six-digit code texted to a mobile number to log in or sign up. Only keyed hashes are stored."""

    phone_hash = models.CharField(max_length=64, db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["phone_hash", "expires_at"], name="notify_logincode_phone_idx")]

    def __str__(self):
        return f"code {self.pk}"
