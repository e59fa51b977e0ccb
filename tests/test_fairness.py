"""Fair admission: round-robin across clients, a per-client queue share, a sentence budget.

The batcher's worker is held inside an engine call (a gate) while requests queue up, so
what the next batch takes is deterministic; then it is released and the calls inspected.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Hashable, Sequence

import pytest
from fakes import Gate
from helpers import wait_until

from app import create_app
from serving.batcher import FairQueue, MicroBatcher, WorkItem, current_client
from serving.errors import ClientQueueFull, QueueFull, TooManySentences
from toolchain.tiny import LEXICON

TIMEOUT = 10
GATE = "<gate>"


class HeldEngine:
    """Records calls; a call holding GATE waits until ``release`` is set."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, texts: Sequence[str], options: Hashable) -> list[str]:
        self.calls.append(list(texts))
        if GATE in texts:
            self.entered.set()
            assert self.release.wait(TIMEOUT)
        return [t.upper() for t in texts]


@pytest.fixture
def held():
    made: list[tuple[MicroBatcher, HeldEngine]] = []

    def build(**kwargs) -> tuple[MicroBatcher, HeldEngine]:
        engine = HeldEngine()
        options = {"max_batch_size": 16, "max_wait_ms": 1, "queue_size": 1000, **kwargs}
        batcher = MicroBatcher(engine, **options)
        batcher.start()
        made.append((batcher, engine))
        batcher.submit([GATE], "o", later(), client="holder")
        assert engine.entered.wait(TIMEOUT)
        return batcher, engine

    yield build
    for batcher, engine in made:
        engine.release.set()
        batcher.shutdown(timeout=TIMEOUT)


def later() -> float:
    return time.monotonic() + 60


def results(futures) -> list[str]:
    return [f.result(timeout=TIMEOUT) for f in futures]


def test_fair_queue_takes_one_item_per_client_per_turn():
    queue = FairQueue()
    items = {
        c: [WorkItem(f"{c}{n}", "o", later(), c) for n in range(n_)]
        for c, n_ in (("g", 5), ("a", 1), ("b", 2))
    }
    for client, its in items.items():
        queue.put(client, its)
    assert len(queue) == 8 and queue.queued("g") == 5 and queue.clients == 3
    assert [w.text for w in queue.take(5)] == ["g0", "a0", "b0", "g1", "b1"]
    assert [w.text for w in queue.take(10)] == ["g2", "g3", "g4"]
    assert len(queue) == 0 and queue.clients == 0


def test_one_sentence_requests_are_not_starved_by_a_50_item_request(held):
    batcher, engine = held()
    greedy = batcher.submit([f"g{n:02}" for n in range(50)], "o", later(), client="greedy")
    normal = [batcher.submit([f"n{c}"], "o", later(), client=f"normal-{c}") for c in range(8)]
    engine.release.set()
    assert all(results(f) == [f"N{c}"] for c, f in enumerate(normal))
    assert results(greedy) == [f"G{n:02}" for n in range(50)]
    first = engine.calls[1]  # the first batch after the gate
    assert {f"n{c}" for c in range(8)} <= set(first)  # every normal client got in at once
    assert len(first) == 16
    # The greedy client's sentences still fill what is left, in its own order.
    assert sorted(t for t in first if t.startswith("g")) == [f"g{n:02}" for n in range(8)]


def test_the_client_defaults_to_the_context_one(held):
    batcher, engine = held(max_batch_size=2)
    batcher.submit(["a1", "a2", "a3"], "o", later(), client="a")
    token = current_client.set("b")
    try:
        b = batcher.submit(["b1"], "o", later())  # no client given: the context's
    finally:
        current_client.reset(token)
    assert batcher.queued_for("b") == 1
    engine.release.set()
    assert results(b) == ["B1"]
    assert sorted(engine.calls[1]) == ["a1", "b1"]


