"""Error pages: HTML for pages, JSON under /api/."""

from flask import Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError

from ..search import IndexUnavailable

# A rebuild of the search index takes from seconds to about five minutes (100,000 comments).
SEARCH_RETRY_AFTER_SECONDS = 120


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def register(app) -> None:
    """Install handlers for HTTP errors and CSRF failures."""

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        message = _("Your form expired or was sent from elsewhere. Please go back, reload the page and try again.")
        if _wants_json():
            return jsonify(error=message), 400
        return render_template("errors/error.html", code=400, title=_("Form not accepted"), message=message), 400

    @app.errorhandler(SecurityError)
    def untrusted_host(exc):
        # Raised before routing (the Host header is not one of ours), so no URL can be built for a page.
        return Response(
            "Bad request: this site does not answer to that host name.\n", status=400, mimetype="text/plain"
        )

    @app.errorhandler(HTTPException)
    def http_error(exc):
        titles = {
            400: _("Bad request"),
            401: _("Sign in needed"),
            403: _("Not allowed"),
            404: _("Page not found"),
            405: _("Method not allowed"),
            413: _("File too large"),
            429: _("Too many requests"),
        }
        title = titles.get(exc.code, exc.name)
        message = {
            401: _("Sign in to see this."),
            403: _("You do not have permission to see this page."),
            404: _("There is nothing at this address. Check it, or start again from the home page."),
            413: _("The upload is larger than the site accepts (drafts may be up to 5 MB)."),
            429: _("You have done this too often in a short time. Please wait a little and try again."),
        }.get(exc.code, exc.description)
        if _wants_json():
            return jsonify(error=message), exc.code
        return render_template("errors/error.html", code=exc.code, title=title, message=message), exc.code

    @app.errorhandler(IndexUnavailable)
    def search_unavailable(exc):
        # Never rebuilt inside a request: the drainer or `flask search reindex` rebuilds it meanwhile.
        message = _("Search is being rebuilt; try again in a few minutes.")
        headers = {"Retry-After": str(SEARCH_RETRY_AFTER_SECONDS)}
        if _wants_json():
            return jsonify(error=message), 503, headers
        return (
            render_template("errors/error.html", code=503, title=_("Search is being rebuilt"), message=message),
            503,
            headers,
        )

    @app.errorhandler(500)
    def server_error(exc):
        message = _("Something went wrong on our side. Nothing you sent was lost; please try again.")
        if _wants_json():
            return jsonify(error=message), 500
        return render_template("errors/error.html", code=500, title=_("Server error"), message=message), 500
