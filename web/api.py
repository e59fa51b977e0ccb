"""The JSON API: ``POST /translate``."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request

from serving.formatted import translate_formatted
from serving.glossary import TermMatcher
from text.markup import MarkupOptions
from web import libretranslate
from web.context import get_registry, get_settings
from web.parsing import parse_translate_request

bp = Blueprint("api", __name__)


@bp.post("/translate")
def translate() -> Response:
    """Translate ``text`` (a string or a list of strings) from ``source`` into ``target``."""
    if libretranslate.wants_libretranslate(request):  # LibreTranslate's body: ``q``, no ``text``
        return libretranslate.translate_response()
    req = parse_translate_request(request.mimetype, request.get_data(cache=False), get_settings())
    translator = get_registry().get(req.source, req.target)
    no_cache = "no-cache" in request.headers.get("Cache-Control", "").lower()
    markup = None if req.format == "text" else MarkupOptions(xml=req.format == "xml")
    glossary = None if req.glossary is None else TermMatcher(req.glossary)
    done = translate_formatted(
        translator, req.texts, markup, glossary, req.options, use_cache=not no_cache
    )
    g.stats, results = done.stats, done.texts
    body = {"success": True, "result": results if req.is_list else results[0]}
    if glossary is not None:  # the terms found but not written verbatim (serving/glossary.py)
        body["glossary_unapplied"] = done.unapplied
    return jsonify(body)
