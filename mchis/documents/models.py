"""Signed documents (tài liệu ký số, issue 21): each PAdES signature the system made, with the signed bytes.

A row is written in the same transaction as the act it proves (a report approval, a signed audit minutes, an
exported official list) and never changed afterwards except to say it was superseded or withdrawn.
Verification finds a received file's signature here by the signature value's digest (`signature_digest`),
so a copy with bytes added after signing is still recognised, and then reported as changed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from mchis.core.scoping import ScopedQuerySet


class DocumentKind(models.TextChoices):
    REPORT = "report", _("Báo cáo thống kê đã duyệt")
    AUDIT_MINUTES = "audit_minutes", _("Biên bản phúc tra")
    OFFICIAL_LIST = "official_list", _("Danh sách chính thức")


class SignedDocumentQuerySet(ScopedQuerySet["SignedDocument"]):
    def current(self) -> SignedDocumentQuerySet:
        return self.filter(superseded_at__isnull=True, withdrawn_at__isnull=True)


class SignedDocument(models.Model):
    SCOPE_PATH = "unit__path"

    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    object_type = models.CharField(max_length=40, help_text="Audit object type of what was signed")
    object_id = models.CharField(max_length=64)
    title = models.CharField(max_length=255)
    unit = models.ForeignKey("units.ReportingUnit", on_delete=models.PROTECT, related_name="signed_documents")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()
    reason = models.CharField(max_length=255)
    content_sha256 = models.CharField(max_length=64, help_text="The PDF before signing")
    sha256 = models.CharField(max_length=64, db_index=True, help_text="The signed PDF as issued")
    signature_digest = models.CharField(max_length=64, unique=True)
    cert_subject = models.CharField(max_length=255)
    cert_issuer = models.CharField(max_length=255)
    cert_serial = models.CharField(max_length=80)
    cert_fingerprint = models.CharField(max_length=64)
    key_store = models.CharField(max_length=10)
    timestamped = models.BooleanField(default=False)
    pdf = models.BinaryField()
    superseded_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)

    objects = SignedDocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        constraints = [
            # at most one current signed version of a thing
            models.UniqueConstraint(
                fields=["object_type", "object_id"],
                condition=Q(superseded_at__isnull=True, withdrawn_at__isnull=True),
                name="signed_document_one_current",
            ),
            models.CheckConstraint(condition=~Q(withdrawn_at__isnull=False, withdrawn_reason=""),
                                   name="signed_document_withdrawn_has_reason"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None and self.withdrawn_at is None
