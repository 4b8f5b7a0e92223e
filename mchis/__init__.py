"""mchis: the maternal and child health information system."""

# The release number shown in the footer and at /api/v1/version; kept equal to pyproject.toml and to the
# newest entry of CHANGELOG.md (mchis/ops/tests/test_release.py checks both).
__version__ = "0.2.0"
