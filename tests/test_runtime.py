"""freeze_loaded (model.inference.runtime): what is alive is frozen, later cycles are collected."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from model.inference.runtime import freeze_loaded


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the other tests run with the interpreter's ordinary collector


def test_objects_alive_when_called_are_no_longer_walked(unfrozen: None) -> None:
    loaded = [{"entry": i} for i in range(1000)]
    frozen = freeze_loaded()
    assert frozen == gc.get_freeze_count() >= len(loaded)
    tracked = {id(o) for o in gc.get_objects()}
    assert not any(id(o) in tracked for o in loaded)


def test_cycles_made_afterwards_are_still_collected(unfrozen: None) -> None:
    freeze_loaded()

    class Node:
        partner: object = None

    a, b = Node(), Node()
    a.partner, b.partner = b, a
    del a, b
    assert gc.collect() >= 2
