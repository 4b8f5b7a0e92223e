"""Speed of the ten most used pages (issue 13 item 12): server time and HTML size, with the demo data.

    DEMO_CHILDREN=1500 scripts/demo            # once: the demo database in var/ (any size; stop the server after)
    nice -n 10 python bench/pages.py [--samples 15] [--db var/db.sqlite3]

Each page is requested in-process through Django's test client as the role that uses it (the full middleware
stack, templates, queries: what the server spends; no network). Prints p50/p95 milliseconds, the HTML size in
KB and the number of SQL queries; a page over 300 ms (p95) or 100 KB is marked MISS. Exit status 1 on any MISS.
Targets: server time < 300 ms, HTML < 100 KB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TIME_MS, SIZE_KB = 300.0, 100.0


def setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("DEBUG", "0")
    os.environ["ROLES_REQUIRING_2FA"] = ""
    import django

    django.setup()


def user(role: str, kind: str | None = None) -> Any:
    from django.contrib.auth import get_user_model

    qs = get_user_model().objects.filter(role=role, is_active=True).select_related("unit")
    if kind:
        qs = qs.filter(unit__kind=kind)
    found = qs.order_by("id").first()
    if found is None:
        raise SystemExit(f"no demo user with role {role} ({kind}); run scripts/demo first")
    if found.must_change_password:  # demo accounts start with a one-time password; the bench skips that step
        found.must_change_password = False
        found.save(update_fields=["must_change_password"])
    return found


def pages() -> list[tuple[str, Any, str]]:
    """(label, user, url): the pages each role opens most in a working day."""
    from mchis.quality.models import AuditCampaign
    from mchis.registry.models import ChangeRequest, Child
    from mchis.reports.views import _default_period

    collector, leader = user("collector", "tyt"), user("leader", "tyt")
    reporter, district = user("reporter", "tyt"), user("leader", "ttyt")
    auditor = user("auditor")
    child = Child.objects.filter(unit=collector.unit, status="active").order_by("id").first()
    request = ChangeRequest.objects.filter(unit=leader.unit).order_by("-proposed_at").first()
    period = _default_period()
    out: list[tuple[str, Any, str]] = [
        ("home (collector)", collector, "/"),
        ("child list (collector)", collector, "/children/"),
        ("child search (collector)", collector, "/children/?q=nguyen"),
        ("new child form (collector)", collector, "/children/new/"),
        ("child detail (collector)", collector, f"/children/{child.public_id}/" if child else ""),
        ("request queue (leader)", leader, "/children/requests/"),
        ("request detail (leader)", leader, f"/children/requests/{request.public_id}/" if request else ""),
        ("report list (reporter)", reporter, f"/reports/?period={period.code}"),
        ("report (reporter)", reporter, f"/reports/BCX3/{reporter.unit.code}/{period.code}/"),
        ("report list (district)", district, f"/reports/?period={period.code}"),
        ("quality dashboard (leader)", leader, "/quality/"),
        ("duplicates (leader)", leader, "/quality/duplicates/"),
        ("audits (auditor)", auditor, "/quality/audits/"),
        ("notifications (collector)", collector, "/notifications/"),
    ]
    campaign = AuditCampaign.objects.order_by("-id").first()
    if campaign is not None:
        out.append(("audit campaign (auditor)", auditor, f"/quality/audits/{campaign.pk}/"))
    return [p for p in out if p[2]]


def measure(samples: int) -> bool:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    ok = True
    print(f"{'page':32} {'p50 ms':>8} {'p95 ms':>8} {'KB':>7} {'SQL':>5}  status")
    for label, who, url in pages():
        client = Client()
        client.force_login(who)
        client.get(url)  # warm: templates, caches
        times = []
        for _ in range(samples):
            reset_queries()
            t0 = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
        size = len(response.content) / 1024
        p95 = statistics.quantiles(times, n=20)[18] if len(times) >= 2 else times[0]
        miss = response.status_code != 200 or p95 > TIME_MS or size > SIZE_KB
        ok &= not miss
        status = f"{response.status_code} " + ("MISS" if miss else "ok")
        print(
            f"{label:32} {statistics.median(times):8.1f} {p95:8.1f} {size:7.1f} {len(queries):5d}  {status}  {url}"
        )
    return ok


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=15)
    ap.add_argument("--db", default="", help="SQLite file of the demo (default: the demo's own settings)")
    args = ap.parse_args()
    if args.db:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(args.db).resolve()}"
    setup()
    sys.exit(0 if measure(args.samples) else 1)


if __name__ == "__main__":
    main()
