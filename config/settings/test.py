"""Test settings: same as base, with fast hashing and eager Celery; DATABASE_URL picks the database."""

from .base import *  # noqa: F403
from .base import VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; production uses argon2
CELERY_TASK_ALWAYS_EAGER = True
EVIDENCE_ROOT = VAR_DIR / "test-evidence"
MEDIA_ROOT = VAR_DIR / "test-media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Clients with registered keys must still sign; the many API tests of unsigned clients predate ADR 0070
# (accounts/tests/test_signed_submissions.py turns the requirement on).
INBOUND_SIGNATURE_REQUIRED = False
# Login-time 2FA is off in tests so every app can force_login a leader; accounts tests turn it on.
ROLES_REQUIRING_2FA = []
# No key store and no network in tests: the documents tests build their own PKI and local TSA (testpki).
DOCUMENT_SIGNING = {**DOCUMENT_SIGNING, "KEY_STORE": "", "ALLOW_FETCHING": False, "TSA_URL": ""}  # noqa: F405

if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    # The test runner empties the database between transactional tests with DELETE (mchis.core.testdb), which
    # the append-only audit table allows only with mchis.test_purge; nothing a test writes needs to survive a
    # crash of the server, so commits do not wait for the disk.
    DATABASES["default"]["ENGINE"] = "mchis.core.testdb"  # noqa: F405
    options = DATABASES["default"].setdefault("OPTIONS", {})  # noqa: F405
    options["options"] = (
        f"{options.get('options', '')} -c mchis.test_purge=on -c synchronous_commit=off".strip()
    )
