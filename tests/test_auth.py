"""Optional API keys on every API route, /metrics behind a token, and CORS."""

from __future__ import annotations

import pytest

from config import SettingsError
from toolchain import keys as keys_tool
from web.auth import hash_key, parse_key_line

ALICE, BOB = "alice-secret-key", "bob-secret-key"
ALICE_LINE = f"{hash_key(ALICE)} alice rate=60/minute chars=100000/day"


@pytest.fixture
def keyed(make_client, tmp_path):
    """Keys on: alice from a key file, bob from the api_keys setting."""
    path = tmp_path / "keys.txt"
    path.write_text(f"# the service's keys\n\n{ALICE_LINE}\n", encoding="utf-8")
    return make_client(api_keys_file=str(path), api_keys=[f"{hash_key(BOB)} bob"])


NATIVE = ("/translate", {"text": "大。"})
LIBRE = ("/translate", {"q": "大。", "source": "zh", "target": "en"})
DEEPL = ("/v2/translate", {"text": ["大。"], "target_lang": "EN"})


# --- keys off ------------------------------------------------------------------------


def test_without_keys_every_route_is_open(make_client):
    client = make_client()
    for path, body in (NATIVE, LIBRE, DEEPL):
        assert client.post(path, json=body).status_code == 200
    assert client.post("/detect", json={"q": "大"}).status_code == 200


# --- keys on -------------------------------------------------------------------------


def test_native_api_needs_a_key_401(keyed):
    response = keyed.post("/translate", json={"text": "大。"})
    assert response.status_code == 401
    body = response.get_json()
    assert body["success"] is False
    assert body["error"]["code"] == "unauthorized"
    assert "API key is required" in body["error"]["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = keyed.post("/translate", json={"text": "大。"}, headers={"X-API-Key": "nope"})
    assert wrong.status_code == 401
    assert wrong.get_json()["error"]["message"] == "The API key is not valid."


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {ALICE}"},
        {"Authorization": f"bearer   {BOB}"},
        {"X-API-Key": ALICE},
        {"Authorization": f"DeepL-Auth-Key {BOB}"},
    ],
)
def test_native_api_accepts_a_key_in_a_header(keyed, headers):
    response = keyed.post("/translate", json={"text": "大。"}, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert keyed.post("/translate?api_key=" + ALICE, json={"text": "大。"}).status_code == 200


def test_libretranslate_needs_a_key_403_and_reads_it_from_the_body(keyed):
    path, body = LIBRE
    refused = keyed.post(path, json=body)
    assert refused.status_code == 403
    assert set(refused.get_json()) == {"error"}
    assert keyed.post(path, json={**body, "api_key": "wrong"}).status_code == 403
    assert keyed.post(path, json={**body, "api_key": ALICE}).status_code == 200
    form = {"q": "大。", "source": "zh", "target": "en", "api_key": BOB}
    assert keyed.post(path, data=form).status_code == 200
    assert keyed.post(path, data={**form, "api_key": "x"}).status_code == 403
    detect = keyed.post("/detect", data={"q": "大"})
    assert detect.status_code == 403 and "error" in detect.get_json()
    assert keyed.post("/detect", data={"q": "大", "api_key": ALICE}).status_code == 200
    assert keyed.post("/translate_file", data={"api_key": "x"}).status_code == 403
    assert keyed.post("/translate_file", data={"api_key": ALICE}).status_code != 403


def test_deepl_needs_a_key_403(keyed):
    path, body = DEEPL
    refused = keyed.post(path, json=body)
    assert refused.status_code == 403
    assert set(refused.get_json()) == {"message"}
    wrong = keyed.post(path, json=body, headers={"Authorization": "DeepL-Auth-Key nope"})
    assert wrong.status_code == 403
    ok = keyed.post(path, json=body, headers={"Authorization": f"DeepL-Auth-Key {ALICE}"})
    assert ok.status_code == 200
    assert (
        keyed.post(path, data={"text": "大。", "target_lang": "EN", "auth_key": BOB}).status_code
        == 200
    )
    for route in ("/v2/usage", "/v2/languages", "/v2/glossaries"):
        assert keyed.get(route).status_code == 403, route
        assert (
            keyed.get(route, headers={"Authorization": f"DeepL-Auth-Key {BOB}"}).status_code == 200
        )


def test_probes_the_page_and_listings_need_no_key(keyed):
    for route in ("/healthz", "/readyz", "/metrics", "/", "/languages", "/openapi.json"):
        assert keyed.get(route).status_code == 200, route


def test_a_preflight_needs_no_key(keyed):
    assert keyed.options("/translate").status_code == 204


def test_keys_come_from_the_environment(make_client, monkeypatch):
    monkeypatch.setenv("TRANSLATOR_API_KEYS", f"{hash_key('env-key')} ops")
    client = make_client()
    assert client.post("/translate", json={"text": "大。"}).status_code == 401
    ok = client.post("/translate", json={"text": "大。"}, headers={"X-API-Key": "env-key"})
    assert ok.status_code == 200


def test_an_empty_key_file_refuses_everything(make_client, tmp_path):
    path = tmp_path / "keys.txt"
    path.write_text("# nobody yet\n", encoding="utf-8")
    client = make_client(api_keys_file=str(path))
    response = client.post("/translate", json={"text": "大。"}, headers={"X-API-Key": "x"})
    assert response.status_code == 401


def test_a_plain_key_in_the_file_stops_startup(make_client, tmp_path):
    path = tmp_path / "keys.txt"
    path.write_text("not-a-digest alice\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"keys.txt:1: .*SHA-256 hex digest"):
        make_client(api_keys_file=str(path))
    with pytest.raises(SettingsError, match="cannot read api_keys_file"):
        make_client(api_keys_file=str(tmp_path / "missing.txt"))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (f"{hash_key('k')} a b", "more than one name"),
        (f"{hash_key('k')} a burst=3", "unknown field 'burst'"),
        (f"{hash_key('k')} a rate=lots", "not a limit"),
    ],
)
def test_malformed_key_lines_are_named(line, message):
    with pytest.raises(SettingsError, match=message):
        parse_key_line(line, "keys.txt:3")


