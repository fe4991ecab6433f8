"""The server moves its start-up heap out of gc's full collections (``heap.py``)."""

from __future__ import annotations

import gc

import pytest

from solidtype_jupyter.heap import freeze_startup_heap


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()  # leave the test process as it was


def test_freeze_moves_live_objects_out_of_collections(unfrozen):
    marker = [object() for _ in range(1000)]
    frozen = freeze_startup_heap()
    assert frozen == gc.get_freeze_count() > len(marker)
    assert not any(item is marker for item in gc.get_objects(generation=2))


def _extension(jp_serverapp):
    return jp_serverapp.extension_manager.extension_points["solidtype"].app


async def test_the_extension_freezes_once_the_server_has_started(jp_serverapp, unfrozen):
    await _extension(jp_serverapp)._start_jupyter_server_extension(jp_serverapp)
    assert gc.get_freeze_count() > 0


async def test_the_freeze_can_be_turned_off(jp_serverapp, unfrozen):
    extension = _extension(jp_serverapp)
    extension.freeze_startup_heap = False
    await extension._start_jupyter_server_extension(jp_serverapp)
    assert gc.get_freeze_count() == 0
