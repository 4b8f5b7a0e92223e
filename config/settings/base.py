"""Settings shared by every environment. Everything that differs comes from the environment.

Embedded default: SQLite in ./var so the demo runs with nothing installed.
Production: PostgreSQL (DATABASE_URL) + Redis (REDIS_URL); see config.settings.production.
"""

from __future__ import annotations

import base64
import hashlib
import os
import warnings
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

# The API's public field "register" (which register a record belongs to) has the name of a method of Python's
# ABC machinery that pydantic models inherit; pydantic warns at every start, burying the demo's printed accounts.
# The field is part of the published contract (API paths and bodies), so the name stays and the warning goes.
warnings.filterwarnings(
    "ignore", message='Field name "register" in ".*" shadows an attribute', category=UserWarning
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("MCHIS_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# A development key only; production refuses to start without SECRET_KEY (see production.py).
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "axes",
    "ninja",
    "mchis.core",
    "mchis.outbox",
    "mchis.places",
    "mchis.units",
    "mchis.catalogs",
    "mchis.accounts",
    "mchis.documents",
    "mchis.registry",
    "mchis.quality",
    "mchis.registers",
    "mchis.reports",
    "mchis.analytics",
    "mchis.notifications",
    "mchis.offline",
    "mchis.integrations",
    "mchis.portal",
    "mchis.demo",
    "mchis.ops",
    "mchis.web",
]

MIDDLEWARE = [
    "mchis.ops.metrics.RequestMetricsMiddleware",  # first: times and counts every answer, errors included
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "mchis.web.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "mchis.core.middleware.RequestContextMiddleware",
    "mchis.core.middleware.InputSanitizingMiddleware",
    "mchis.core.middleware.SecurityHeadersMiddleware",
    "mchis.core.middleware.DomainErrorMiddleware",
    "mchis.accounts.middleware.AccountSecurityMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mchis.ops.context_processors.release",
                "mchis.offline.context_processors.offline_entry",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'mchis.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # JIT off (DB_JIT=on to restore): at national size the planner compiles the roll-up's aggregates for
    # ~1.5 s per statement to save ~0.1 s of execution (docs/national-scale.md); our queries are short.
    pg_options = [f"-c jit={'on' if os.environ.get('DB_JIT') == 'on' else 'off'}"]
    if os.environ.get("DB_STATEMENT_TIMEOUT_MS"):
        # R-OPS-02: a runaway query is cancelled instead of holding connections that data entry needs. The web
        # sets a short limit (production: 30 s); the "heavy" worker pool its own, longer one (deploy/systemd).
        pg_options.append(f"-c statement_timeout={int(os.environ['DB_STATEMENT_TIMEOUT_MS'])}")
    DATABASES["default"]["OPTIONS"] = {"options": " ".join(pg_options)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout so the embedded demo tolerates a background writer.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "mchis.accounts.passwords.ComplexityValidator"},
    {"NAME": "mchis.accounts.passwords.NoReuseValidator", "OPTIONS": {"history": 5}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Internationalisation: Vietnamese first, English available (R-ORG-04: text stored in NFC).
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# dd/mm/yyyy in every page, export and PDF, and typed dates parsed as dd/mm/yyyy (mchis/web/formats/).
FORMAT_MODULE_PATH = ["mchis.web.formats"]
USE_I18N = True
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Evidence files and uploads live outside the database, addressed by checksum.
EVIDENCE_ROOT = Path(os.environ.get("EVIDENCE_ROOT", VAR_DIR / "evidence"))

# Sessions (R-SEC-07): idle timeout, cookies not readable by scripts, same-site.
SESSION_IDLE_TIMEOUT_SECONDS = int(os.environ.get("SESSION_IDLE_TIMEOUT_SECONDS", str(30 * 60)))
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_FAILURE_VIEW = "mchis.accounts.views.csrf_failure"  # Vietnamese 403 page; the refusal is audited
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Lockout (R-SEC-03) by account and by IP.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
# Lock the (account, client IP) pair: five failures by one person lock that person at that address only, never a
# whole station or province behind one NAT, nor the account everywhere (issue 10 item 11).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The client IP as the audit log sees it: REMOTE_ADDR, or the trusted proxy's X-Forwarded-For entry when
# TRUSTED_PROXY_COUNT > 0 (production, behind the reverse proxy).
AXES_CLIENT_IP_CALLABLE = "mchis.core.middleware.client_ip"
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
# The OpenAPI schema and docs page need a session or a token (issue 10 item 12); "1" opens them (local demo only).
API_DOCS_PUBLIC = os.environ.get("API_DOCS_PUBLIC", "0") == "1"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"

ADMIN_PASSWORD_MAX_AGE_DAYS = int(os.environ.get("ADMIN_PASSWORD_MAX_AGE_DAYS", "182"))
STEP_UP_WINDOW_SECONDS = int(os.environ.get("STEP_UP_WINDOW_SECONDS", "300"))
# Roles that must enrol and verify a second factor at every login (R-SEC-04).
ROLES_REQUIRING_2FA = env_list("ROLES_REQUIRING_2FA", "system_admin,unit_admin,leader,auditor")

# Security keys and passkeys (WebAuthn / FIDO2, issue 21; docs/signatures.md). RP ID: the site's domain
# (default: the request's host); allowed origins: empty = the request's own origin (scheme + Host, which
# ALLOWED_HOSTS bounds), so the library's "no allowed origins" check is silenced on purpose.
WEBAUTHN_RP_ID = os.environ.get("WEBAUTHN_RP_ID", "")
WEBAUTHN_RP_NAME = os.environ.get("WEBAUTHN_RP_NAME", "mchis — Hệ thống thông tin SKBMTE")
WEBAUTHN_ALLOWED_ORIGINS = env_list("WEBAUTHN_ALLOWED_ORIGINS")
# Attestation asked of new keys ("direct": the key proves its make; "none"); for SECURITY_KEY_ROLES, keys
# without attestation are refused, and when set only these AAGUIDs (e.g. the FIDO-certified models the ministry
# issues) and attestation chains to these roots (PEM files) are accepted.
WEBAUTHN_ATTESTATION = os.environ.get("WEBAUTHN_ATTESTATION", "direct")
WEBAUTHN_ALLOWED_AAGUIDS = env_list("WEBAUTHN_ALLOWED_AAGUIDS")
WEBAUTHN_ATTESTATION_ROOTS = env_list("WEBAUTHN_ATTESTATION_ROOTS")
# Roles whose critical actions (step-up) need a security key: TOTP does not count for them (QĐ 3978 Điều 18.3).
SECURITY_KEY_ROLES = env_list("SECURITY_KEY_ROLES", "")
OTP_WEBAUTHN_RP_ID_CALLABLE = "mchis.accounts.webauthn.rp_id"
OTP_WEBAUTHN_RP_NAME_CALLABLE = "mchis.accounts.webauthn.rp_name"
OTP_WEBAUTHN_HELPER_CLASS = "mchis.accounts.webauthn.Helper"
OTP_WEBAUTHN_ALLOWED_ORIGINS = WEBAUTHN_ALLOWED_ORIGINS
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False  # a key is the second factor, after the password
SILENCED_SYSTEM_CHECKS = ["otp_webauthn.E030"]

# Background work: Redis broker in production/CI; eager in the demo so Redis is optional.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
# Every scheduled job in one place (Celery beat). Each task is idempotent; the times are local (CELERY_TIMEZONE).
CELERY_BEAT_SCHEDULE = {
    # quality: nightly full rule scan (resumes from its checkpoint), weekly duplicate scan (R-DQ-03)
    "quality-full-rule-scan": {"task": "quality.full_rule_scan", "schedule": crontab(hour=1, minute=30)},
    "quality-duplicate-scan": {
        "task": "quality.duplicate_scan",
        "schedule": crontab(hour=2, minute=30, day_of_week="sunday"),
    },
    # reports: deadline reminders, overdue notices, escalation (R-MCH-04)
    "reports-deadline-reminders": {"task": "reports.send_reminders", "schedule": crontab(hour=7, minute=0)},
    # population gateway: re-queue identity checks whose task was lost (R-INT-04); FAILED ones stay failed
    "population-retry-pending": {"task": "integrations.population_retry_pending", "schedule": 600.0},
    # no orphans (issue 10 item 10): unconfirmed Excel/import previews expire, unreferenced evidence is swept
    "registers-expire-excel-previews": {"task": "registers.expire_uploads", "schedule": crontab(minute=15)},
    "registry-expire-import-previews": {"task": "registry.expire_previews", "schedule": crontab(minute=20)},
    "registry-sweep-evidence": {"task": "registry.sweep_evidence", "schedule": crontab(minute=25)},
    # outbound exchanges (R-INT-02): drain every push partner's outbox; a busy or backing-off one returns at once
    "integrations-exchange-dispatch": {"task": "integrations.exchange_dispatch", "schedule": 600.0},
    # operations (R-OPS-01/02): daily backup at a fixed time (full on Sunday, differential otherwise),
    # weekly verification, monthly restore drill, and a heartbeat through each queue for the readiness probes
    "ops-backup-daily": {"task": "ops.backup", "schedule": crontab(hour=0, minute=30)},
    "ops-verify-weekly": {"task": "ops.verify", "schedule": crontab(hour=4, minute=0, day_of_week="monday")},
    "ops-drill-monthly": {
        "task": "ops.restore_drill",
        "schedule": crontab(hour=5, minute=0, day_of_month="1"),
    },
    # analytics (issue 15): every write queues its recompute; this sweep catches lost ones and adds the
    # month's expected reports of units that wrote nothing (completeness)
    "analytics-sweep": {"task": "analytics.sweep", "schedule": crontab(minute=40)},
    "ops-heartbeat-default": {"task": "ops.heartbeat", "schedule": 60.0, "args": ("default",)},
    "ops-heartbeat-heavy": {
        "task": "ops.heartbeat",
        "schedule": 60.0,
        "args": ("heavy",),
        "options": {"queue": "heavy"},
    },
}
# Two worker pools (R-OPS-02: a slow analytics job cannot starve data entry): "default" for the work a person
# waits for (identity checks, ingestion, notices), "heavy" for scans, duplicate detection and operations.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_QUEUE_NAMES = ["default", "heavy"]
CELERY_TASK_ROUTES = {
    "analytics.sweep": {"queue": "heavy"},
    "quality.*": {"queue": "heavy"},
    "ops.backup": {"queue": "heavy"},
    "ops.verify": {"queue": "heavy"},
    "ops.restore_drill": {"queue": "heavy"},
}
# A dead broker must not hold the request that queues work (mchis.core.jobs runs it in place instead).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
HEARTBEAT_MAX_AGE_SECONDS = int(os.environ.get("HEARTBEAT_MAX_AGE_SECONDS", "300"))
PARTNER_BREAKER_FAIL_MAX = int(os.environ.get("PARTNER_BREAKER_FAIL_MAX", "5"))
PARTNER_BREAKER_RESET_SECONDS = float(os.environ.get("PARTNER_BREAKER_RESET_SECONDS", "60"))

# Public statistics portal (issue 16, docs/portal.md): small counts 1..THRESHOLD are suppressed below the
# province, rates on fewer than MIN_DENOMINATOR cases are withheld below the province and flagged above it, and
# nothing below LOWEST_LEVEL ("district"; "commune" only by decision) is ever published.
PORTAL_DISCLOSURE = {
    "THRESHOLD": int(os.environ.get("PORTAL_THRESHOLD", "4")),
    "MIN_DENOMINATOR": int(os.environ.get("PORTAL_MIN_DENOMINATOR", "20")),
    "LOWEST_LEVEL": os.environ.get("PORTAL_LOWEST_LEVEL", "district"),
}

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "mchis@localhost")

# The simulated national population registry (integrations.population) for demo and tests.
POPULATION_GATEWAY_URL = os.environ.get("POPULATION_GATEWAY_URL", "")
POPULATION_GATEWAY_TOKEN = os.environ.get("POPULATION_GATEWAY_TOKEN", "")

# Inbound submissions of machine clients (HIS bulk API) must carry a detached JWS (Ed25519) made with a key
# registered for the client (ADR 0070); `aud` of the signature is INBOUND_SIGNATURE_AUDIENCE.
INBOUND_SIGNATURE_REQUIRED = os.environ.get("INBOUND_SIGNATURE_REQUIRED", "1") == "1"
INBOUND_SIGNATURE_AUDIENCE = os.environ.get("INBOUND_SIGNATURE_AUDIENCE", "mchis")

# Our exchange signing keys are stored encrypted with this Fernet key (ADR 0071); set it in the environment
# (production refuses to sign without it). Development and tests derive one from SECRET_KEY.
EXCHANGE_KEY_ENCRYPTION_KEY = (
    os.environ.get("EXCHANGE_KEY_ENCRYPTION_KEY", "")
    or base64.urlsafe_b64encode(
        hashlib.sha256(f"mchis-exchange-keys:{SECRET_KEY}".encode()).digest()
    ).decode()
)

# Outbound exchanges (docs/exchanges.md): where each push partner listens, our bearer token there, its limits.
EXCHANGE_PARTNERS = {
    "ehr": {
        "url": os.environ.get("EHR_WAREHOUSE_URL", ""),
        "token": os.environ.get("EHR_WAREHOUSE_TOKEN", ""),
        "max_bytes": int(os.environ.get("EHR_WAREHOUSE_MAX_BYTES", "4000000")),
        "timeout": float(os.environ.get("EHR_WAREHOUSE_TIMEOUT", "15")),
        "batch_size": 200,
    },
    "statistics": {
        "url": os.environ.get("HEALTH_STATISTICS_URL", ""),
        "token": os.environ.get("HEALTH_STATISTICS_TOKEN", ""),
        "max_bytes": int(os.environ.get("HEALTH_STATISTICS_MAX_BYTES", "2000000")),
        "batch_size": 1,  # one report per request: its import summary is stored on its entry
    },
}
EXCHANGE_LEASE_SECONDS = float(os.environ.get("EXCHANGE_LEASE_SECONDS", "120"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Domain settings read by the apps (declared here so every knob is in one place).
REGISTRY_STEP_UP_FOR_CHANGES = env_bool("REGISTRY_STEP_UP_FOR_CHANGES", True)  # approving changes is critical
EVIDENCE_MAX_BYTES = int(os.environ.get("EVIDENCE_MAX_BYTES", str(10 * 1024 * 1024)))
POPULATION_GATEWAY_TIMEOUT = float(os.environ.get("POPULATION_GATEWAY_TIMEOUT", "5"))
# Days without an update after which a record is "dead" (R-DQ-03), per circumstance group code; "*" = default.
QUALITY_DEAD_AFTER_DAYS = {"*": int(os.environ.get("QUALITY_DEAD_AFTER_DAYS", "365"))}
# Full duplicate scan engine for the national scan (ADR 0010, 0073): "duckdb" (in-process, a province or a
# small nation) or "spark" (pyspark + Java 17; SPARK_MASTER "local[*]" or a cluster's spark://host:7077).
# A scan of one unit's subtree always runs on DuckDB.
DEDUPE_BACKEND = os.environ.get("MCHIS_DEDUPE_BACKEND", "duckdb")
SPARK_MASTER = os.environ.get("SPARK_MASTER", "local[*]")
SPARK_DRIVER_MEMORY = os.environ.get("SPARK_DRIVER_MEMORY", "2g")
SPARK_SHUFFLE_PARTITIONS = int(os.environ.get("SPARK_SHUFFLE_PARTITIONS", "8"))
# DuckDB's memory for a scan: past it, joins and aggregates spill to the scan's temporary directory instead of
# taking the server's memory (its default is 80 % of RAM: a national scan beside PostgreSQL took 17 of 23 GB).
DEDUPE_DUCKDB_MEMORY = os.environ.get("MCHIS_DEDUPE_DUCKDB_MEMORY", "4GB")
DEDUPE_DUCKDB_THREADS = int(os.environ.get("MCHIS_DEDUPE_DUCKDB_THREADS", "2"))
# The spill's ceiling on the temporary disk: a national scan of 25 M children at 4GB spilled 28 GB in 8 minutes and
# was filling the disk PostgreSQL lives on; past this the scan stops with a clear error (run it per province or on
# Spark) instead.
DEDUPE_DUCKDB_SPILL = os.environ.get("MCHIS_DEDUPE_DUCKDB_SPILL", "20GB")
# Web and background workers collect young garbage every this many allocations after freezing their start-up
# objects (mchis.core.collector, ADR 0082: 15–25 % of a bulk batch's CPU was the collector); 0 = Python's defaults.
GC_YOUNG_THRESHOLD = int(os.environ.get("MCHIS_GC_YOUNG_THRESHOLD", "50000"))

# Operations (R-OPS-01..03, docs/operations.md). Three backup targets standing for three separate storages;
# in production each is a different mount (second disk, NFS/another site); the S3 repository is pgBackRest's.
BACKUP_TARGETS = [
    Path(p)
    for p in env_list(
        "BACKUP_TARGETS",
        ",".join(str(VAR_DIR / "backups" / f"copy-{n}") for n in (1, 2, 3)),
    )
]
BACKUP_MIN_COPIES = int(os.environ.get("BACKUP_MIN_COPIES", "3"))
BACKUP_KEEP = int(os.environ.get("BACKUP_KEEP", "14"))  # SQLite backups kept per target
PGBACKREST_CONFIG = os.environ.get("PGBACKREST_CONFIG", "/etc/pgbackrest/pgbackrest.conf")
PGBACKREST_STANZA = os.environ.get("PGBACKREST_STANZA", "mchis")
PGBACKREST_REPOS = [int(n) for n in env_list("PGBACKREST_REPOS", "1,2,3")]
PG_BIN_DIR = Path(os.environ.get("PG_BIN_DIR", "/usr/lib/postgresql/15/bin"))
OPS_REPORT_DIR = Path(os.environ.get("OPS_REPORT_DIR", VAR_DIR / "drills"))
# Alerting thresholds (also in deploy/prometheus/alerts.yml): a daily backup older than this is "late".
BACKUP_MAX_AGE_HOURS = int(os.environ.get("BACKUP_MAX_AGE_HOURS", "26"))
# Signed documents (PAdES, issue 21; docs/signatures.md). KEY_STORE: "" (documents are not signed), "pkcs12" (one
# `<unit code>.p12` per signing unit in PKCS12_DIR, opened by the server after the signer's step-up; passphrase
# in `<unit code>.p12`'s sibling `<unit code>.pass` or DOCUMENT_SIGNING_PASSPHRASE) or "pkcs11" (a USB token or HSM
# reachable from the server; key and certificate labelled PKCS11_KEY_LABEL, "{unit}" = the unit code).
DOCUMENT_SIGNING = {
    "KEY_STORE": os.environ.get("DOCUMENT_SIGNING_KEY_STORE", ""),
    "PKCS12_DIR": os.environ.get("DOCUMENT_SIGNING_PKCS12_DIR", str(VAR_DIR / "signing-keys")),
    "PKCS12_PASSPHRASE": os.environ.get("DOCUMENT_SIGNING_PASSPHRASE", ""),
    "PKCS11_MODULE": os.environ.get("DOCUMENT_SIGNING_PKCS11_MODULE", ""),
    "PKCS11_TOKEN_LABEL": os.environ.get("DOCUMENT_SIGNING_PKCS11_TOKEN", ""),
    "PKCS11_PIN": os.environ.get("DOCUMENT_SIGNING_PKCS11_PIN", ""),
    "PKCS11_KEY_LABEL": os.environ.get("DOCUMENT_SIGNING_PKCS11_KEY_LABEL", "{unit}"),
    # Verification trusts these roots only (PEM files: the national root CA and the public CAs' certificates).
    "TRUST_ROOTS": env_list("DOCUMENT_SIGNING_TRUST_ROOTS"),
    "EXTRA_CERTS": env_list("DOCUMENT_SIGNING_EXTRA_CERTS"),
    "CRLS": env_list("DOCUMENT_SIGNING_CRLS"),
    # Fetch CRL/OCSP from the CAs' servers (production); off, only embedded and configured CRLs count.
    "ALLOW_FETCHING": env_bool("DOCUMENT_SIGNING_ALLOW_FETCHING", True),
    "TSA_URL": os.environ.get("DOCUMENT_SIGNING_TSA_URL", ""),
    "TSA_USER": os.environ.get("DOCUMENT_SIGNING_TSA_USER", ""),
    "TSA_PASSWORD": os.environ.get("DOCUMENT_SIGNING_TSA_PASSWORD", ""),
    "FONT": os.environ.get("DOCUMENT_SIGNING_FONT", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    # Refuse an approval when the approving unit has no signing key (otherwise it is approved unsigned).
    "REQUIRED": env_bool("DOCUMENT_SIGNING_REQUIRED", False),
}
