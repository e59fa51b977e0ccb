"""The LRU translation cache."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from engine import GenerationOptions
from serving.cache import TranslationCache

DEFAULT = GenerationOptions()


def key(text: str, model: str = "m1", options=DEFAULT) -> tuple:
    return TranslationCache.key(model, options, text)


def test_get_returns_what_was_put():
    cache = TranslationCache(4)
    cache.put(key("你好"), "Hello")
    assert cache.get(key("你好")) == "Hello"
    assert cache.get(key("再见")) is None
    assert len(cache) == 1


def test_lru_evicts_the_least_recently_used_entry():
    cache = TranslationCache(2)
    cache.put(key("a"), "A")
    cache.put(key("b"), "B")
    assert cache.get(key("a")) == "A"  # "a" is now the most recently used
    cache.put(key("c"), "C")  # evicts "b"
    assert cache.get(key("b")) is None
    assert cache.get(key("a")) == "A"
    assert cache.get(key("c")) == "C"
    assert len(cache) == 2


def test_eviction_follows_insertion_order_without_reads():
    cache = TranslationCache(3)
    for name in "abcde":
        cache.put(key(name), name.upper())
    assert [cache.get(key(name)) for name in "abcde"] == [None, None, "C", "D", "E"]


def test_put_of_existing_key_replaces_and_refreshes():
    cache = TranslationCache(2)
    cache.put(key("a"), "old")
    cache.put(key("b"), "B")
    cache.put(key("a"), "new")
    cache.put(key("c"), "C")  # "b" is the least recently used now
    assert cache.get(key("a")) == "new"
    assert cache.get(key("b")) is None
    assert len(cache) == 2


def test_hits_and_misses_are_counted():
    cache = TranslationCache(4)
    cache.put(key("a"), "A")
    cache.get(key("a"))
    cache.get(key("a"))
    cache.get(key("missing"))
    assert (cache.hits, cache.misses) == (2, 1)
    assert cache.stats() == {"entries": 1, "capacity": 4, "hits": 2, "misses": 1}


def test_an_empty_translation_is_a_hit():
    cache = TranslationCache(4)
    cache.put(key("。"), "")
    assert cache.get(key("。")) == ""
    assert (cache.hits, cache.misses) == (1, 0)


def test_size_zero_disables_the_cache():
    cache = TranslationCache(0)
    cache.put(key("a"), "A")
    assert cache.get(key("a")) is None
    assert len(cache) == 0
    assert cache.stats() == {"entries": 0, "capacity": 0, "hits": 0, "misses": 0}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("m1", GenerationOptions(beam_size=1)), ("m2", GenerationOptions(beam_size=1))),
        (("m1", GenerationOptions(beam_size=1)), ("m1", GenerationOptions(beam_size=4))),
        (("m1", GenerationOptions()), ("m1", GenerationOptions(length_penalty=0.5))),
        (("m1", GenerationOptions()), ("m1", GenerationOptions(max_new_tokens=5))),
    ],
)
def test_key_includes_model_id_and_options(first, second):
    cache = TranslationCache(8)
    key_1 = TranslationCache.key(*first, "你好")
    key_2 = TranslationCache.key(*second, "你好")
    assert key_1 != key_2
    cache.put(key_1, "Hello (1)")
    assert cache.get(key_2) is None
    cache.put(key_2, "Hello (2)")
    assert cache.get(key_1) == "Hello (1)"
    assert cache.get(key_2) == "Hello (2)"
    assert len(cache) == 2


def test_equal_options_share_an_entry():
    cache = TranslationCache(8)
    cache.put(TranslationCache.key("m1", GenerationOptions(beam_size=2), "你好"), "Hello")
    assert cache.get(TranslationCache.key("m1", GenerationOptions(beam_size=2), "你好")) == "Hello"


def test_concurrent_puts_and_gets():
    capacity, threads, rounds = 50, 8, 300
    cache = TranslationCache(capacity)
    start = threading.Barrier(threads)

    def worker(index: int) -> int:
        start.wait(timeout=10)
        seen = 0
        for i in range(rounds):
            k = key(f"{(index * 7 + i) % 120}")
            value = cache.get(k)
            if value is not None:
                assert value == f"v{k[2]}"  # never another key's value
                seen += 1
            cache.put(k, f"v{k[2]}")
            assert len(cache) <= capacity
        return seen

    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(worker, n) for n in range(threads)]
        results = [future.result(timeout=30) for future in futures]

    assert len(cache) <= capacity
    stats = cache.stats()
    assert stats["hits"] + stats["misses"] == threads * rounds
    assert stats["hits"] == sum(results)
