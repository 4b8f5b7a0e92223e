"""PostgreSQL backups through pgBackRest: full/differential backups to each configured repository, WAL
archiving (archive_command = pgbackrest archive-push, to every repository) for point-in-time recovery,
`check`/`verify`, and the restore drill into a scratch instance. Configuration: deploy/pgbackrest/.

The drill's source figures are exact: it takes a restore point while every table is SHARE-locked (no write can
commit in between) and computes the source checksums in a snapshot exported at that instant; the scratch copy
is recovered to that restore point, so both sides describe the same committed state.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from .checksums import compare, table_checksums
from .copies import BackupError
from .drill import check_line, comparison_lines, consistency_checks, write_report
from .engine import Report
from .models import OpsRun, RunKind
from .services import ops_run_record

COMMAND_TIMEOUT = 6 * 3600


def _as_server_user(argv: list[str]) -> list[str]:
    """PostgreSQL and pgBackRest run as the database's system user (PG_RUN_AS) when we are root."""
    user = os.environ.get("PG_RUN_AS", "")
    if user and os.geteuid() == 0:
        return ["runuser", "-u", user, "--", *argv]
    return argv


def pgbackrest(*args: str, timeout: int = COMMAND_TIMEOUT) -> str:
    argv = _as_server_user(
        [
            "pgbackrest",
            f"--config={settings.PGBACKREST_CONFIG}",
            f"--stanza={settings.PGBACKREST_STANZA}",
            *args,
        ]
    )
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
    except FileNotFoundError as exc:
        raise BackupError("Không tìm thấy chương trình pgbackrest (cài gói pgbackrest).") from exc
    except subprocess.TimeoutExpired as exc:
        raise BackupError(f"pgbackrest {args[-1]} quá thời gian {timeout} giây.") from exc
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise BackupError(
            f"pgbackrest {' '.join(args)} thất bại (mã {proc.returncode}): {' | '.join(detail[-3:])}"
        )
    return proc.stdout


def scheduled_type(today: date | None = None) -> str:
    """Full on Sunday, differential on the other days (R-OPS-01: daily at a fixed time, CELERY_BEAT_SCHEDULE)."""
    day = today or timezone.localdate()
    return "full" if day.weekday() == 6 else "diff"


def repo_config() -> dict[int, dict[str, str]]:
    """repoN-* options of the configuration file (to name where each copy went)."""
    repos: dict[int, dict[str, str]] = {}
    try:
        text = Path(settings.PGBACKREST_CONFIG).read_text(encoding="utf-8")
    except OSError:
        return repos
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key.startswith("repo") and "-" in key:
            head, _, option = key.partition("-")
            if head[4:].isdigit():
                repos.setdefault(int(head[4:]), {})[option] = value.strip()
    return repos


def info(repo: int) -> dict[str, Any]:
    data = json.loads(pgbackrest(f"--repo={repo}", "--output=json", "info", timeout=600))
    return data[0] if data else {}


def _manifest_sha256(repo: int, label: str) -> str:
    """SHA-256 of the backup's manifest as stored (it lists every file's checksum, so it stands for the whole
    backup). Posix repositories only; an object store is checked by `pgbackrest verify` instead."""
    options = repo_config().get(repo, {})
    if options.get("type", "posix") != "posix" or "path" not in options:
        return ""
    path = Path(options["path"]) / "backup" / settings.PGBACKREST_STANZA / label / "backup.manifest"
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def backup(kind: str) -> Report:
    if kind not in ("full", "diff"):
        raise ValueError(kind)
    started = timezone.now()
    copies, lines = [], []
    for repo in settings.PGBACKREST_REPOS:
        where = repo_config().get(repo, {})
        target = (
            f"repo{repo} ({where.get('type', 'posix')}: {where.get('path', where.get('s3-bucket', '?'))})"
        )
        t0 = time.monotonic()
        try:
            pgbackrest(f"--repo={repo}", f"--type={kind}", "backup")
            latest = info(repo).get("backup", [])[-1]
            label = latest["label"]
            digest = _manifest_sha256(repo, label)
            size = int(latest.get("info", {}).get("repository", {}).get("delta", 0))
            copies.append(
                {
                    "target": target,
                    "ok": True,
                    "path": label,
                    "sha256": digest,
                    "bytes": size,
                    "seconds": round(time.monotonic() - t0, 1),
                    "type": latest.get("type", kind),
                }
            )
            lines.append(
                f"  OK   {target}: {label} ({latest.get('type', kind)}, {size:,} byte) sha256={digest or '-'}"
            )
        except (BackupError, IndexError, KeyError, ValueError) as exc:
            copies.append({"target": target, "ok": False, "error": str(exc)})
            lines.append(f"  LỖI  {target}: {exc}")
    good = sum(1 for c in copies if c["ok"])
    ok = good >= settings.BACKUP_MIN_COPIES and good == len(copies)
    error = "" if ok else f"Chỉ có {good}/{len(copies)} kho sao lưu nhận được bản sao."
    ops_run_record(
        kind=RunKind.PG_FULL if kind == "full" else RunKind.PG_DIFF,
        started_at=started,
        ok=ok,
        copies=copies,
        error=error,
    )
    return Report(
        ok,
        [f"pgBackRest {kind}, stanza {settings.PGBACKREST_STANZA}:", *lines]
        + ([f"LỖI: {error}"] if error else []),
    )


