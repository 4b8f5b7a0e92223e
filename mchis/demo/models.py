"""Bookkeeping of demo-data runs (dữ liệu mô phỏng). The generated rows live in their own apps."""

from __future__ import annotations

from django.db import models


class DemoRun(models.Model):
    """One `generate_demo` run. `run_no` counts runs per province and keeps source refs and IDs apart."""

    province_code = models.CharField(max_length=8)
    seed = models.BigIntegerField()
    run_no = models.PositiveIntegerField()
    children = models.PositiveIntegerField()
    error_rate = models.FloatField(default=0)
    as_of = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["province_code", "run_no"], name="demorun_unique_run_per_province"
            )
        ]

    def __str__(self) -> str:
        return f"{self.province_code} #{self.run_no} (seed {self.seed})"
