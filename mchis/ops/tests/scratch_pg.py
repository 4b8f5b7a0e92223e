"""A PostgreSQL instance owned by a test: its own data directory, port and socket, archiving its WAL to three
pgBackRest repositories (three directories standing for three storages). The machine's shared cluster is never
touched. Everything PostgreSQL-side runs as the `postgres` system user when the tests run as root (CI)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import psycopg

PG_BIN = Path(os.environ.get("PG_BIN_DIR", "/usr/lib/postgresql/15/bin"))
RUN_AS = "postgres"
STANZA = "mchis"
CIPHER_PASS = "test-only-not-a-secret-0123456789abcdef"


def available() -> bool:
    return (PG_BIN / "initdb").exists() and shutil.which("pgbackrest") is not None


def _as_pg(argv: list[str]) -> list[str]:
    return ["runuser", "-u", RUN_AS, "--", *argv] if os.geteuid() == 0 else argv


def run(argv: list[str], timeout: int = 300) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(_as_pg(argv), capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} -> {proc.returncode}: {proc.stdout}\n{proc.stderr}")
    return proc


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ScratchCluster:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="mchis-pg-"))
        os.chmod(self.root, 0o755)  # noqa: S103 - the postgres user works inside it
        self.data = self.root / "data"
        self.port = _free_port()
        self.config = self.root / "pgbackrest.conf"
        self.repos = [self.root / f"repo{n}" for n in (1, 2, 3)]
        for path in [*self.repos, self.root / "log", self.root / "spool", self.root / "lock"]:
            path.mkdir()
        repo_lines = "".join(
            f"repo{n}-path={path}\nrepo{n}-retention-full=2\nrepo{n}-cipher-type=aes-256-cbc\n"
            f"repo{n}-cipher-pass={CIPHER_PASS}-{n}\n"
            for n, path in enumerate(self.repos, start=1)
        )
        self.config.write_text(
            "[global]\n" + repo_lines + f"log-path={self.root / 'log'}\nlock-path={self.root / 'lock'}\n"
            f"spool-path={self.root / 'spool'}\nstart-fast=y\ncompress-type=lz4\nlog-level-console=warn\n"
            f"archive-timeout=60\n\n[{STANZA}]\npg1-path={self.data}\npg1-port={self.port}\n"
            f"pg1-socket-path={self.root}\n",
            encoding="utf-8",
        )
        if os.geteuid() == 0:
            shutil.chown(self.root, RUN_AS, RUN_AS)
            for path in self.root.iterdir():
                shutil.chown(path, RUN_AS, RUN_AS)

    # -------------------------------------------------------------------------------------------- lifecycle
    def init(self) -> None:
        run(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = ''\nunix_socket_directories = '{self.root}'\n"
                "wal_level = replica\narchive_mode = on\n"
                f"archive_command = 'pgbackrest --config={self.config} --stanza={STANZA} archive-push %p'\n"
                "max_wal_senders = 3\nfsync = off\nsynchronous_commit = off\nfull_page_writes = on\n"
                "shared_buffers = 32MB\nmax_connections = 30\ntimezone = 'UTC'\n"
            )

    def start(self) -> None:
        run(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.root / "pg.log"),
                "-w",
                "-t",
                "120",
                "start",
            ]
        )

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def wait_promoted(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with self.connect("postgres") as conn:
                    row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
                    if row is not None and not row[0]:
                        return
            except psycopg.OperationalError:
                pass
            time.sleep(0.3)
        raise RuntimeError(
            "recovery did not finish: " + (self.root / "pg.log").read_text(errors="replace")[-2000:]
        )

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    # -------------------------------------------------------------------------------------------- access
    def connect(self, dbname: str) -> psycopg.Connection:
        return psycopg.connect(
            host=str(self.root), port=self.port, dbname=dbname, user="postgres", autocommit=True
        )

    def url(self, dbname: str) -> str:
        return f"postgres://postgres@{quote(str(self.root), safe='')}:{self.port}/{dbname}"

    def pgbackrest(self, *args: str) -> str:
        return run(["pgbackrest", f"--config={self.config}", f"--stanza={STANZA}", *args], timeout=600).stdout

    def env(self, dbname: str) -> dict[str, str]:
        """What the product's commands need to run against this instance and its repositories."""
        return {
            "DATABASE_URL": self.url(dbname),
            "PGBACKREST_CONFIG": str(self.config),
            "PGBACKREST_STANZA": STANZA,
            "PG_RUN_AS": RUN_AS,
            "PG_BIN_DIR": str(PG_BIN),
        }
