"""The dev FunctionContext: cache, storage, assets, config."""

from __future__ import annotations

from pathlib import Path

import pytest

from sinch_nb.functions.context import FunctionConfig, MissingVariableError
from sinch_nb.runtime.context import DevCache, DevStorage


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_cache_default_ttl_is_an_hour_and_expiry_is_honoured() -> None:
    clock = Clock()
    cache = DevCache(clock)
    cache.set("a", {"n": 1})
    cache.set("b", [1, 2], ttl=10)
    clock.now += 11
    assert cache.get("a") == {"n": 1}
    assert cache.get("b") is None and not cache.has("b")
    clock.now += 3600
    assert cache.get("a", "gone") == "gone"


def test_cache_extend_keys_and_get_many() -> None:
    clock = Clock()
    cache = DevCache(clock)
    cache.set("session:1", 1, ttl=5)
    cache.set("session:2", 2, ttl=5)
    cache.set("other", 3)
    assert cache.extend("session:1", 100)
    assert not cache.extend("missing", 100)
    clock.now += 6
    assert cache.keys("session:*") == ["session:1"]
    assert cache.get_many(["session:1", "session:2", "other", "nope"]) == {"session:1": 1, "other": 3}
    assert cache.delete("other") and not cache.delete("other")


def test_cache_values_must_be_json() -> None:
    with pytest.raises(TypeError, match="JSON-serialisable"):
        DevCache().set("x", object())


def test_storage_round_trip_under_the_storage_folder(tmp_path: Path) -> None:
    storage = DevStorage(tmp_path / "storage")
    storage.write("calls/a.txt", "hello")
    storage.write("calls/b.bin", b"\x00\x01")
    assert storage.read("calls/a.txt") == b"hello"
    assert storage.list("calls/") == ["calls/a.txt", "calls/b.bin"]
    assert storage.exists("calls/b.bin")
    assert (tmp_path / "storage" / "calls" / "a.txt").read_text() == "hello"
    assert storage.delete("calls/a.txt") and not storage.exists("calls/a.txt")
    with pytest.raises(KeyError, match="no storage object"):
        storage.read("calls/a.txt")


def test_storage_refuses_keys_outside_its_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="leaves the storage folder"):
        DevStorage(tmp_path / "storage").write("../escape.txt", "x")


def test_config_require_variable_names_the_fix() -> None:
    config = FunctionConfig(variables={"COMPANY_NAME": "Acme"})
    assert config.require_variable("COMPANY_NAME") == "Acme"
    with pytest.raises(MissingVariableError, match=r"sn\.configure"):
        config.require_variable("FORWARD_NUMBER")
