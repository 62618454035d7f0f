"""Settings of the portal, read from the environment.

Every variable is documented in README.md ("Configuration"). Defaults suit a laptop
(SQLite under var/, tasks in-process, mail written to var/mail/); production sets
DEBUG=0, SECRET_KEY, DATABASE_URL, CELERY_BROKER_URL, EMAIL_URL and ALLOWED_HOSTS.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from portal.env import email_config, env_bool, env_int, env_list, env_secret, env_str, storage_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
TESTING = "pytest" in sys.modules or env_bool("TESTING", False)

_DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production-0123456789abcdef"  # noqa: S105
SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "SECRET_KEY manquante : définissez SECRET_KEY (ou SECRET_KEY_FILE) quand DEBUG est désactivé. "
            "/ SECRET_KEY is missing: set SECRET_KEY (or SECRET_KEY_FILE) when DEBUG is off."
        )
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG or TESTING else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])


def _runserver_url(addr: str) -> str:
    """The address `make run` serves on (RUNSERVER_ADDR: "host:port" or a port), as a link:
    what seed_demo prints and invitations carry when SITE_URL is not set."""
    host, _, port = addr.strip().rpartition(":")
    if host in ("", "0.0.0.0", "[::]"):  # noqa: S104 (a link to the local machine, not a bind)
        host = "127.0.0.1"
    return f"http://{host}:{port or '8000'}"


SITE_URL = env_str("SITE_URL", _runserver_url(os.environ.get("RUNSERVER_ADDR", "") or "127.0.0.1:8000")).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "guardian",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "portal.signin",
    "common",
    "reference",
    "coordination",
    "notifications",
    "documents",
    "agenda",
    "ppa",
    "liaison",
    "admission",
    "records",
    "evaluation",
    "exchanges",
    "oauth2_provider",
    "interop",
    "portal",
]

MIDDLEWARE = [
    "portal.middleware.RequestContextMiddleware",
    "portal.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.middleware.InputGuardMiddleware",
    "portal.middleware.IdleSessionTimeoutMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.middleware.RequireMFAMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
            ],
        },
    },
]
# Django's form renderer, with the plain inputs and the selects written in Python (the
# same markup: common/form_renderer.py; issue 19).
FORM_RENDERER = "common.form_renderer.FormRenderer"

# --- Database -----------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
        # Persistent connections in production (one per worker, health-checked): a new
        # PostgreSQL connection per request cost 5–15 ms in bench/agenda_person.py. Not
        # under runserver, which serves each request in a new thread.
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0 if DEBUG or TESTING else 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_JIT_OFF", True):
    # PostgreSQL's JIT compiles plans it costs high; on these short OLTP queries it only
    # added time (~450 ms measured in bench/liaison.py).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout keep the laptop set-up usable with in-process tasks.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits, shared between processes when CACHE_URL is set) -------------
CACHE_URL = env_str("CACHE_URL")
if CACHE_URL:
    # Fails open (Redis down: pages still served), except for the sign-in counters,
    # which fail closed (common.cache). Sessions are in the database, not the cache.
    CACHES = {
        "default": {
            "BACKEND": "common.cache.FailOpenRedisCache",
            "LOCATION": CACHE_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Accounts -------------------------------------------------------------------------
AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Fixtures create many accounts; PBKDF2 would dominate the suite's time.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_ADAPTER = "portal.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "portal.adapters.SocialAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Portail] "
ACCOUNT_RATE_LIMITS = {
    # Failed logins: per IP and per e-mail address (the "key").
    "login_failed": env_str("LOGIN_FAILED_RATE_LIMIT", "20/m/ip,5/300s/key"),
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "Portail coordination")

SOCIALACCOUNT_ONLY = False
# National sign-ins find their account by our own rules (portal.signin.linking): never
# by an address the provider sends, and they never create an account.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
# The identity is proven by the national provider; no address check at that sign-in.
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = env_int("SIGNIN_REQUESTS_TIMEOUT", 10)


def _national_app(prefix: str) -> list[dict]:
    client_id = env_str(f"{prefix}_CLIENT_ID")
    server_url = env_str(f"{prefix}_SERVER_URL")
    if not (client_id and server_url):
        return []
    return [
        {
            "client_id": client_id,
            "secret": env_secret(f"{prefix}_CLIENT_SECRET"),
            "settings": {"server_url": server_url},
        }
    ]


# Pro Santé Connect (professionals) and FranceConnect+ (persons, carers): off unless set.
# See portal.signin and README.md ("Accounts and sign-in").
SOCIALACCOUNT_PROVIDERS = {
    "pro_sante_connect": {"APPS": _national_app("PSC")},
    "franceconnect": {"APPS": _national_app("FRANCECONNECT")},
}
# The private RSA key (PEM) FranceConnect+ encrypts id_token and userinfo for; its
# public half is served at /accounts/franceconnect/jwks/.
FRANCECONNECT_ENCRYPTION_KEY = env_secret("FRANCECONNECT_ENCRYPTION_KEY")
if SOCIALACCOUNT_PROVIDERS["franceconnect"]["APPS"] and not FRANCECONNECT_ENCRYPTION_KEY:
    raise ImproperlyConfigured(
        "FRANCECONNECT_ENCRYPTION_KEY manquante : FranceConnect+ chiffre ses jetons pour cette clé. "
        "/ FRANCECONNECT_ENCRYPTION_KEY (or _FILE) is required when FRANCECONNECT_CLIENT_ID is set."
    )

# Sessions end after inactivity (IdleSessionTimeoutMiddleware); absolute cap one day.
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 30) * 60
SESSION_COOKIE_AGE = 24 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Professionals who must have MFA: see portal.accounts.requires_mfa.
MFA_REQUIRED_FOR_PROFESSIONALS = env_bool("MFA_REQUIRED_FOR_PROFESSIONALS", True)

# django-guardian: no anonymous user row (e-mail login has no username).
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# --- Security -------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY") else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG and not TESTING)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG and not TESTING
CSRF_COOKIE_SECURE = not DEBUG and not TESTING
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
if TESTING:
    SECURE_SSL_REDIRECT = False
    SECURE_HSTS_SECONDS = 0

# --- Internationalisation -----------------------------------------------------------
LANGUAGE_CODE = "fr-fr"
LANGUAGES = [("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Files ----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    # Uploaded files are private: no MEDIA_URL is routed; they are served by views
    # that go through the access gate.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env_str("PRIVATE_MEDIA_ROOT", str(VAR_DIR / "private")), "base_url": None},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
PRIVATE_MEDIA_ROOT = Path(STORAGES["default"]["OPTIONS"]["location"])
# Several hosts: private files in an S3-compatible bucket (README, "Production"). The local
# folder above stays the source of `manage.py storage_migrate`.
STORAGE_URL = env_secret("STORAGE_URL")
if STORAGE_URL or env_str("AWS_STORAGE_BUCKET_NAME"):
    _s3 = storage_config(STORAGE_URL) if STORAGE_URL else {"bucket_name": env_str("AWS_STORAGE_BUCKET_NAME")}
    for _option, _variable in [
        ("endpoint_url", "AWS_S3_ENDPOINT_URL"),
        ("region_name", "AWS_S3_REGION_NAME"),
        ("location", "AWS_LOCATION"),
        ("addressing_style", "AWS_S3_ADDRESSING_STYLE"),
        ("access_key", "AWS_ACCESS_KEY_ID"),
        ("secret_key", "AWS_SECRET_ACCESS_KEY"),
    ]:
        if not STORAGE_URL and env_secret(_variable):
            _s3[_option] = env_secret(_variable)
    STORAGES["default"] = {"BACKEND": "common.storage.PrivateS3Storage", "OPTIONS": _s3}
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_MB", 10) * 1024 * 1024
# Images are refused from their header above this many pixels, before being decoded
# (decompression bombs: a small file that would fill the memory). A phone photo is 12–50 Mpx.
UPLOAD_IMAGE_MAX_PIXELS = env_int("UPLOAD_IMAGE_MAX_MEGAPIXELS", 60) * 1_000_000
# A form or JSON body larger than this is refused with a French message (413), before any
# view (portal.middleware.InputGuardMiddleware): the longest text field is 20,000 characters.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# A multipart body (files) larger than this is refused likewise: the five files of a
# transmission at UPLOAD_MAX_MB each, and their form.
UPLOAD_REQUEST_MAX_BYTES = 5 * UPLOAD_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640

# --- E-mail ---------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Portail coordination <ne-pas-repondre@portail.localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
vars().update(email_config(env_str("EMAIL_URL"), VAR_DIR / "mail"))

# --- Celery ---------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A message taken by a worker that died comes back after this; the outbox rows' lease
# (common.outbox.LEASE_SECONDS) is what really brings a lost sending back, and the
# visibility timeout is no longer than it (issue #25).
OUTBOX_LEASE_SECONDS = env_int("OUTBOX_LEASE_SECONDS", 300)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": OUTBOX_LEASE_SECONDS}
# Publishing when the broker is down: a few quick tries, then the after-commit hand-off
# (common.handoff) logs it and leaves the row to the sweeper; a page never waits long.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# The worker logs through LOGGING (JSON lines with task and request ids, portal/logs.py).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
if CELERY_BROKER_URL.startswith("filesystem://"):
    # `make run`: a worker with beat beside runserver on kombu's filesystem transport (a
    # folder of message files under VAR_DIR): periodic jobs run with nothing to install.
    _BROKER_DIR = VAR_DIR / "broker"
    for _folder in ("queue", "processed", "control"):
        (_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }
# Filled at the end of this file from each app's beat_schedule().

# --- API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "common.renderers.BrowsableAPIRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "portal.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Portail de coordination — API",
    "DESCRIPTION": "API of the care-coordination portal. Every call goes through the access gate.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Descriptions come from extend_schema (French, for the API's users); docstrings are
    # notes for developers.
    "DISABLE_DOCSTRING_DESCRIPTIONS": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.schema.document_pagination_errors",
        "common.schema.document_local_times",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Logging --------------------------------------------------------------------------
# JSON lines with the request id, user id and task id (portal/logs.py); text under DEBUG.
LOG_FORMAT = env_str("LOG_FORMAT", "text" if DEBUG or TESTING else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "portal.logs.ContextFilter"}},
    "formatters": {"json": {"()": "portal.logs.JsonFormatter"}, "text": {"()": "portal.logs.TextFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # pikepdf announces its C++ log bridge at INFO on import.
        "pikepdf": {"level": "WARNING"},
        # fontTools tells at INFO each glyph it keeps when fpdf2 subsets a PDF's fonts.
        "fontTools": {"level": "WARNING"},
    },
}

LOGIN_URL_PATH = "/accounts/login/"

# --- Coordination -----------------------------------------------------------------------
BREAK_GLASS_HOURS = env_int("BREAK_GLASS_HOURS", 4)

# --- Notifications ----------------------------------------------------------------------
DIGEST_DAILY_HOUR = env_int("DIGEST_DAILY_HOUR", 7)
DIGEST_WEEKLY_DAY = env_str("DIGEST_WEEKLY_DAY", "monday")
SMS_BACKEND = env_str("SMS_BACKEND", "notifications.channels.ConsoleSMSBackend")
SMS_GATEWAY_URL = env_str("SMS_GATEWAY_URL")
SMS_GATEWAY_TOKEN = env_secret("SMS_GATEWAY_TOKEN")
SMS_SENDER = env_str("SMS_SENDER", "Portail")
if TESTING:
    SMS_BACKEND = "notifications.channels.LocmemSMSBackend"

# --- Periodic tasks (Celery beat) ----------------------------------------------------------
CELERY_BEAT_SCHEDULE = {
    "notifications-daily-digest": {
        "task": "notifications.tasks.build_digests",
        "args": ("daily",),
        "schedule": crontab(hour=DIGEST_DAILY_HOUR, minute=0),
    },
    "notifications-weekly-digest": {
        "task": "notifications.tasks.build_digests",
        "args": ("weekly",),
        "schedule": crontab(hour=DIGEST_DAILY_HOUR, minute=5, day_of_week=DIGEST_WEEKLY_DAY),
    },
    # The sweeper: lost hand-offs, due retries, expired leases (common.outbox).
    "notifications-resume": {"task": "notifications.tasks.resume_deliveries", "schedule": 60.0},
    # The worker's and beat's signs of life (portal.health, /readyz, the admin).
    "portal-heartbeat": {"task": "portal.tasks.heartbeat", "schedule": 60.0, "options": {"expires": 120}},
}

# --- Liaison notebook -------------------------------------------------------------------------
LIAISON_GRACE_MINUTES = env_int("LIAISON_GRACE_MINUTES", 10)
LIAISON_RECEIPT_REMINDER_HOURS = env_int("LIAISON_RECEIPT_REMINDER_HOURS", 24)
LIAISON_UNREAD_DAYS = env_int("LIAISON_UNREAD_DAYS", 30)
CELERY_BEAT_SCHEDULE["liaison-receipt-reminders"] = {
    "task": "liaison.tasks.remind_missing_receipts",
    "schedule": 900.0,
}

# --- Exchanges ---------------------------------------------------------------------------------
# An author may edit or withdraw a message during this many minutes ("message retiré").
EXCHANGES_GRACE_MINUTES = env_int("EXCHANGES_GRACE_MINUTES", 15)
# Messages per page of a conversation (the last page opens first).
EXCHANGES_PAGE_SIZE = env_int("EXCHANGES_PAGE_SIZE", 30)

# --- Documents: DMP outbox and MSSanté ------------------------------------------------------------
# The DMP / Mon espace santé cannot be reached from this project: the default client says
# "not configured" and items wait in the outbox. A real client is a dotted path (see coordination/dmp.py).
DMP_CLIENT = env_str("DMP_CLIENT", "documents.dmp.NotConfiguredClient")
DMP_SEND_DELAY_MINUTES = env_int("DMP_SEND_DELAY_MINUTES", 10)
# The folder of the simulated DMP shared between processes (documents.dmp.FileRecordingClient).
DMP_SIM_DIR = env_str("DMP_SIM_DIR")
# MSSanté: its own SMTP relay (same URL syntax as EMAIL_URL), never the ordinary mail server.
MSSANTE_EMAIL = email_config(env_str("MSSANTE_EMAIL_URL"), VAR_DIR / "mssante")
MSSANTE_FROM_EMAIL = env_str("MSSANTE_FROM_EMAIL", "portail@structure.mssante.fr")
CELERY_BEAT_SCHEDULE["documents-dmp-outbox"] = {"task": "documents.tasks.send_due_dmp_shares", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["documents-mssante-resume"] = {
    "task": "documents.tasks.resume_mssante_sendings",
    "schedule": 60.0,
}
# A stored file that no row names (its change did not commit) is deleted once older than
# this (documents.orphans, hourly); 0 turns the sweeper off.
UPLOAD_ORPHAN_GRACE_HOURS = env_int("UPLOAD_ORPHAN_GRACE_HOURS", 24)
CELERY_BEAT_SCHEDULE["documents-orphan-files"] = {"task": "documents.tasks.remove_orphan_files", "schedule": 3600.0}
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        "DocumentStatusEnum": "documents.models.DocumentStatus",
        "DmpShareStatusEnum": "documents.models.DmpShareStatus",
        "MssanteStatusEnum": "documents.models.MssanteStatus",
        "PlanVersionStatusEnum": "ppa.models.VersionStatus",
        "ObjectiveStatusEnum": "ppa.models.ObjectiveStatus",
        "SignOffRoleEnum": "ppa.models.SignOffRole",
        "CircleRoleEnum": "coordination.models.CircleRole",
        "ConsentKindEnum": "coordination.models.ConsentKind",
        "ConsentDecisionEnum": "coordination.models.ConsentDecision",
        "CollectionMethodEnum": "coordination.models.CollectionMethod",
        "PartnerEnum": "coordination.models.Partner",
        "FeedOwnerKindEnum": "agenda.models.FeedOwnerKind",
        "FrequencyEnum": "common.notify.Frequency",
    }
)
# User portal: how long an e-mailed invitation link stays valid.
PORTAL_INVITATION_DAYS = env_int("PORTAL_INVITATION_DAYS", 7)
CELERY_BEAT_SCHEDULE["portal-invitation-emails"] = {"task": "portal.tasks.resume_invitation_emails", "schedule": 60.0}
# --- Projet personnalisé (PPA) ------------------------------------------------------------------
PPA_REVIEW_MONTHS = env_int("PPA_REVIEW_MONTHS", 12)
PPA_REVIEW_REMINDER_DAYS = (60, 30, 7)
CELERY_BEAT_SCHEDULE["ppa-file-missing-documents"] = {
    "task": "ppa.tasks.file_missing_plan_documents",
    "schedule": 300.0,
}
CELERY_BEAT_SCHEDULE["ppa-review-reminders"] = {
    "task": "ppa.tasks.send_review_reminders",
    "schedule": crontab(hour=7, minute=30),
}
# --- Agenda: availability and meeting booking -------------------------------------------------
AGENDA_BOOKING_HOLD_HOURS = env_int("AGENDA_BOOKING_HOLD_HOURS", 48)
CELERY_BEAT_SCHEDULE["agenda-release-expired-holds"] = {
    "task": "agenda.booking.tasks.release_expired_holds",
    "schedule": 300.0,
}
CELERY_BEAT_SCHEDULE["agenda-release-unanswered-proposals"] = {
    "task": "agenda.booking.tasks.release_unanswered_proposals",
    "schedule": 300.0,
}
# --- Agenda -------------------------------------------------------------------------------
AGENDA_IMPORT_PAST_DAYS = env_int("AGENDA_IMPORT_PAST_DAYS", 30)
AGENDA_IMPORT_FUTURE_DAYS = env_int("AGENDA_IMPORT_FUTURE_DAYS", 365)
AGENDA_IMPORT_MAX_BYTES = env_int("AGENDA_IMPORT_MAX_BYTES", 5_000_000)
AGENDA_IMPORT_TIMEOUT = env_int("AGENDA_IMPORT_TIMEOUT", 10)
AGENDA_IMPORT_REFRESH_MINUTES = env_int("AGENDA_IMPORT_REFRESH_MINUTES", 60)
CELERY_BEAT_SCHEDULE["agenda-refresh-external-calendars"] = {
    "task": "agenda.tasks.refresh_external_calendars",
    "schedule": AGENDA_IMPORT_REFRESH_MINUTES * 60.0,
}
# --- Interoperability: the FHIR facade and connected software (interop) -----------------------
# A structure's software authenticates with OAuth 2.0 client credentials
# (django-oauth-toolkit); its scopes are those its administrator gave it.
OAUTH2_PROVIDER = {
    "SCOPES_BACKEND_CLASS": "interop.scopes.ConnectedSoftwareScopes",
    "OAUTH2_VALIDATOR_CLASS": "interop.oauth.ConnectedSoftwareValidator",
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("FHIR_TOKEN_SECONDS", 3600),
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    # The OAuth 2.0 security BCP (RFC 9700) behaviours, ahead of django-oauth-toolkit 4:
    # no implicit or password grant, no token in URLs, tokens stored hashed.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
}
# Named so that migrations referring to the (swappable) OAuth application resolve it.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
FHIR_PAGE_SIZE = env_int("FHIR_PAGE_SIZE", 20)
FHIR_MAX_PAGE_SIZE = 100
# Rest-hook endpoints are https; plain http only to this machine, for development and tests.
FHIR_ALLOW_HTTP_HOOKS = env_bool("FHIR_ALLOW_HTTP_HOOKS", DEBUG or TESTING)

# --- Admission ------------------------------------------------------------------------------
# How long a structure that received an admission request may read its file while the
# request stays open (it reads it through the gate's "admission" scope, each read logged).
ADMISSION_FILE_ACCESS_DAYS = env_int("ADMISSION_FILE_ACCESS_DAYS", 180)
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        "AdmissionStatusEnum": "admission.models.AdmissionStatus",
        "AdmissionRequesterKindEnum": "admission.models.RequesterKind",
        "AdmissionAgreementEnum": "admission.models.AgreementVia",
        "AccompanimentEndKindEnum": "admission.services.EndKind.choices",
    }
)

# --- Whole record: export, hand-over, retention (records) ----------------------------------------
# How long an export's ZIP may be downloaded by its requester before it is deleted.
RECORDS_EXPORT_DAYS = env_int("RECORDS_EXPORT_DAYS", 7)
# A running export's lease (records.services): its run renews it every 30 s; one whose
# lease expired (worker killed) is built again by the sweeper below.
RECORDS_EXPORT_LEASE_SECONDS = env_int("RECORDS_EXPORT_LEASE_SECONDS", 600)
CELERY_BEAT_SCHEDULE["records-resume-exports"] = {"task": "records.tasks.resume_exports", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["records-delete-expired-exports"] = {
    "task": "records.tasks.delete_expired_exports",
    "schedule": 3600.0,
}
# Retention after the end of the last accompaniment (coordination.retention), in days per
# kind of data; RECORDS_RETENTION_DAYS_<KIND> overrides one. Seed 003 says only that an
# ended coordination record "doit être soit archivé, soit détruit": it gives no duration,
# so these defaults (5 years; 2 for the agenda; the exports' archives at once) are the
# portal's choice, for each structure's data-protection officer to set. Archiving is
# done by the daily job as soon as the coordination has ended.
RECORDS_RETENTION_DAYS = {
    key: env_int(f"RECORDS_RETENTION_DAYS_{key.upper()}", days)
    for key, days in {
        "default": 5 * 365,
        "liaison": 5 * 365,
        "exchanges": 5 * 365,
        "documents": 5 * 365,
        "ppa": 5 * 365,
        "agenda": 2 * 365,
        "exports": 0,
        "identity": 5 * 365,
    }.items()
}
CELERY_BEAT_SCHEDULE["records-retention"] = {
    "task": "records.tasks.apply_retention",
    "schedule": crontab(hour=3, minute=30),
}

# --- Exchanges: live updates (exchanges.views.live) ------------------------------------------
# An open conversation receives its new messages by Server-Sent Events. Each stream is a
# bounded request: it ends after EXCHANGES_STREAM_SECONDS (under gunicorn's 30 s timeout
# and the proxy's 35 s read timeout) and the browser reconnects with the last id it got.
# Inside a stream the database is polled every EXCHANGES_POLL_SECONDS (one indexed query).
# 0 turns live updates off: the stream answers 204 and the browser stops asking (the pages
# still work by reloading). README, "Exchanges".
EXCHANGES_STREAM_SECONDS = env_int("EXCHANGES_STREAM_SECONDS", 25)
EXCHANGES_POLL_SECONDS = float(env_str("EXCHANGES_POLL_SECONDS", "1") or 1)
