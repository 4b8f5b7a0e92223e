"""python manage.py dq_scan [--unit CODE] [--restart] — full rule scan (quét tự động, Điều 16.1)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from mchis.core.scoping import visible_under
from mchis.quality.engine import scan_run
from mchis.quality.models import Finding, FindingStatus, RuleError
from mchis.quality.rules import RULE_CRITERION, RULE_LABEL, Criterion
from mchis.units.models import ReportingUnit


class Command(BaseCommand):
    help = (
        "Run every data-quality rule on the children of a unit (or all); print counts by rule and criterion."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--unit", help="Reporting unit code (its whole subtree is scanned)")
        parser.add_argument(
            "--restart", action="store_true", help="Discard an interrupted scan instead of resuming"
        )
        parser.add_argument("--chunk", type=int, default=5000)

    def handle(self, *args: Any, **opts: Any) -> None:

        unit = None
        if opts["unit"]:
            unit = ReportingUnit.objects.filter(code=opts["unit"]).first()
            if unit is None:
                raise CommandError(f"Không có đơn vị mã {opts['unit']}")
        started = time.perf_counter()
        scan = scan_run(unit=unit, restart=opts["restart"], chunk=opts["chunk"])
        elapsed = time.perf_counter() - started
        qs = Finding.objects.filter(status=FindingStatus.OPEN)
        if unit is not None:
            qs = visible_under(qs, unit, lookup="unit__path")
        by_rule = dict(qs.values_list("rule_code").annotate(n=Count("id")).values_list("rule_code", "n"))
        out = self.stdout
        out.write(
            f"scan #{scan.pk}: {scan.records} records in {elapsed:.1f}s; changes {scan.counts.get('store', {})}"
        )
        out.write("open findings by rule:")
        for code in sorted(by_rule):
            out.write(f"  {code:<16} {by_rule[code]:>9}  {RULE_LABEL.get(code, '')}")
        out.write("open findings by criterion:")
        for crit in Criterion.ALL:
            n = sum(v for k, v in by_rule.items() if RULE_CRITERION.get(k) == crit)
            out.write(f"  {Criterion.LABELS[crit]:<12} {n:>9}")
        errors = RuleError.objects.filter(scan=scan).count()
        out.write(f"rule errors: {errors}")
