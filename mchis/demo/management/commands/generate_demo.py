"""`python manage.py generate_demo --province CODE --children N --seed S [--error-rate R] [--truth FILE]
[--population FILE] [--accounts] [--registers MONTHS]` — synthetic children of one 2025 province (dữ liệu mô phỏng).

`--province all`: the nation (issue 20) — N children shared among the 34 provinces by number of communes, each
province in its own transaction, registers (if asked) at national rates (~1.4 M births and ~20 M register
events a year per 25 M children); prints each province's time and, on PostgreSQL, the database size."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from mchis.core.errors import DomainError
from mchis.demo.models import DemoRun
from mchis.demo.publication import demo_publish
from mchis.demo.registers import NATIONAL_BIRTHS_PER_CHILD_MONTH, RegistersReport, demo_registers_generate
from mchis.demo.services import demo_accounts_ensure, demo_generate, national_plan
from mchis.units.models import ReportingUnit


def _as_of(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--as-of: '{value}' không phải ngày YYYY-MM-DD.") from exc


class Command(BaseCommand):
    help = (
        "Sinh dữ liệu trẻ em mô phỏng cho một tỉnh (mã 2025): cây đơn vị báo cáo, thôn/tổ dân phố, trẻ em, "
        "lỗi có gán nhãn (--error-rate, --truth) và tài khoản mẫu (--accounts). Cùng --seed → cùng dữ liệu."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--province", required=True, help="Mã tỉnh 2025 (vd. 08 = Tuyên Quang), hoặc 'all' = cả nước."
        )
        parser.add_argument("--children", type=int, required=True, help="Số trẻ em cần sinh.")
        parser.add_argument("--seed", type=int, required=True, help="Hạt giống ngẫu nhiên (tất định).")
        parser.add_argument(
            "--error-rate", type=float, default=0.0, help="Tỉ lệ bản ghi có lỗi gán nhãn (0..1)."
        )
        parser.add_argument(
            "--truth", type=Path, help="Tệp CSV ghi các lỗi đã chèn (kind,record_ids,detail)."
        )
        parser.add_argument(
            "--population", type=Path, help="Tệp JSON lines: danh tính thật của trẻ có số định danh."
        )
        parser.add_argument(
            "--profile", default="a", choices=["a", "b"],
            help="Bộ tỉ lệ lỗi và thói quen đặt tên (a = mặc định, b = tham số khác, để đánh giá độc lập).",
        )  # fmt: skip
        parser.add_argument("--accounts", action="store_true", help="Tạo một tài khoản mẫu cho mỗi vai trò.")
        parser.add_argument(
            "--resume", action="store_true",
            help="Với --province all: bỏ qua các tỉnh đã sinh với cùng --seed (chạy tiếp một lần bị dừng).",
        )  # fmt: skip
        parser.add_argument(
            "--as-of", type=_as_of, default=None, help="Ngày tham chiếu tính tuổi (mặc định hôm nay)."
        )
        parser.add_argument(
            "--registers", type=int, default=0, metavar="MONTHS",
            help="Sinh sổ SKBMTE/SKSS mô phỏng cho MONTHS tháng trọn vẹn trước --as-of (0 = không).",
        )  # fmt: skip

        parser.add_argument(
            "--publish",
            type=int,
            default=0,
            metavar="MONTHS",
            help="Duyệt báo cáo xã của 2 TTYT đầu tiên cho MONTHS tháng cuối của --registers và công bố lên "
            "cổng thống kê công khai (/public/).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["registers"] < 0:
            raise CommandError("--registers phải là số tháng không âm. Không ghi gì vào cơ sở dữ liệu.")
        if options["province"] == "all":
            self._national(options)
            return
        started = time.perf_counter()
        try:
            report = demo_generate(
                province_code=options["province"],
                children=options["children"],
                seed=options["seed"],
                error_rate=options["error_rate"],
                truth_path=options["truth"],
                population_path=options["population"],
                as_of=options["as_of"],
                profile=options["profile"],
                progress=self._progress if options["verbosity"] > 1 else None,
            )
            accounts = demo_accounts_ensure(province_code=options["province"]) if options["accounts"] else []
            registers: RegistersReport | None = None
            populations: list[str] = []
            if options["registers"]:
                registers = demo_registers_generate(
                    province_code=options["province"],
                    doh=ReportingUnit.objects.get(code=f"SYT{options['province']}"),
                    months=options["registers"],
                    seed=options["seed"],
                    as_of=options["as_of"] or timezone.localdate(),
                )
                populations = _demo_populations(registers.months, options["seed"])
            published = None
            if options["publish"]:
                if options["publish"] > options["registers"]:
                    raise CommandError(
                        "--publish phải không lớn hơn --registers (cần sổ sách để lập báo cáo)."
                    )
                published = demo_publish(
                    province_code=options["province"], months=options["publish"],
                    as_of=options["as_of"] or timezone.localdate(),
                )  # fmt: skip
        except DomainError as exc:
            raise CommandError(f"{exc.message} Không ghi gì vào cơ sở dữ liệu.") from exc
        seconds = time.perf_counter() - started
        out = self.stdout
        out.write(
            f"Tỉnh {options['province']} (lần sinh #{report.run.run_no}): đơn vị mới {report.units_created}, "
            f"thôn/tổ dân phố mới {report.villages_created}"
        )
        out.write(
            f"Trẻ em: {report.children} (không có số định danh: {report.without_id}), "
            f"nhóm hoàn cảnh: {report.memberships}, trợ giúp: {report.supports}"
        )
        if report.errors:
            out.write("Lỗi đã chèn: " + ", ".join(f"{k}={v}" for k, v in sorted(report.errors.items())))
        for label, path in (("ground truth", options["truth"]), ("dân cư mô phỏng", options["population"])):
            if path:
                out.write(f"Đã ghi {label}: {path}")
        if accounts:
            out.write(
                "Tài khoản mẫu (mật khẩu dùng một lần, phải đổi khi đăng nhập lần đầu; mã đăng ký xác thực hai lớp "
                "dùng một lần):"
            )
            out.write(
                f"  {'tên đăng nhập':<28} {'mật khẩu':<16} {'mã đăng ký 2FA':<18} {'vai trò':<13} đơn vị"
            )
            for line in accounts:
                if line.password is None:
                    out.write(
                        f"  {line.username:<28} {'(đã có)':<16} {'':<18} {line.role:<13} {line.unit_code}"
                    )
                else:
                    out.write(f"  {line.username:<28} {line.password:<16} {line.enrolment_code:<18} {line.role:<13} {line.unit_code} {line.unit_name}")  # fmt: skip
        if registers is not None:
            first, last = registers.months[0], registers.months[-1]
            out.write(
                f"Sổ SKBMTE/SKSS {first:%m/%Y}–{last:%m/%Y}: "
                + ", ".join(f"{k}={registers.created[k]} mới/{registers.unchanged[k]} không đổi" for k in sorted(registers.created | registers.unchanged))
                + f", trẻ sơ sinh={registers.newborns}"
            )  # fmt: skip
        if registers is not None and populations:
            out.write(f"Dân số mô phỏng (mẫu số chỉ số, không phải số thật): năm {', '.join(populations)}")
        if published is not None:
            out.write(
                f"Cổng thống kê công khai: {published.approved} báo cáo xã được duyệt, {published.figures} số liệu "
                f"công bố (/public/)" + (f"; bỏ qua {len(published.skipped)}: {published.skipped[:3]}" if published.skipped else "")
            )  # fmt: skip
        rate = report.children / seconds if seconds else 0.0
        out.write(self.style.SUCCESS(f"Xong trong {seconds:.1f} giây ({rate:,.0f} trẻ/giây)."))

    def _national(self, options: dict[str, Any]) -> None:
        """Every province in turn (one transaction each: an interrupted run keeps the provinces done)."""
        if options["truth"] or options["population"] or options["accounts"]:
            raise CommandError("--province all không dùng với --truth, --population, --accounts.")
        try:
            plan = national_plan(options["children"])
        except DomainError as exc:
            raise CommandError(f"{exc.message} Không ghi gì vào cơ sở dữ liệu.") from exc
        as_of = options["as_of"] or timezone.localdate()
        started = time.perf_counter()
        total = records = 0
        done = (
            set(DemoRun.objects.filter(seed=options["seed"]).values_list("province_code", flat=True))
            if options["resume"]
            else set()
        )
        for code, children in plan:
            if code in done:
                self.stdout.write(f"Tỉnh {code}: đã sinh (--resume), bỏ qua")
                continue
            t0 = time.perf_counter()
            report = demo_generate(
                province_code=code, children=children, seed=options["seed"], error_rate=options["error_rate"],
                as_of=as_of, profile=options["profile"],
            )  # fmt: skip
            t1 = time.perf_counter()
            line = f"Tỉnh {code}: {report.children} trẻ trong {t1 - t0:.1f} giây"
            if options["registers"]:
                registers = demo_registers_generate(
                    province_code=code, doh=ReportingUnit.objects.get(code=f"SYT{code}"),
                    months=options["registers"], seed=options["seed"], as_of=as_of,
                    births_per_child_month=NATIONAL_BIRTHS_PER_CHILD_MONTH,
                )  # fmt: skip
                written = sum(registers.created.values()) + registers.newborns
                records += written
                line += f"; sổ: {written} bản ghi trong {time.perf_counter() - t1:.1f} giây"
            total += report.children
            self.stdout.write(line + f" (tổng {total} trẻ, {time.perf_counter() - started:.0f} giây)")
        seconds = time.perf_counter() - started
        size = ""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_database_size(current_database())")
                size = f", CSDL {cursor.fetchone()[0] / 1e9:.2f} GB"
        self.stdout.write(
            self.style.SUCCESS(
                f"Cả nước: {total} trẻ, {records} bản ghi sổ, {len(plan)} tỉnh trong {seconds:.1f} giây{size}."
            )
        )

    def _progress(self, done: int) -> None:
        self.stdout.write(f"  … {done} trẻ")


def _demo_populations(months: list[Any], seed: int) -> list[str]:
    """Synthetic populations (analytics denominators, e.g. CX_COV) of every commune that has a station, for each
    year of the generated registers: loaded as a new version by the same service as `load_population`, its
    source saying the figures are synthetic (fixed per commune, so another province's run keeps these)."""
    from mchis.analytics.population import DEMO_SOURCE, demo_csv
    from mchis.analytics.services import population_load

    codes = list(
        ReportingUnit.objects.filter(kind="tyt", admin_unit__level="commune", admin_unit__version="2025")
        .values_list("admin_unit__code", flat=True)
        .distinct()
    )
    years = sorted({m.year for m in months})
    if not codes:
        return []
    for year in years:
        population_load(
            actor=None, text=demo_csv(codes, seed), year=year, source=DEMO_SOURCE, file_name="demo"
        )
    return [str(y) for y in years]