def verify() -> Report:
    """`pgbackrest check` (archiving works, to every repository) + `pgbackrest verify` per repository."""
    started = timezone.now()
    results: list[dict[str, Any]] = []
    for label, args in [("check", ("check",))] + [
        (f"verify repo{r}", (f"--repo={r}", "verify")) for r in settings.PGBACKREST_REPOS
    ]:
        try:
            pgbackrest(*args)
            results.append({"step": label, "ok": True})
        except BackupError as exc:
            results.append({"step": label, "ok": False, "error": str(exc)})
    ok = all(r["ok"] for r in results)
    ops_run_record(
        kind=RunKind.VERIFY,
        started_at=started,
        ok=ok,
        detail={"steps": results},
        error="; ".join(r.get("error", "") for r in results if not r["ok"]),
    )
    return Report(
        ok,
        [
            f"  {'OK ' if r['ok'] else 'LỖI'}  {r['step']}" + (f": {r['error']}" if not r["ok"] else "")
            for r in results
        ],
    )


# ------------------------------------------------------------------------------------------------ the drill
def _source_snapshot(point: str) -> dict[str, list[Any]]:
    """Create restore point `point` with no write able to commit around it, and the checksums of that state."""
    sd = connection.settings_dict
    params = {
        "dbname": sd["NAME"],
        "user": sd.get("USER") or None,
        "password": sd.get("PASSWORD") or None,
        "host": sd.get("HOST") or None,
        "port": sd.get("PORT") or None,
    }
    with (
        connection.cursor() as cursor
    ):  # listed first: the locked transaction's first query fixes its snapshot
        names = connection.introspection.table_names(cursor)
    tables = ", ".join('"' + t.replace('"', '""') + '"' for t in names)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SET LOCAL lock_timeout = '30s'")
        cursor.execute(f"LOCK TABLE {tables} IN SHARE MODE")  # before any query: the snapshot comes after it
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot_id = cursor.fetchone()[0]
        cursor.execute("SELECT pg_create_restore_point(%s)", [point])
        reader = psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True)
        reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        reader.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot_id)))
    try:  # the writers go on; the reader still sees the restore point's state
        with reader.cursor() as rc:
            return table_checksums(rc, "postgresql")
    finally:
        reader.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prepare_conf(data: Path, work: Path) -> None:
    """The scratch instance's own access rules: only its socket, in a directory (mode 0700) that only the drill's
    user can enter, so `trust` there opens the copy to nobody else. A Debian-layout backup also has no
    postgresql.conf in its data directory: a minimal one."""
    conf = data / "postgresql.conf"
    if not conf.exists():
        conf.write_text(
            "listen_addresses = ''\nmax_connections = 20\nshared_buffers = 32MB\n", encoding="utf-8"
        )
    (work / "hba.conf").write_text("local all all trust\n", encoding="utf-8")
    (work / "ident.conf").write_text("", encoding="utf-8")


def _chown(path: Path) -> None:
    user = os.environ.get("PG_RUN_AS", "")
    if user and os.geteuid() == 0:
        for root, dirs, files in os.walk(path):
            for name in [
                root,
                *(os.path.join(root, d) for d in dirs),
                *(os.path.join(root, f) for f in files),
            ]:
                shutil.chown(name, user, user)


