"""Django settings, read from the environment (see README "Configuration").

Production is the default: DEBUG is off unless DEBUG=1, and then SECRET_KEY must be set.
"""
import os
from pathlib import Path

from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    """True for 1/true/yes/on (any case)."""
    return os.environ.get(name, str(default)).strip().lower() in ("1", "true", "yes", "on")


def env_list(name, default=""):
    """Comma-separated environment variable as a list of non-empty items."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        from django.core.exceptions import ImproperlyConfigured
        raise ImproperlyConfigured("Set SECRET_KEY in the environment (or DEBUG=1 for local use).")
    SECRET_KEY = "insecure-local-development-key"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "django.contrib.messages",
    "django.contrib.sessions",
    "csp",
    "ninja",  # serves Swagger UI for /api/docs from its own static files (no CDN)
    "axes",   # locks out password guessing (README "Privacy")
    "classifier",
]

# The header middlewares come first so that every answer carries the security headers, also
# the early 400/413 of UploadLimitMiddleware (which must run before anything reads the body).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "sersite.middleware.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "classifier.uploads.UploadLimitMiddleware",
    "sersite.middleware.ReadableErrorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "classifier.owners.OwnerMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sersite.urls"
WSGI_APPLICATION = "sersite.wsgi.application"

TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [BASE_DIR / "templates"],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]

# SQLite next to the code unless DATABASE_URL names another database (e.g. PostgreSQL).
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
if os.environ.get("DATABASE_URL"):
    import dj_database_url
    DATABASES["default"] = dj_database_url.parse(
        os.environ["DATABASE_URL"], conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several gunicorn workers write at once: WAL, wait for locks, take the write lock up front.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE", timeout=20,
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
                    if not DEBUG else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "media/"
# Kept recordings go to S3-compatible object storage when a bucket is named (durable on a PaaS
# whose disk is wiped at each deploy); they are private and only ever streamed through Django
# to their owner, so no public URL of the bucket is used.
if os.environ.get("AWS_STORAGE_BUCKET_NAME"):
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": os.environ["AWS_STORAGE_BUCKET_NAME"],
        "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
        "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
        "access_key": os.environ.get("AWS_ACCESS_KEY_ID") or None,
        "secret_key": os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
        "location": os.environ.get("AWS_LOCATION", ""),
        "default_acl": None,          # the bucket's own (private) policy
        "querystring_auth": True,     # never hand out unsigned URLs
        "file_overwrite": False,
    }}

# Shared cache (rate-limit counters): one every worker and dyno sees. The database by default
# (table made by `createcachetable`, atomic increments: classifier/ratecache.py); Redis when
# REDIS_URL is set.
if os.environ.get("REDIS_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": os.environ["REDIS_URL"]}}
else:
    CACHES = {"default": {"BACKEND": "classifier.ratecache.AtomicDatabaseCache",
                          "LOCATION": "ser_cache"}}

# Accounts (django.contrib.auth) and login throttling (django-axes: after AXES_FAILURE_LIMIT
# failed sign-ins for one user name from one address, that pair is locked for AXES_COOLOFF).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend",
                           "django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "history"
LOGOUT_REDIRECT_URL = "home"
AXES_FAILURE_LIMIT = int(os.environ.get("SER_LOGIN_FAILURES", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("SER_LOGIN_LOCKOUT_MINUTES", "15")) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "classifier.limits.client_ip"
AXES_LOCKOUT_CALLABLE = "classifier.accounts.locked_out"

# Rate limits per client (account, else address; SER_PROXY_HOPS below says how the address is
# found): "N/Xs", "N/Xm" or "N/Xh", or "off" (classifier/limits.py).
SER_RATE_ANALYSE = os.environ.get("SER_RATE_ANALYSE", "30/10m")
SER_RATE_API = os.environ.get("SER_RATE_API", "60/10m")
SER_RATE_LIVE_START = os.environ.get("SER_RATE_LIVE_START", "20/10m")
SER_RATE_LIVE_CHUNK = os.environ.get("SER_RATE_LIVE_CHUNK", "600/10m")
SER_RATE_SIGN_IN = os.environ.get("SER_RATE_SIGN_IN", "20/10m")

# Retention (`python manage.py purge`): kept audio and whole analyses expire after these.
SER_KEEP_AUDIO_DAYS = float(os.environ.get("SER_KEEP_AUDIO_DAYS", "30"))
SER_KEEP_RESULTS_DAYS = float(os.environ.get("SER_KEEP_RESULTS_DAYS", "365"))

# The model artifact: the bundled one unless SER_MODEL_PATH points elsewhere.
SER_MODEL_PATH = os.environ.get("SER_MODEL_PATH", str(BASE_DIR / "ml" / "models" / "default.pkl"))

# Upload limits, checked before any work (classifier/uploads.py). Files always go to a temporary
# file on disk (never memory) that is deleted when the request ends.
SER_MAX_UPLOAD_BYTES = int(float(os.environ.get("SER_MAX_UPLOAD_MB", "25")) * 1024 * 1024)
SER_MAX_DURATION_S = float(os.environ.get("SER_MAX_DURATION_S", "600"))
# Every analysis (waiting for a slot included) ends within this many seconds (503 otherwise);
# each worker process runs at most SER_ANALYSES_PER_WORKER at once (bounds its memory and CPU).
SER_ANALYSIS_TIMEOUT_S = float(os.environ.get("SER_ANALYSIS_TIMEOUT_S", "60"))
SER_ANALYSES_PER_WORKER = int(os.environ.get("SER_ANALYSES_PER_WORKER", "1"))
# An address with this many uploads refused within a minute gets 429 for a minute
# (classifier/strikes.py).
SER_REFUSALS_PER_MINUTE = int(os.environ.get("SER_REFUSALS_PER_MINUTE", "20"))
# `manage.py cleanup` (release phase) deletes leftovers older than this: longer than any request.
SER_ORPHAN_AGE_S = float(os.environ.get("SER_ORPHAN_AGE_S", "900"))

# Live recognition (README "Live recognition"). The server-microphone page records from THIS
# machine's microphone: off unless SER_SERVER_MIC=1, and even then only for loopback clients.
SER_SERVER_MIC = env_bool("SER_SERVER_MIC")
SER_LIVE_MAX_S = float(os.environ.get("SER_LIVE_MAX_S", "120"))   # longest Live-mode session
SER_LIVE_IDLE_S = float(os.environ.get("SER_LIVE_IDLE_S", "120"))  # idle sessions deleted after
SER_LIVE_SESSIONS_PER_IP = int(os.environ.get("SER_LIVE_SESSIONS_PER_IP", "8"))
# Proxies in front of the app that append to X-Forwarded-For (1 behind a PaaS router): the
# client's address is that many entries from the right; 0 uses the connection's address.
SER_PROXY_HOPS = int(os.environ.get("SER_PROXY_HOPS", "0"))
FILE_UPLOAD_HANDLERS = ["classifier.uploads.TemporaryUploadHandler"]
FILE_UPLOAD_TEMP_DIR = os.environ.get("UPLOAD_TEMP_DIR") or None
DATA_UPLOAD_MAX_MEMORY_SIZE = int(2.5 * 1024 * 1024)   # non-file bodies (e.g. Live-mode PCM chunks)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 100
DATA_UPLOAD_MAX_NUMBER_FILES = 5

# HTTPS behind the PaaS router, which terminates TLS and sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]   # the platform's health checker may use plain HTTP
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "classifier.errors.csrf_failure"   # a styled 403 page

# Content-Security-Policy (django-csp): everything from this origin only; no inline code.
# blob: media lets the page play back its own recordings; the microphone's AudioWorklet module
# is a same-origin static file (script-src 'self').
CONTENT_SECURITY_POLICY = {"DIRECTIVES": {
    "default-src": [SELF],
    "script-src": [SELF],
    "style-src": [SELF],
    "img-src": [SELF, "data:", "blob:"],
    "media-src": [SELF, "blob:"],
    "connect-src": [SELF],
    "worker-src": [SELF, "blob:"],
    "font-src": [SELF],
    "object-src": [NONE],
    "base-uri": [SELF],
    "form-action": [SELF],
    "frame-ancestors": [NONE],
}}
# Browser features: the microphone for this origin only, nothing else.
PERMISSIONS_POLICY = "microphone=(self), camera=(), geolocation=(), payment=(), usb=()"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
