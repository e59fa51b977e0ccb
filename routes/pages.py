"""The two-pane translation page."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> str:
    """Render the page: Chinese on the left, English on the right."""
    settings = current_app.extensions["settings"]
    translator = current_app.extensions["translator"]
    return render_template(
        "index.html",
        max_chars=settings.max_chars,
        model_id=translator.model_id,
        version=current_app.config["VERSION"],
    )
