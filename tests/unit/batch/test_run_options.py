"""RunOptions: one declaration builds the flags of `run`/`resume` and checks the values."""

from __future__ import annotations

import argparse

import pytest

from sim.base.errors import InputError
from sim.base.limits import MAX_CHUNK_SIZE, MAX_REPLICATIONS, MAX_WORKERS
from sim.batch.options import (
    EXECUTORS,
    OPTIONS,
    RESUME_FLAGS,
    RunOptions,
    add_run_options,
    default_workers,
)


def _parse(argv: list[str], names=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    if names is None:
        add_run_options(parser)
    else:
        add_run_options(parser, names)
    return parser.parse_args(argv)


def test_every_field_has_one_declaration():
    fields = set(RunOptions.__dataclass_fields__)
    declared = [o.field for o in OPTIONS]
    assert sorted(declared) == sorted(fields)


def test_cli_flags_become_the_options():
    args = _parse(["-n", "12", "--seed", "7", "-w", "2", "--executor", "serial", "-q"])
    opts = RunOptions.from_cli(args, out="x")
    assert opts == RunOptions(
        replications=12, seed="7", workers=2, executor="serial", out="x", progress=False
    )
    assert RunOptions.from_cli(_parse([])).progress is True


def test_resume_has_only_its_flags():
    args = _parse(["-w", "3"], RESUME_FLAGS)
    assert not hasattr(args, "replications")
    opts = RunOptions.from_cli(args, resume=True)
    assert (opts.workers, opts.executor, opts.resume) == (3, "processes", True)


@pytest.mark.parametrize(
    "change, flag, message",
    [
        ({"replications": 0}, "--replications", f"expected 1 to {MAX_REPLICATIONS}, got 0"),
        ({"chunk_size": 0}, "--chunk-size", f"expected 1 to {MAX_CHUNK_SIZE}, got 0"),
        ({"workers": 0}, "--workers", f"expected 1 to {MAX_WORKERS}, got 0"),
        ({"executor": "threads"}, "--executor", "got 'threads'"),
        ({"target_rel_ci": 2.0}, "--target-rel-ci", "expected a share of the mean"),
    ],
)
def test_bad_values_name_their_flag(change, flag, message):
    opts = RunOptions(**change)
    with pytest.raises(InputError) as err:
        opts.check(opts.replications if opts.replications is not None else 10)
    assert flag in err.value.render() and message in err.value.render()


def test_an_open_executor_is_not_a_name_to_check():
    RunOptions(executor=object()).check(10)
    assert "serial" in EXECUTORS


def test_default_workers():
    assert default_workers(3) == 3
    assert default_workers(None) >= 1