def _run(argv: list[str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_as_server_user(argv), capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603


def _next_repo() -> int:
    """Drills take the repositories in turn, so each is proven restorable."""
    repos = list(settings.PGBACKREST_REPOS)
    done = OpsRun.objects.filter(kind=RunKind.DRILL).count()
    return repos[done % len(repos)]


def drill(repo: int = 0) -> Report:
    started = timezone.now()
    repo = repo or _next_repo()
    point = f"mchis-drill-{started:%Y%m%dT%H%M%S}"
    dbname = connection.settings_dict["NAME"]
    lines = [f"Diễn tập khôi phục: kho repo{repo}, điểm khôi phục {point}, CSDL {dbname}"]
    report: dict[str, Any] = {
        "kind": "postgresql",
        "repo": repo,
        "restore_point": point,
        "started_at": started.isoformat(),
    }
    ok = False
    work = Path(tempfile.mkdtemp(prefix="mchis-drill-"))
    data, port = work / "data", _free_port()
    bin_dir = Path(settings.PG_BIN_DIR)
    try:
        t0 = time.monotonic()
        expected = _source_snapshot(point)
        pgbackrest("check", timeout=600)  # switches WAL and waits until the restore point is archived
        _chown(work)  # mkdtemp's 0700, owned by the server user
        pgbackrest(
            f"--repo={repo}",
            f"--pg1-path={data}",
            "--type=name",
            f"--target={point}",
            "--target-action=promote",
            "--archive-mode=off",
            "restore",
        )
        report["restore_seconds"] = round(time.monotonic() - t0, 1)
        _prepare_conf(data, work)
        _chown(work)
        start = _run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-w",
                "-t",
                "300",
                "-l",
                str(work / "pg.log"),
                "-o",
                f"-p {port} -k {work} -c listen_addresses='' -c archive_mode=off "
                f"-c hba_file={work / 'hba.conf'} -c ident_file={work / 'ident.conf'}",
                "start",
            ]
        )
        if start.returncode != 0:
            log = (work / "pg.log").read_text(errors="replace")[-1500:] if (work / "pg.log").exists() else ""
            raise BackupError(f"Không khởi động được PostgreSQL tạm: {start.stderr.strip()} {log}")
        user = connection.settings_dict.get("USER") or "postgres"
        conninfo = {"host": str(work), "port": port, "dbname": dbname, "user": user}
        deadline = time.monotonic() + 300
        while True:
            try:
                with psycopg.connect(**conninfo, connect_timeout=5) as conn:
                    row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
                    if row is not None and not row[0]:
                        break
            except psycopg.OperationalError:
                pass
            if time.monotonic() > deadline:
                raise BackupError("PostgreSQL tạm chưa kết thúc phục hồi sau 300 giây.")
            time.sleep(0.5)
        report["recovered_seconds"] = round(time.monotonic() - t0, 1)
        with psycopg.connect(**conninfo) as conn, conn.cursor() as cur:
            actual = table_checksums(cur, "postgresql")
        table_lines = compare(expected, actual)
        url = f"postgres://{quote(user)}@{quote(str(work), safe='')}:{port}/{quote(dbname)}"
        checks = consistency_checks(url)
        report.update(tables=table_lines, checks=checks)
        lines.extend(comparison_lines(table_lines))
        for name, check in checks.items():
            lines.append(check_line(name, check))
        ok = all(t["match"] for t in table_lines) and all(c["ok"] for c in checks.values())
    except (BackupError, OSError, psycopg.Error, subprocess.TimeoutExpired) as exc:
        report["error"] = str(exc)
        lines.append(f"LỖI: {exc}")
    finally:
        if (data / "postmaster.pid").exists():
            _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], timeout=120)
        shutil.rmtree(work, ignore_errors=True)
    report["ok"] = ok
    report["seconds"] = round((timezone.now() - started).total_seconds(), 1)
    path = write_report(report)
    lines.append(
        f"{'ĐẠT' if ok else 'KHÔNG ĐẠT'}: biên bản diễn tập đã ký tại {path} ({report['seconds']} giây)"
    )
    ops_run_record(
        kind=RunKind.DRILL,
        started_at=started,
        ok=ok,
        detail={"report": str(path), "repo": repo, "point": point},
        error="" if ok else report.get("error", "Diễn tập không đạt: xem biên bản."),
    )
    return Report(ok, lines, {"report": path})
