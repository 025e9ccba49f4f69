"""Settings, read only here, from the environment."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

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
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one created once in instance/secret_key (mode 0600)."""
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


# Rate limits (consult/throttle.py): CONSULT_<NAME>_LIMIT attempts per CONSULT_<NAME>_WINDOW seconds, and
# CONSULT_<NAME>_SLOW_AFTER; unset values keep the defaults written where each limit is used.
RATE_LIMITS = ("SIGNIN_ACCOUNT", "SIGNIN_IP", "RESET_ACCOUNT", "RESET_IP", "COMMENT")


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
    instance_path.mkdir(parents=True, exist_ok=True)
    return {
        "INSTANCE_PATH": str(instance_path),
        "SECRET_KEY": secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url(instance_path),
        "SEARCH_INDEX_DIR": os.environ.get("SEARCH_INDEX_DIR") or str(instance_path / "index"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": _int("MAIL_PORT", 25),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "consult@localhost"),
        "MAIL_OUTBOX_DIR": str(instance_path / "outbox"),
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE"),
        "PREFER_HTTPS": _flag("PREFER_HTTPS"),
        # A draft may be up to 5 MB; a form carries it twice at most (preview, then confirm).
        "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "CONSULT_LANGUAGES": ["en", "fr"],
        "CONSULT_AUTO_APPROVE": _flag("CONSULT_AUTO_APPROVE"),
        "CONSULT_PAGE_SIZE": _int("CONSULT_PAGE_SIZE", 50),
        "CONSULT_SESSION_IDLE_MINUTES": _int("CONSULT_SESSION_IDLE_MINUTES", 60),
        "CONSULT_SESSION_ABSOLUTE_HOURS": _int("CONSULT_SESSION_ABSOLUTE_HOURS", 12),
        "CONSULT_REMEMBER_DAYS": _int("CONSULT_REMEMBER_DAYS", 14),
        "CONSULT_RESET_TOKEN_MINUTES": _int("CONSULT_RESET_TOKEN_MINUTES", 60),
        "CONSULT_SEARCH_DRAIN_AFTER_REQUEST": _flag("CONSULT_SEARCH_DRAIN_AFTER_REQUEST", "1"),
        "CONSULT_MAIL_DELIVER_AFTER_REQUEST": _flag("CONSULT_MAIL_DELIVER_AFTER_REQUEST", "1"),
        "CONSULT_SIGNIN_DELAY_SECONDS": float(os.environ.get("CONSULT_SIGNIN_DELAY_SECONDS", 1)),
        **rate_limit_settings(),
    }
