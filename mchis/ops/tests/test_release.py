"""Releases (R-OPS-03): one version number everywhere, and a CHANGELOG entry for it and for the previous one."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from django.conf import settings

import mchis

from .test_upgrade import PREVIOUS_RELEASE

ROOT = Path(settings.BASE_DIR)


def test_r_ops_03_one_version_in_code_pyproject_and_changelog():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == mchis.__version__
    sections = re.findall(r"^## (\d+\.\d+\.\d+)", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.M)
    assert sections[0] == mchis.__version__, "the newest CHANGELOG section is the running release"
    assert sections[1] == PREVIOUS_RELEASE["version"], "the upgrade test starts from the release before"
    assert PREVIOUS_RELEASE["commit"][:7] in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
