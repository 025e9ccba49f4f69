"""Consult: public consultation on draft codes of practice."""

from __future__ import annotations

from flask import Flask, has_request_context, request, session

from .config import REPO_ROOT, load_config
from .extensions import babel, csrf, db, login_manager, migrate


def select_locale() -> str:
    """The language chosen with the header switch, else the browser's preference."""
    from flask import current_app

    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["CONSULT_LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, CLI and template helpers."""
    app = Flask(__name__, template_folder=str(REPO_ROOT / "templates"), static_folder=str(REPO_ROOT / "static"))
    app.config.update(load_config())
    if config:
        app.config.update(config)
    app.instance_path = app.config["INSTANCE_PATH"]
    proxies = int(app.config.get("CONSULT_TRUSTED_PROXIES") or 0)
    if proxies > 0:
        # Only that many X-Forwarded-* hops are believed (the ones our own proxies add); with 0 they are ignored,
        # so a client cannot choose the address its rate limits are counted under.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(REPO_ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories=str(REPO_ROOT / "consult" / "translations")
    )
    login_manager.init_app(app)

    from . import models  # noqa: F401  (registers the tables)
    from .cli import register_cli
    from .database import configure_engine
    from .params import install as install_converters
    from .search.outbox import install as install_search_outbox
    from .views import register_blueprints
    from .web import register_web_helpers

    with app.app_context():
        configure_engine(db.engine)
    install_search_outbox()  # every change to a searchable row writes its outbox row in the same transaction
    register_web_helpers(app)
    install_converters(app)
    register_blueprints(app)
    register_cli(app)
    from .search import check_fastpath

    check_fastpath(app)
    if app.config["CONSULT_SEARCH_DRAIN_AFTER_REQUEST"]:
        # Off on app servers when one index host runs `flask search drain` on its own.
        from .search import install_drain_hook

        install_drain_hook(app)
    if app.config["CONSULT_MAIL_DELIVER_AFTER_REQUEST"]:
        # Off when a separate worker runs `flask mail deliver`.
        from .services.mailqueue import install_deliver_hook

        install_deliver_hook(app)
    return app
