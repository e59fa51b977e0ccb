"""Rate limits and character quotas (Flask-Limiter), in memory and in a real redis-server.

The redis tests start their own ``redis-server`` on a free loopback port, with nothing
saved to disk, and skip when the binary is missing. Two apps on one redis are two
replicas sharing the counters.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator

import pytest
from helpers import wait_until

from web.auth import hash_key

ALICE, BOB = "alice-key", "bob-key"
KEYS = [f"{hash_key(ALICE)} alice rate=2/minute", f"{hash_key(BOB)} bob chars=4/day"]


def native(client, text: str = "大。", addr: str = "10.0.0.1", **headers):
    return client.post(
        "/translate", json={"text": text}, headers=headers, environ_base={"REMOTE_ADDR": addr}
    )


def libre(client, text: str = "大。", addr: str = "10.0.0.1"):
    body = {"q": text, "source": "zh", "target": "en"}
    return client.post("/translate", json=body, environ_base={"REMOTE_ADDR": addr})


def deepl(client, text: str = "大。", addr: str = "10.0.0.1"):
    body = {"text": [text], "target_lang": "EN"}
    return client.post("/v2/translate", json=body, environ_base={"REMOTE_ADDR": addr})


def retry_after(response) -> int:
    value = int(response.headers["Retry-After"])
    assert 1 <= value <= 86400
    return value


# --- memory:// ----------------------------------------------------------------------


def test_no_limits_by_default(make_client):
    client = make_client()
    assert all(native(client).status_code == 200 for _ in range(30))


def test_rate_limit_per_address_in_each_apis_shape(make_client):
    client = make_client(rate_limit="3/minute")
    assert [native(client).status_code for _ in range(3)] == [200, 200, 200]
    refused = native(client)
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert "3 per minute" in refused.get_json()["error"]["message"]
    assert retry_after(refused) <= 60
    lt = libre(client)
    assert lt.status_code == 429 and set(lt.get_json()) == {"error"}
    retry_after(lt)
    dl = deepl(client)
    assert dl.status_code == 429 and set(dl.get_json()) == {"message"}
    retry_after(dl)
    assert native(client, addr="10.0.0.2").status_code == 200  # another address


def test_probes_and_the_page_are_exempt(make_client):
    client = make_client(rate_limit="1/minute")
    assert native(client).status_code == 200
    assert native(client).status_code == 429
    for _ in range(3):
        for route in ("/healthz", "/readyz", "/metrics", "/", "/languages"):
            assert client.get(route, environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200
    preflight = client.options("/translate", environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert preflight.status_code == 204


def test_limits_per_key_with_its_own_rate(make_client):
    keys = [KEYS[0], f"{hash_key(BOB)} bob"]
    client = make_client(api_keys=keys, rate_limit="5/minute")
    alice, bob = {"X-API-Key": ALICE}, {"X-API-Key": BOB}
    statuses = [native(client, addr=f"10.0.0.{n}", **alice).status_code for n in range(3)]
    assert statuses == [200, 200, 429]  # alice's 2/minute, whatever her address
    assert "this API key" in native(client, **alice).get_json()["error"]["message"]
    statuses = [native(client, "大", addr="10.0.0.1", **bob).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]  # bob has the default 5/minute


def test_characters_quota_counts_only_what_was_translated(make_client):
    client = make_client(chars_quota="10/day")
    assert native(client, "大小中。").status_code == 200  # 4 characters
    assert native(client, "{").status_code == 200  # no Chinese: answered, 1 character
    refused = native(client, "我你他她们是。")  # 7 > 5 left
    assert refused.status_code == 429
    error = refused.get_json()["error"]
    assert error["code"] == "quota_exceeded"
    assert "10 characters per day" in error["message"] and "has 7" in error["message"]
    assert retry_after(refused) > 60
    bad = client.post("/translate", json={"text": "大。", "nope": 1})
    assert bad.status_code == 400  # refused by the parser: costs nothing
    assert native(client, "我你他她。").status_code == 200  # exactly the 5 left
    assert native(client, "大。").status_code == 429
    assert native(client, "大。", addr="10.0.0.2").status_code == 200


def test_characters_quota_in_libretranslate_and_deepl(make_client):
    client = make_client(chars_quota="3/day")
    assert deepl(client, "大小。").status_code == 200
    over = deepl(client, "大小。")
    assert over.status_code == 456  # DeepL's "quota exceeded"
    assert "Character quota exceeded" in over.get_json()["message"]
    retry_after(over)
    lt = libre(client, "大小。")
    assert lt.status_code == 429 and "error" in lt.get_json()
    assert libre(client, "大。", addr="10.0.0.9").status_code == 200


def test_a_keys_own_characters_quota(make_client):
    client = make_client(api_keys=KEYS)
    bob = {"X-API-Key": BOB}
    assert native(client, "大小。", **bob).status_code == 200  # 3 of bob's 4
    assert native(client, "大小。", **bob).status_code == 429
    alice = {"X-API-Key": ALICE}
    assert native(client, "我你他她们是的了在。", **alice).status_code == 200  # no quota


def test_form_bodies_count_characters(make_client):
    client = make_client(chars_quota="4/day")
    form = {"text": ["大小。", "中。"], "target_lang": "EN"}
    assert client.post("/v2/translate", data=form).status_code == 456  # 5 > 4
    assert client.post("/v2/translate", data={**form, "text": ["大小。"]}).status_code == 200


# --- redis:// -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    import redis

    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    server = redis.Redis.from_url(url)

    def answers() -> bool:
        try:
            return bool(server.ping())
        except redis.ConnectionError:
            assert process.poll() is None, "redis-server exited"
            return False

    try:
        wait_until(answers, timeout=20, what="redis-server to answer")
        yield url
    finally:
        server.close()
        process.terminate()
        process.wait(10)


@pytest.fixture
def redis_storage(redis_url) -> str:
    import redis

    with redis.Redis.from_url(redis_url) as server:
        server.flushdb()  # each test starts from zero counters
    return redis_url


def test_replicas_share_the_rate_limit_in_redis(make_client, redis_storage):
    one = make_client(rate_limit="3/minute", rate_limit_storage=redis_storage)
    two = make_client(rate_limit="3/minute", rate_limit_storage=redis_storage)
    assert native(one).status_code == 200
    assert native(two).status_code == 200
    assert native(one).status_code == 200
    refused = native(two)  # the fourth request, on the other replica
    assert refused.status_code == 429
    assert retry_after(refused) <= 60
    assert native(one, addr="10.0.0.2").status_code == 200


def test_replicas_share_the_characters_quota_in_redis(make_client, redis_storage):
    keys = [f"{hash_key('carol')} carol chars=5/day"]
    one = make_client(api_keys=keys, rate_limit_storage=redis_storage)
    two = make_client(api_keys=keys, rate_limit_storage=redis_storage)
    carol = {"X-API-Key": "carol"}
    assert native(one, "大小中。", **carol).status_code == 200  # 4 of 5
    assert native(two, "大小。", **carol).status_code == 429  # 3 > 1 left
    over = two.post(
        "/v2/translate",
        json={"text": ["大。"], "target_lang": "EN"},
        headers={"Authorization": "DeepL-Auth-Key carol"},
    )
    assert over.status_code == 456  # 2 > 1 left, on either replica
    assert native(two, "大", **carol).status_code == 200  # the last character


def test_an_unreachable_storage_fails_open(make_client, caplog):
    client = make_client(
        rate_limit="1/minute", rate_limit_storage=f"redis://127.0.0.1:{_free_port()}"
    )
    assert [native(client).status_code for _ in range(3)] == [200, 200, 200]
    assert "Failed to rate limit" in caplog.text
