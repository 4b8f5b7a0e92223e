"""The embedded demo's backups (issue 19 item 3, R-OPS-01): three verified copies, restore, bad input."""

from __future__ import annotations

import errno
import json
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from mchis.ops import sqlite_backup
from mchis.ops.checksums import sha256_file
from mchis.ops.copies import BackupError

NOW = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)


def _backup(demo_db, targets, tmp_path, now=NOW, keep=14):
    return sqlite_backup.backup(demo_db, targets, now=now, evidence_root=tmp_path / "evidence", keep=keep)


def test_r_ops_01_backup_makes_three_verified_copies(demo_db, targets, tmp_path):
    outcome = _backup(demo_db, targets, tmp_path)
    assert outcome.good_copies == 3
    for copy, target in zip(outcome.copies, targets, strict=True):
        assert copy.ok and copy.path.startswith(str(target))
        assert sha256_file(copy.path) == copy.sha256 == outcome.sha256
        manifest = json.loads((target / f"mchis-{outcome.backup_id}.json").read_text())
        assert manifest["sha256"] == outcome.sha256
        assert manifest["tables"]["core_auditevent"][0] > 0  # the tree's creation was audited
        assert sqlite_backup.integrity_problem(target / manifest["file"]) == ""
    assert not list(targets[0].glob(".*partial"))


def test_r_ops_01_full_target_is_reported_and_the_others_still_get_their_copy(
    demo_db, targets, tmp_path, monkeypatch
):
    real = shutil.copyfile

    def full_disk(src, dst, *a, **k):
        if str(dst).startswith(str(targets[1])):
            with open(dst, "wb") as handle:
                handle.write(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst, *a, **k)

    monkeypatch.setattr(shutil, "copyfile", full_disk)
    outcome = _backup(demo_db, targets, tmp_path)
    assert [c.ok for c in outcome.copies] == [True, False, True]
    assert "đã đầy" in outcome.copies[1].error and str(targets[1]) in outcome.copies[1].error
    assert list(targets[1].iterdir()) == []  # the half-written copy is gone


def test_r_ops_01_unreachable_target_is_named_never_created(demo_db, targets, tmp_path):
    gone = tmp_path / "unmounted"
    outcome = _backup(demo_db, [targets[0], gone], tmp_path)
    assert outcome.copies[0].ok and not outcome.copies[1].ok
    assert "Không tìm thấy thư mục sao lưu" in outcome.copies[1].error
    assert not gone.exists()  # an unmounted storage is not replaced by a folder on the server's disk


def test_r_ops_01_corrupt_copy_is_detected_and_restore_uses_an_intact_one(demo_db, targets, tmp_path):
    outcome = _backup(demo_db, targets, tmp_path)
    bad = outcome.copies[0].path
    with open(bad, "r+b") as handle:
        handle.seek(5000)
        handle.write(b"\xff\xfe\xfd")
    copies = sqlite_backup.latest(targets)
    assert len(copies) == 3
    problems = [sqlite_backup.verify_copy(m) for m in copies]
    assert "bị hỏng" in problems[0] and problems[1:] == ["", ""]
    with pytest.raises(BackupError, match="bị hỏng"):
        sqlite_backup.restore_file(copies[0], tmp_path / "new.sqlite3", replace=False, now=NOW)
    assert not (tmp_path / "new.sqlite3").exists()
    sqlite_backup.restore_file(copies[1], tmp_path / "new.sqlite3", replace=False, now=NOW)
    assert sqlite_backup.sums_of(tmp_path / "new.sqlite3") == outcome.tables


def test_r_ops_01_restore_into_a_database_with_data_is_refused_unless_replace(demo_db, targets, tmp_path):
    _backup(demo_db, targets, tmp_path)
    manifest = sqlite_backup.latest(targets)[0]
    with pytest.raises(BackupError, match="đang có dữ liệu"):
        sqlite_backup.restore_file(manifest, demo_db, replace=False, now=NOW)
    with sqlite3.connect(demo_db) as conn:  # a write after the backup
        conn.execute(
            "UPDATE core_auditevent SET reason = 'after' WHERE id = (SELECT max(id) FROM core_auditevent)"
        )
    kept = sqlite_backup.restore_file(manifest, demo_db, replace=True, now=NOW)
    assert kept is not None and kept.exists()  # the replaced database is kept, not overwritten
    assert sqlite_backup.sums_of(demo_db) == manifest.data["tables"]
    with sqlite3.connect(kept) as conn:
        assert conn.execute("SELECT count(*) FROM core_auditevent WHERE reason = 'after'").fetchone()[0] == 1


def test_r_ops_01_clock_jump_is_reported_and_nothing_is_pruned(demo_db, targets, tmp_path):
    _backup(demo_db, targets, tmp_path, now=NOW, keep=1)
    earlier = NOW - timedelta(days=3)  # the clock went back three days
    outcome = _backup(demo_db, targets, tmp_path, now=earlier, keep=1)
    assert outcome.good_copies == 3
    assert "Đồng hồ hệ thống lùi" in outcome.copies[0].warnings[0]
    assert len(sqlite_backup.manifests(targets[0])) == 2  # the newer backup was not deleted as "old"


def test_r_ops_01_retention_keeps_the_newest(demo_db, targets, tmp_path):
    for day in range(3):
        _backup(demo_db, targets[:1], tmp_path, now=NOW + timedelta(days=day), keep=2)
    kept = sqlite_backup.manifests(targets[0])
    assert [m.created_at.day for m in kept] == [1, 2]  # 1 and 2 December kept, 30 November pruned
    assert len(list(targets[0].glob("*.sqlite3"))) == 2


def test_r_ops_01_evidence_files_get_three_checked_copies(demo_db, targets, tmp_path):
    import hashlib

    root = tmp_path / "evidence"
    good = b"%PDF-1.4 scan"
    digest = hashlib.sha256(good).hexdigest()
    (root / digest[:2]).mkdir(parents=True)
    (root / digest[:2] / digest).write_bytes(good)
    tampered = hashlib.sha256(b"original").hexdigest()
    (root / tampered[:2]).mkdir(parents=True, exist_ok=True)
    (root / tampered[:2] / tampered).write_bytes(b"altered")
    outcome = _backup(demo_db, targets, tmp_path)
    for copy, target in zip(outcome.copies, targets, strict=True):
        assert (target / "evidence" / digest[:2] / digest).read_bytes() == good
        assert copy.evidence["corrupt_sources"] == [tampered]
        assert not (target / "evidence" / tampered[:2] / tampered).exists()


def test_r_ops_01_backup_of_a_missing_database_is_an_error(targets, tmp_path):
    with pytest.raises(BackupError, match="Không tìm thấy cơ sở dữ liệu"):
        sqlite_backup.backup(tmp_path / "nope.sqlite3", targets, now=NOW, evidence_root=tmp_path, keep=3)
