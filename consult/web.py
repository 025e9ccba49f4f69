"""Request-wide helpers: the session loader, security headers and template globals."""
from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, url_for
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _

from markupsafe import Markup

from . import permissions, vocabulary
from .extensions import login_manager


def csp_policy() -> str:
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
            "connect-src 'self'; form-action 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def set_security_headers(response):
    """Strict CSP and friends on every response."""
    response.headers.setdefault("Content-Security-Policy", csp_policy())
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config.get("PREFER_HTTPS"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def time_tag(value: datetime | None, fmt: str = "medium") -> Markup:
    """A <time> element in UTC, formatted for the reader's language, with the zone named."""
    if value is None:
        return Markup("")
    iso = value.strftime("%Y-%m-%dT%H:%M:%SZ")
    shown = format_datetime(value, "d MMMM y, HH:mm" if fmt == "medium" else fmt)
    return Markup('<time datetime="{}">{} UTC</time>').format(iso, shown)


def clause_label(clause) -> str:
    """The heading, prefixed with the number only when the heading does not already say it; a general comment's
    missing clause reads as the whole version."""
    if clause is None:
        return _("the whole version (general comment)")
    number, heading = clause.number or "", clause.heading or ""
    if not number or number == "0" or number in heading:  # "0" is the preamble's
        return heading
    return f"{number} {heading}"


def comment_place_url(comment, **kwargs) -> str:
    """Where a comment sits: its clause's page, or the version's page for a general comment."""
    version = comment.version
    if comment.clause_id is None:
        return url_for("documents.version", slug=version.document.slug, number=version.number, **kwargs)
    return url_for("documents.clause", slug=version.document.slug, number=version.number, key=comment.clause.key,
                   **kwargs)


def proposed_redline(comment) -> str:
    """The comment's proposed wording as a word-level redline against the clause's text (escaped by redline.py)."""
    from .redline import diff_words, render_html

    return render_html(diff_words(comment.clause.body if comment.clause is not None else "",
                                  comment.proposed_wording or ""))


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
    app.jinja_env.globals["proposed_redline"] = proposed_redline
    app.jinja_env.globals["comment_place_url"] = comment_place_url


def safe_next(target: str | None, default: str) -> str:
    """A redirect target only if it is a path on this site; otherwise `default`."""
    target = (target or "").strip()
    if target.startswith("/") and not target.startswith(("//", "/\\")) and "\n" not in target and "\r" not in target:
        return target
    return default


def renew_session() -> None:
    """Start a fresh cookie session at sign-in (keeping only the language choice), against fixation."""
    from flask import session

    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
