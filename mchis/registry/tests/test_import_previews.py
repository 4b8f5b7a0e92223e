"""No orphans (issue 10 item 10): import previews keep their file only for the person and unit that
previewed it, a refused preview keeps nothing, expired previews and unreferenced evidence are swept."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.test import Client

from mchis.registry import police, previews, tabular
from mchis.registry.models import ChangeRequest
from mchis.registry.personal_id import compose


@pytest.fixture(autouse=True)
def preview_root(settings, tmp_path):
    settings.IMPORT_PREVIEW_ROOT = tmp_path / "previews"
    settings.EVIDENCE_ROOT = tmp_path / "evidence"
    return settings.IMPORT_PREVIEW_ROOT


def files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def login(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def police_file(make_child):
    child = make_child(full_name="Lò Thị Hoa", sex="F", personal_id="", mother_name="Lò Thị Mai")
    rows = [{"ma_ho_so": str(child.public_id)}]
    rows[0]["so_dinh_danh_xac_minh"] = compose(prefix="008", birth_year=2018, sex="F", serial=77)
    return child, tabular.write_xlsx(police.COLUMNS, rows, title="x")


def test_r_sec_01_confirm_accepts_only_the_same_persons_preview(
    collector, make_user, unit, police_file, preview_root
):
    child, content = police_file
    # given the collector previewed the police file
    page = login(collector).post("/children/police/import/", {"file": io_file(content)})
    assert page.status_code == 200
    (kept,) = files(preview_root)
    sha = kept.name
    # when a colleague of the same unit confirms by that checksum
    colleague = make_user("collector", unit)
    answer = login(colleague).post("/children/police/import/", {"confirm": "1", "sha": sha, "name": "x.xlsx"})
    # then it is not found, nothing is imported, and the preview is still the collector's
    assert answer.status_code == 404
    assert not ChangeRequest.objects.filter(source="police").exists()
    # and the collector's own confirmation from the survey page (another kind) is not accepted either
    other_kind = login(collector).post("/children/import/", {"confirm": "1", "sha": sha, "source": "x"})
    assert other_kind.status_code == 404
    # the collector itself confirms; the preview file is then gone
    login(collector).post("/children/police/import/", {"confirm": "1", "sha": sha, "name": "x.xlsx"})
    assert ChangeRequest.objects.filter(source="police", child=child).exists()
    assert files(preview_root) == []


def test_refused_preview_keeps_no_file(collector, preview_root, settings):
    page = login(collector).post(
        "/children/police/import/", {"file": io_file(b"PK\x03\x04 broken", "x.xlsx")}
    )
    assert page.status_code == 200 and "Không đọc được" in page.content.decode()
    assert files(preview_root) == []
    assert files(Path(settings.EVIDENCE_ROOT)) == []


def test_expired_previews_are_removed(collector, preview_root):
    kept = previews.store("police", collector, b"abc")
    old = time.time() - 25 * 3600
    path = next(iter(files(preview_root)))
    os.utime(path, (old, old))
    fresh = previews.store("survey", collector, b"def")
    assert previews.previews_expire() == 1
    assert [p.name for p in files(preview_root)] == [fresh]
    assert kept != fresh


def test_unreferenced_evidence_is_swept_referenced_kept(collector, make_child, settings):
    from mchis.registry import evidence
    from mchis.registry.services import child_propose_change, evidence_sweep

    child = make_child()
    kept = child_propose_change(
        actor=collector, child=child, changes={"mother_name": "Lê Thị Mai"}, reason="a",
        evidence=[evidence.EvidenceFile("giay.pdf", b"%PDF-1.4 kept")],
    )  # fmt: skip
    orphan = evidence.write(b"%PDF-1.4 orphan of a failed request")
    old = time.time() - 25 * 3600
    for path in files(Path(settings.EVIDENCE_ROOT)):
        os.utime(path, (old, old))
    assert evidence_sweep() == 1
    assert not evidence.path_for(orphan).exists()
    assert evidence.path_for(kept.evidence.get().sha256).exists()


def io_file(content: bytes, name: str = "tra-ve.xlsx"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)
