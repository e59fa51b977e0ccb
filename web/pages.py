"""The two-pane translation page."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from web.context import get_registry, get_settings

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> str:
    """Render the page: the source text on the left, the translation on the right."""
    return render_template(
        "index.html",
        max_chars=get_settings().max_chars,
        model_id=get_registry().default.model_id,
        version=current_app.config["VERSION"],
    )
