"""Data the integrations own: our signing keys (R-INT-05) and the e-MCH handbook consents (R-INT-02)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from mchis.core.scoping import ScopedQuerySet


class SigningKey(models.Model):
    """An Ed25519 key that signs our outbound requests (and the handbook feed). The newest active key signs;
    every key not yet retired is published in our JWKS, so a rotation never breaks a receiver that has not
    fetched the new key yet (it still verifies with the old one until `retires_at`)."""

    kid = models.CharField(max_length=40, primary_key=True)
    private_jwk = models.JSONField(help_text="OKP/Ed25519 JWK with its private part 'd'")
    public_jwk = models.JSONField()
    created_at = models.DateTimeField()
    retires_at = models.DateTimeField(null=True, blank=True, help_text="Past this, receivers refuse it")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.kid


class HandbookConsent(models.Model):
    """A person's consent to share their timeline with the e-MCH handbook app (Sổ theo dõi SKBMTE điện tử).
    One open consent per person; withdrawing closes it and the person leaves the feed."""

    SCOPE_PATH = "unit__path"

    personal_id = models.CharField(max_length=12, db_index=True)
    unit = models.ForeignKey("units.ReportingUnit", on_delete=models.PROTECT, related_name="+")
    given_at = models.DateTimeField()
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawal_reason = models.CharField(max_length=300, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-given_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["personal_id"], condition=Q(withdrawn_at__isnull=True), name="consent_one_open"
            ),
            models.CheckConstraint(condition=Q(personal_id__regex=r"^[0-9]{12}$"), name="consent_pid_12"),
        ]

    def __str__(self) -> str:
        return f"{self.personal_id} ({'rút' if self.withdrawn_at else 'đồng ý'})"
