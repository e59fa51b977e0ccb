"""``GET /openapi.json``: a valid OpenAPI 3.1 document that covers every API route."""

from __future__ import annotations

import re

from openapi_spec_validator import validate
from openapi_spec_validator.versions.shortcuts import get_spec_version

# Not part of the API: the page, static files and DeepL's catch-alls for unknown paths.
_NOT_API = {"/", "/docs", "/static/<path:filename>", "/v2/<path:rest>"}


def test_spec_is_valid_openapi_31(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    spec = response.get_json()
    validate(spec)
    assert str(get_spec_version(spec)).endswith("3.1")
    assert spec["info"]["version"] == client.application.config["VERSION"]


def test_spec_describes_every_route_with_its_methods(client):
    spec = client.get("/openapi.json").get_json()
    documented = {path: set(item) for path, item in spec["paths"].items()}
    for rule in client.application.url_map.iter_rules():
        if rule.rule in _NOT_API or "<" in rule.rule:
            continue
        methods = {m.lower() for m in rule.methods or ()} - {"head", "options"}
        assert rule.rule in documented, rule.rule
        if rule.rule != "/v2/translate":  # GET with a query string: legacy, not advertised
            assert methods <= documented[rule.rule], rule.rule


def test_spec_limits_are_the_settings(app):
    spec = app.test_client().get("/openapi.json").get_json()
    native = spec["components"]["schemas"]["TranslateRequest"]["properties"]["text"]["oneOf"]
    settings = app.extensions["settings"]
    assert native[0]["maxLength"] == settings.max_chars
    assert native[1]["maxItems"] == settings.max_batch_items


def test_every_reference_resolves(client):
    spec = client.get("/openapi.json").get_json()
    text = str(spec)
    for name in set(re.findall(r"#/components/schemas/(\w+)", text)):
        assert name in spec["components"]["schemas"], name
