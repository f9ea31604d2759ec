"""The batch-filled bounded map behind sentence vectors and spaCy parses."""

from __future__ import annotations

from bot.core.cache import BatchCache


class _Maker:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, keys: list[str]) -> list[str]:
        self.calls.append(keys)
        return [k.upper() for k in keys]


def test_missing_values_are_made_in_one_call_each_once() -> None:
    cache: BatchCache[str, str] = BatchCache(8)
    make = _Maker()
    assert cache.get_many(["a", "b", "a"], make) == {"a": "A", "b": "B"}
    assert cache.get_many(["b", "c"], make) == {"b": "B", "c": "C"}
    assert make.calls == [["a", "b"], ["c"]]


def test_the_least_recently_used_value_goes_first() -> None:
    cache: BatchCache[str, str] = BatchCache(2)
    make = _Maker()
    cache.get_many(["a", "b"], make)
    cache.get_many(["a"], make)  # a is now the most recent
    cache.get_many(["c"], make)
    assert len(cache) == 2
    cache.get_many(["a", "b"], make)
    assert make.calls[-1] == ["b"], "b was dropped, a was kept"


def test_a_batch_larger_than_the_cache_still_gets_every_value() -> None:
    cache: BatchCache[str, str] = BatchCache(1)
    assert cache.get_many(["x", "y", "z"], _Maker()) == {"x": "X", "y": "Y", "z": "Z"}
    assert len(cache) == 1
