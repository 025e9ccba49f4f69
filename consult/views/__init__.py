"""One blueprint per area."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint and the error handlers."""
    from . import (
        analysis,
        api,
        auth,
        comments,
        documents,
        errors,
        lineage,
        moderation,
        notifications,
        public,
        public_comments,
        review,
        search,
        settings,
        word,
    )

    app.register_blueprint(public.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(moderation.bp)
    app.register_blueprint(lineage.bp)
    app.register_blueprint(comments.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(public_comments.bp)
    app.register_blueprint(word.bp)
    app.register_blueprint(settings.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(analysis.bp)
    errors.register(app)
