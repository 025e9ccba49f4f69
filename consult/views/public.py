"""Home, privacy notice and the language switch."""

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for

from ..services import documents as document_service
from ..web import safe_next

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    return render_template("public/home.html", documents=document_service.list_documents())


@bp.get("/privacy")
def privacy():
    return render_template("public/privacy.html")


@bp.post("/language")
def set_language():
    lang = request.form.get("lang", "")
    if lang not in current_app.config["CONSULT_LANGUAGES"]:
        abort(400)
    session["lang"] = lang
    return redirect(safe_next(request.form.get("next"), url_for("public.home")))