def test_a_client_over_its_share_is_429_while_others_are_admitted(held):
    batcher, engine = held(queue_size=8, client_share=0.5)
    assert batcher.client_capacity == 4
    mine = batcher.submit(["a1", "a2", "a3"], "o", later(), client="a")
    with pytest.raises(ClientQueueFull) as info:
        batcher.submit(["a4", "a5"], "o", later(), client="a")  # 3 + 2 > 4
    assert info.value.status == 429
    assert info.value.code == "client_queue_full"
    assert info.value.retry_after == 1
    assert "3 sentences queued" in info.value.message
    assert isinstance(info.value, QueueFull)  # LibreTranslate and DeepL answer it 429 too
    others = batcher.submit(["b1", "b2", "b3", "b4"], "o", later(), client="b")
    more = batcher.submit(["a4"], "o", later(), client="a")  # exactly its share
    with pytest.raises(QueueFull) as full:
        batcher.submit(["c1"], "o", later(), client="c")  # 8 queued: truly full
    assert type(full.value) is QueueFull
    assert full.value.status == 503
    engine.release.set()
    assert results(mine + more) == ["A1", "A2", "A3", "A4"]
    assert results(others) == ["B1", "B2", "B3", "B4"]


def test_a_client_holding_its_whole_share_is_refused_before_any_work(held):
    batcher, _ = held(queue_size=8, client_share=0.25)
    batcher.check_room("a")  # room: nothing raised
    batcher.submit(["a1", "a2"], "o", later(), client="a")
    with pytest.raises(ClientQueueFull):
        batcher.check_room("a")
    batcher.check_room("b")
    token = current_client.set("a")
    try:
        with pytest.raises(ClientQueueFull):
            batcher.check_room()
    finally:
        current_client.reset(token)


def test_without_a_share_the_whole_queue_is_one_clients(held):
    batcher, _ = held(queue_size=4)  # client_share 1.0
    batcher.submit(["a1", "a2", "a3", "a4"], "o", later(), client="a")
    with pytest.raises(QueueFull) as info:
        batcher.submit(["a5"], "o", later(), client="a")
    assert info.value.status == 503


# --- through the app ----------------------------------------------------------------


@pytest.fixture
def make_app(settings_overrides, engines):
    made = []

    def build(**overrides):
        application = create_app(
            {
                **settings_overrides,
                "cache_size": 0,
                "batch_workers": 1,
                **overrides,
                "TESTING": True,
            },
            engine_factory=engines,
        )
        assert application.extensions["registry"].wait_ready(60)
        made.append(application)
        return application

    yield build
    for application in made:
        application.extensions["registry"].close()


def sentences(count: int, start: int = 0) -> list[str]:
    """Distinct one-sentence texts (the fake engine's characters, no digits: a digit
    would be masked and make them the same sentence)."""
    combos = itertools.permutations(LEXICON, 3)
    picked = list(itertools.islice(combos, start, start + count))
    return ["".join(c) + "。" for c in picked]


class Requests:
    """Requests sent from threads (they block on the held engine), joined at the end."""

    def __init__(self, app) -> None:
        self.app = app
        self.threads: list[threading.Thread] = []
        self.responses: dict[str, object] = {}

    def send(self, name: str, addr: str, path: str = "/translate", **body) -> None:
        def post() -> None:
            client = self.app.test_client()
            self.responses[name] = client.post(path, json=body, environ_base={"REMOTE_ADDR": addr})

        thread = threading.Thread(target=post)
        thread.start()
        self.threads.append(thread)

    def join(self) -> None:
        for thread in self.threads:
            thread.join(TIMEOUT)


def post(app, addr: str, path: str = "/translate", **body):
    return app.test_client().post(path, json=body, environ_base={"REMOTE_ADDR": addr})


def test_clients_by_address_share_batches_fairly(make_app, engines):
    app = make_app(max_batch_size=4)
    translator = app.extensions["registry"].default
    engines.engine.calls.clear()  # forget the warm-up
    gate = Gate(engines.engine)
    sent = Requests(app)
    try:
        sent.send("holder", "10.0.0.9", text=sentences(1)[0])
        assert gate.entered.wait(TIMEOUT)
        sent.send("greedy", "10.0.0.1", text=sentences(12, 1))
        wait_until(lambda: translator.queue_depth == 12, what="the greedy request queued")
        sent.send("normal", "10.0.0.2", text="大小。")
        wait_until(lambda: translator.queue_depth == 13, what="the normal request queued")
    finally:
        gate.release.set()
        sent.join()
    assert sent.responses["normal"].status_code == 200
    assert sent.responses["greedy"].status_code == 200
    first = engines.engine.calls[1][0]  # the batch right after the held one
    assert "大小。" in first, first  # FIFO would have taken 4 greedy sentences


