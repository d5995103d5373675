"""The collector helper: what the stages leave for the next set aside for the run."""

from __future__ import annotations

import gc

import pytest

from enrich import collector


@pytest.fixture(autouse=True)
def _thawed() -> None:
    gc.unfreeze()


def test_settled_objects_are_handed_back_when_the_run_ends() -> None:
    kept = [object() for _ in range(100)]
    with collector.run_scope():
        collector.settle()
        assert gc.get_freeze_count() >= len(kept)
        with collector.run_scope():  # an inner scope ends: the outer run goes on
            pass
        assert gc.get_freeze_count() >= len(kept)
    assert gc.get_freeze_count() == 0


def test_settle_outside_a_run_sets_nothing_aside() -> None:
    collector.settle()
    assert gc.get_freeze_count() == 0


def test_a_run_that_fails_hands_back_what_it_set_aside() -> None:
    def run() -> None:
        with collector.run_scope():
            collector.settle()
            raise RuntimeError("a stage failed")

    with pytest.raises(RuntimeError):
        run()
    assert gc.get_freeze_count() == 0