def test_key_lines_parse_names_and_quotas():
    key = parse_key_line(ALICE_LINE + "  # comment", "x")
    assert key is not None
    assert (key.digest, key.name, key.rate, key.chars) == (
        hash_key(ALICE),
        "alice",
        "60/minute",
        "100000/day",
    )
    unnamed = parse_key_line(hash_key("k").upper(), "x")
    assert unnamed is not None and unnamed.name == hash_key("k")[:12]
    assert parse_key_line("   # only a comment", "x") is None


def test_the_keys_tool_prints_the_line(capsys):
    assert keys_tool.main([ALICE, "--name", "alice", "--rate", "60/minute"]) == 0
    assert capsys.readouterr().out.strip() == f"{hash_key(ALICE)} alice rate=60/minute"
    assert keys_tool.main(["--new", "--name", "n"]) == 0
    captured = capsys.readouterr()
    made = captured.err.strip().rsplit(" ", 1)[-1]
    assert captured.out.strip() == f"{hash_key(made)} n"
    assert keys_tool.main(["k", "--chars", "many"]) == 2


# --- /metrics -----------------------------------------------------------------------


def test_metrics_behind_a_token(make_client):
    client = make_client(metrics_token="s3cret")
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "unauthorized"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"X-API-Key": "s3cret"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200
    assert b"# TYPE" in ok.data
    assert client.get("/healthz").status_code == 200  # the probes stay open


def test_metrics_open_without_a_token(make_client):
    assert make_client().get("/metrics").status_code == 200


# --- CORS ---------------------------------------------------------------------------

PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


def test_no_cors_headers_by_default(make_client):
    client = make_client()
    response = client.options("/translate", headers={"Origin": "https://a.example", **PREFLIGHT})
    assert "Access-Control-Allow-Origin" not in response.headers
    response = client.post(
        "/translate", json={"text": "大。"}, headers={"Origin": "https://a.example"}
    )
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_allow_list(make_client):
    client = make_client(cors_origins=["https://a.example", "https://b.example/"])
    preflight = client.options("/translate", headers={"Origin": "https://a.example", **PREFLIGHT})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://a.example"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert "Origin" in preflight.headers["Vary"]
    actual = client.post(
        "/translate", json={"text": "大。"}, headers={"Origin": "https://b.example"}
    )
    assert actual.headers["Access-Control-Allow-Origin"] == "https://b.example"
    assert "Retry-After" in actual.headers["Access-Control-Expose-Headers"]
    other = client.options("/translate", headers={"Origin": "https://evil.example", **PREFLIGHT})
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "Access-Control-Allow-Methods" not in other.headers


def test_cors_any_origin(make_client):
    client = make_client(cors_origins="*")
    response = client.options("/v2/translate", headers={"Origin": "https://x.example", **PREFLIGHT})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]


def test_cors_preflight_with_keys_on_needs_no_key(make_client):
    client = make_client(cors_origins=["https://a.example"], api_keys=[f"{hash_key(ALICE)} alice"])
    response = client.options("/translate", headers={"Origin": "https://a.example", **PREFLIGHT})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "https://a.example"
    refused = client.post(
        "/translate", json={"text": "大。"}, headers={"Origin": "https://a.example"}
    )
    assert refused.status_code == 401
    assert refused.headers["Access-Control-Allow-Origin"] == "https://a.example"  # readable


def test_forwarded_for_names_the_client_behind_trusted_proxies(make_client):
    client = make_client(trusted_proxy_hops=1, rate_limit="1/minute")
    one = {"X-Forwarded-For": "203.0.113.7"}
    assert client.post("/translate", json={"text": "大。"}, headers=one).status_code == 200
    assert client.post("/translate", json={"text": "大。"}, headers=one).status_code == 429
    two = {"X-Forwarded-For": "203.0.113.8"}
    assert client.post("/translate", json={"text": "大。"}, headers=two).status_code == 200