def test_a_client_over_its_share_is_429_in_every_api(make_app, engines):
    app = make_app(queue_size=8, client_queue_share=0.5)
    translator = app.extensions["registry"].default
    gate = Gate(engines.engine)
    sent = Requests(app)
    try:
        sent.send("holder", "10.0.0.9", text=sentences(1)[0])
        assert gate.entered.wait(TIMEOUT)
        sent.send("a", "10.0.0.1", text=sentences(4, 1))
        wait_until(lambda: translator.queue_depth == 4, what="a's sentences queued")
        native = post(app, "10.0.0.1", text="大。")
        libre = post(app, "10.0.0.1", q="大。", source="zh", target="en")
        deepl = post(app, "10.0.0.1", path="/v2/translate", text=["大。"], target_lang="EN")
        sent.send("b", "10.0.0.2", text=sentences(4, 5))  # another client still gets in
        wait_until(lambda: translator.queue_depth == 8, what="b's sentences queued")
        full = post(app, "10.0.0.3", text="小。")
    finally:
        gate.release.set()
        sent.join()
    assert native.status_code == 429
    assert native.get_json()["error"]["code"] == "client_queue_full"
    assert int(native.headers["Retry-After"]) >= 1
    assert libre.status_code == 429 and "error" in libre.get_json()
    assert libre.headers["Retry-After"]
    assert deepl.status_code == 429 and "message" in deepl.get_json()
    assert full.status_code == 503
    assert full.get_json()["error"]["code"] == "queue_full"
    assert all(sent.responses[n].status_code == 200 for n in ("holder", "a", "b"))


def test_a_request_over_a_clients_share_is_fed_in_slices(make_app, engines):
    app = make_app(queue_size=8, client_queue_share=0.25, max_batch_size=16)
    engine = engines.engine
    engine.calls.clear()
    texts = sentences(5)
    response = post(app, "10.0.0.1", text=texts)
    assert response.status_code == 200
    assert len(response.get_json()["result"]) == 5
    # Two sentences at a time (8 x 0.25), though one batch could have taken all five.
    assert [len(call) for call, _ in engine.calls] == [2, 2, 1]


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/translate", {"text": None}, 413, "error"),
        ("/translate", {"q": None, "source": "zh", "target": "en"}, 400, "error"),
        ("/v2/translate", {"text": None, "target_lang": "EN"}, 413, "message"),
    ],
)
def test_a_request_needing_more_sentences_than_the_queue_holds_is_refused(
    make_app, engines, path, body, status, field
):
    app = make_app(queue_size=4)
    engines.engine.calls.clear()
    key = "text" if "text" in body else "q"
    body = {**body, key: ["".join(sentences(5))]}  # one text of five sentences, queue empty
    response = post(app, "10.0.0.1", path=path, **body)
    assert response.status_code == status
    payload = response.get_json()
    message = (
        payload["error"]["message"] if path == "/translate" and key == "text" else (payload[field])
    )
    assert "5 sentences" in message and "at most 4" in message
    if key == "text" and path == "/translate":
        assert payload["error"]["code"] == "too_many_sentences"
    assert engines.engine.calls == []  # refused before anything reached the engine


def test_the_budget_counts_cached_sentences_too(make_app, engines):
    app = make_app(queue_size=4, cache_size=100)
    text = "".join(sentences(3))
    assert post(app, "10.0.0.1", text=text).status_code == 200  # 3 sentences, now cached
    response = post(app, "10.0.0.1", text=text + "".join(sentences(2, 3)))
    assert response.status_code == 413  # 5 > 4, whatever the cache holds
    assert response.get_json()["error"]["code"] == "too_many_sentences"


def test_too_many_sentences_is_a_413(held):
    batcher, _ = held(queue_size=3)
    with pytest.raises(TooManySentences):
        batcher.submit(["a", "b", "c", "d"], "o", later(), client="a")
