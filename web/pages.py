"""The pages: the two-pane translation page and the API documentation."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, render_template

from web.context import get_registry, get_settings
from web.files import file_formats

logger = logging.getLogger(__name__)

bp = Blueprint("pages", __name__)

DEMO_PREFIX = "demo-"


def served_directions() -> list[dict[str, Any]]:
    """Each served direction for the page's selector, the default one first."""
    out = []
    for translator in get_registry():
        direction = translator.direction
        out.append(
            {
                "key": direction.key,
                "source": direction.source.code,
                "target": direction.target.code,
                "source_name": direction.source.name,
                "target_name": direction.target.name,
            }
        )
    return out


def _is_demo(model_id: str, directory: str) -> bool:
    # The directory's name too: before the model has loaded, its id is its path.
    return model_id.startswith(DEMO_PREFIX) or directory.startswith(DEMO_PREFIX)


@bp.get("/")
def index() -> str:
    """Render the page: the source text on the left, the translation on the right."""
    settings = get_settings()
    model_id = get_registry().default.model_id
    return render_template(
        "index.html",
        max_chars=settings.max_chars,
        model_id=model_id,
        version=current_app.config["VERSION"],
        directions=served_directions(),
        # The shipped demo model is small; the page says so (and where to find better).
        demo_model=any(_is_demo(t.model_id, t.model_path.name) for t in get_registry()),
        max_file_bytes=settings.max_file_bytes,
        file_formats=file_formats(),
    )


@bp.get("/docs")
def docs() -> str:
    """The API documentation, rendered in the browser from ``/openapi.json``."""
    return render_template("docs.html", version=current_app.config["VERSION"])
