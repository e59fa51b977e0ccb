"""The JSON API: ``POST /translate``."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request

from utils.validation import parse_translate_request

bp = Blueprint("api", __name__)


@bp.post("/translate")
def translate() -> Response:
    """Translate ``text`` (a string or a list of strings) from Chinese into English."""
    settings = current_app.extensions["settings"]
    translator = current_app.extensions["translator"]
    req = parse_translate_request(request.mimetype, request.get_data(cache=False), settings)
    no_cache = "no-cache" in request.headers.get("Cache-Control", "").lower()
    results, g.stats = translator.translate(req.texts, req.options, use_cache=not no_cache)
    return jsonify(success=True, result=results if req.is_list else results[0])
