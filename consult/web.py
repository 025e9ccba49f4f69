"""Request-wide helpers: the session loader, security headers and template globals."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from flask import Flask, current_app, url_for
from flask_babel import format_datetime, get_locale
from markupsafe import Markup

from . import permissions, vocabulary
from .extensions import login_manager
from .labels import clause_label, clause_number, version_name


def csp_policy() -> str:
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; form-action 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )


def set_security_headers(response):
    """Strict CSP and friends on every response."""
    response.headers.setdefault("Content-Security-Policy", csp_policy())
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config.get("PREFER_HTTPS"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if _private_response():
        response.headers["Cache-Control"] = "no-store"
        response.vary.add("Cookie")
    return response


def _private_response() -> bool:
    """Whether a response may hold private data, so that no browser or proxy cache keeps it: everything a
    signed-in reader gets (their confidential comments, the review and its exports, My contributions, moderation,
    the account page) and the auth pages (links with tokens), but not static files."""
    from flask import request
    from flask_login import current_user

    if request.endpoint == "static":
        return False
    return request.blueprint == "auth" or bool(getattr(current_user, "is_authenticated", False))


def time_tag(value: datetime | None, fmt: str = "medium") -> Markup:
    """A <time> element in UTC, formatted for the reader's language, with the zone named."""
    if value is None:
        return Markup("")
    iso = value.strftime("%Y-%m-%dT%H:%M:%SZ")
    pattern = "d MMMM y, HH:mm" if fmt == "medium" else fmt
    if value.day == 1 and str(get_locale() or "").startswith("fr"):
        pattern = re.sub(r"(?<![d'])d(?!d)", "d'er'", pattern, count=1)  # French writes the first "1er": 1er décembre
    shown = format_datetime(value, pattern)
    return Markup('<time datetime="{}">{} UTC</time>').format(iso, shown)


def comment_place_url(comment, **kwargs) -> str:
    """Where a comment sits: its clause's page, or the version's page for a general comment."""
    version = comment.version
    if comment.clause_id is None:
        return url_for("documents.version", slug=version.document.slug, number=version.number, **kwargs)
    return url_for(
        "documents.clause", slug=version.document.slug, number=version.number, key=comment.clause.key, **kwargs
    )


def proposed_redline(comment) -> str:
    """The comment's proposed wording as a redline of the rendered text against the clause's body (escaped by
    redline.py); the same renderer as the version redline and the clause history."""
    from flask_babel import gettext

    from .redline import render_markdown_redline

    return render_markdown_redline(
        comment.clause.body if comment.clause is not None else "",
        comment.proposed_wording or "",
        format_note=gettext("formatting changed"),
    )


def register_web_helpers(app: Flask) -> None:
    """Wire the session loader, headers and template globals into the app."""
    from .services.accounts import load_session_user

    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = None
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_session_user)

    app.after_request(set_security_headers)

    @app.context_processor
    def template_globals():
        return {
            "can": permissions,
            "vocab": vocabulary,
            "current_locale": str(get_locale() or "en"),
        }

    app.jinja_env.filters["time_tag"] = time_tag
    app.jinja_env.filters["clause_label"] = clause_label
    app.jinja_env.filters["version_name"] = version_name
    app.jinja_env.filters["clause_number"] = clause_number
    app.jinja_env.globals["proposed_redline"] = proposed_redline
    app.jinja_env.globals["comment_place_url"] = comment_place_url
    app.jinja_env.globals["download_url"] = download_url


def external_url(endpoint: str, **values) -> str:
    """An absolute URL for a link that leaves the site (mail, a link to pass on), built from CONSULT_BASE_URL.

    Never from the request: its Host header is the sender's to choose (a reset mail once carried
    http://evil.example/auth/reset/<token>). Works outside requests too (the CLI, a mail worker)."""
    parts = urlsplit(current_app.config["CONSULT_BASE_URL"])
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme)
    return adapter.build(endpoint, values, force_external=True)


def download_url(endpoint: str, **values) -> str:
    """The link to a binary download (a Word file): absolute, at the deployment's address (CONSULT_BASE_URL), as
    mail links are. A copied link names the canonical site, and a link checker or crawler that walks the pages
    under another host name reads pages only, never a binary file it would take for one."""
    return external_url(endpoint, **values)


# What a browser ignores or rewrites when it reads a URL (WHATWG URL standard): it strips leading and trailing
# C0 controls and spaces, removes every tab and newline, and reads "\" as "/". "/\t/evil.example" is therefore
# "//evil.example" to it, another site. A target holding any of these is refused outright.
_URL_TRICKS = re.compile(r"[\x00-\x20\x7f\\]")


def safe_next(target: str | None, default: str) -> str:
    """A redirect target only if a browser would read it as a path on this site; otherwise `default`."""
    target = target or ""
    if _URL_TRICKS.search(target) or not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def renew_session() -> None:
    """Start a fresh cookie session at sign-in (keeping only the language choice), against fixation."""
    from flask import session

    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
