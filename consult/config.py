"""Settings, read only here, from the environment."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent


def _flag(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def database_url(instance_path: Path) -> str:
    """The SQLAlchemy URL: DATABASE_URL, with postgresql:// meaning psycopg 3; SQLite under instance/ by default."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{instance_path / 'consult.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


SEARCH_BACKENDS = ("whoosh", "postgres")


def search_backend(database_uri: str) -> str:
    """SEARCH_BACKEND: whoosh (the default) or postgres, which needs a PostgreSQL DATABASE_URL."""
    name = os.environ.get("SEARCH_BACKEND", "").strip().lower() or "whoosh"
    if name not in SEARCH_BACKENDS:
        raise ValueError(f"SEARCH_BACKEND={name!r} is not known: use one of {', '.join(SEARCH_BACKENDS)}")
    if name == "postgres" and not database_uri.startswith("postgresql"):
        raise ValueError(
            "SEARCH_BACKEND=postgres searches with PostgreSQL's full-text search, so it needs "
            "DATABASE_URL=postgresql://...; use SEARCH_BACKEND=whoosh with SQLite"
        )
    return name


def secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one created once in instance/secret_key (mode 0600)."""
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    path = instance_path / "secret_key"
    if not path.exists():
        make_private_dir(instance_path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def base_url() -> str:
    """CONSULT_BASE_URL without a trailing slash: where the site is served; every link in a mail starts with it."""
    url = (os.environ.get("CONSULT_BASE_URL") or "http://127.0.0.1:5000").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"CONSULT_BASE_URL must be an http(s) URL like https://consult.example.eu, not {url!r}")
    return url


def trusted_hosts(base: str) -> list[str]:
    """CONSULT_TRUSTED_HOSTS (comma-separated), else the base URL's host, localhost and 127.0.0.1."""
    configured = [h.strip() for h in os.environ.get("CONSULT_TRUSTED_HOSTS", "").split(",") if h.strip()]
    if configured:
        return configured
    return list(dict.fromkeys([urlsplit(base).hostname, "localhost", "127.0.0.1"]))


def make_private_dir(path: Path) -> Path:
    """Create a folder readable only by its owner (0700); tighten one that this app created with looser modes."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
        path.chmod(0o700)
    return path


# Rate limits (consult/throttle.py): CONSULT_<NAME>_LIMIT attempts per CONSULT_<NAME>_WINDOW seconds, and
# CONSULT_<NAME>_SLOW_AFTER; unset values keep the defaults written where each limit is used.
RATE_LIMITS = (
    "SIGNIN_ACCOUNT",
    "SIGNIN_IP",
    "RESET_ACCOUNT",
    "RESET_IP",
    "COMMENT",
    "REGISTER_ACCOUNT",
    "REGISTER_IP",
    "REPORT",
    "PASSWORD_CHECK",
)


def rate_limit_settings() -> dict:
    """The rate-limit settings present in the environment, as integers."""
    settings = {}
    for name in RATE_LIMITS:
        for suffix in ("LIMIT", "WINDOW", "SLOW_AFTER"):
            key = f"CONSULT_{name}_{suffix}"
            if os.environ.get(key, "").strip():
                settings[key] = int(os.environ[key])
    return settings


def load_config() -> dict:
    """All settings as a dict for app.config."""
    instance_path = Path(os.environ.get("CONSULT_INSTANCE_PATH") or REPO_ROOT / "instance").resolve()
    make_private_dir(instance_path)
    base = base_url()
    remember_days = _int("CONSULT_REMEMBER_DAYS", 14)
    database_uri = database_url(instance_path)
    return {
        "INSTANCE_PATH": str(instance_path),
        "SECRET_KEY": secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "SEARCH_BACKEND": search_backend(database_uri),
        "SEARCH_INDEX_DIR": os.environ.get("SEARCH_INDEX_DIR") or str(instance_path / "index"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": _int("MAIL_PORT", 25),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "consult@localhost"),
        "MAIL_OUTBOX_DIR": str(instance_path / "outbox"),
        "PAGE_CACHE_DIR": str(instance_path / "page-cache"),  # rendered text of published versions (fragments.py)
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE"),
        # The cookie lives as long as the server keeps a remembered session (it ended them after 14 days while
        # the cookie, at Flask-Login's default, lived 365).
        "REMEMBER_COOKIE_DURATION": timedelta(days=remember_days),
        "CONSULT_BASE_URL": base,
        "TRUSTED_HOSTS": trusted_hosts(base),
        "CONSULT_TRUSTED_PROXIES": _int("CONSULT_TRUSTED_PROXIES", 0),
        "PREFER_HTTPS": _flag("PREFER_HTTPS"),
        # A draft may be up to 5 MB; a form carries it twice at most (preview, then confirm).
        "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "CONSULT_LANGUAGES": ["en", "fr"],
        "CONSULT_AUTO_APPROVE": _flag("CONSULT_AUTO_APPROVE"),
        "CONSULT_PAGE_SIZE": _int("CONSULT_PAGE_SIZE", 50),
        "CONSULT_OPEN_DATA_LICENCE": os.environ.get("CONSULT_OPEN_DATA_LICENCE", "").strip() or "CC-BY-4.0",
        "CONSULT_SESSION_IDLE_MINUTES": _int("CONSULT_SESSION_IDLE_MINUTES", 60),
        "CONSULT_SESSION_ABSOLUTE_HOURS": _int("CONSULT_SESSION_ABSOLUTE_HOURS", 12),
        "CONSULT_REMEMBER_DAYS": remember_days,
        "CONSULT_RESET_TOKEN_MINUTES": _int("CONSULT_RESET_TOKEN_MINUTES", 60),
        "CONSULT_SEARCH_DRAIN_AFTER_REQUEST": _flag("CONSULT_SEARCH_DRAIN_AFTER_REQUEST", "1"),
        "CONSULT_SEARCH_DRAIN_DELAY_MS": _int("CONSULT_SEARCH_DRAIN_DELAY_MS", 200),
        "CONSULT_SEARCH_FASTPATH": _flag("CONSULT_SEARCH_FASTPATH", "1"),
        "CONSULT_MAIL_DELIVER_AFTER_REQUEST": _flag("CONSULT_MAIL_DELIVER_AFTER_REQUEST", "1"),
        "CONSULT_SIGNIN_DELAY_SECONDS": float(os.environ.get("CONSULT_SIGNIN_DELAY_SECONDS", 1)),
        **rate_limit_settings(),
    }
