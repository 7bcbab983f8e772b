"""tools/mutate.py: each operator makes the change it names, and only that one."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "rigcheck_mutate_tool", Path(__file__).resolve().parent.parent / "tools" / "mutate.py")
assert _spec and _spec.loader
mutate = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = mutate
_spec.loader.exec_module(mutate)

SOURCE = '''\
"""doc"""
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    import os

def fits(need_gb: float, have_gb: float = 8.0) -> bool:
    """docstring is never mutated"""
    if need_gb <= have_gb and have_gb > 0:
        return True
    return False

label = f"{3:>4}"
keep = 5  # pragma: no mutate
'''


def _whats() -> list[str]:
    return [m.what for m in mutate.list_mutants(SOURCE)]


def test_lists_the_expected_mutants_and_nothing_in_guards_docstrings_fstrings_or_pragmas() -> None:
    assert _whats() == [
        "8.0 -> 8.8",
        "<= -> <",
        "0 -> 1",
        "> -> >=",
        "and -> or",
        "and: operand 'need_gb <= have_gb' dropped",
        "and: operand 'have_gb > 0' dropped",
        "True -> False",
        "return True -> return None",
        "if condition 'need_gb <= have_gb and have_gb > 0' -> True",
        "if condition 'need_gb <= have_gb and have_gb > 0' -> False",
        "False -> True",
        "return False -> return None",
    ]


@pytest.mark.parametrize(("what", "call", "original", "mutated"), [
    ("<= -> <", "fits(8.0, 8.0)", True, False),
    ("> -> >=", "fits(0.0, 0)", False, True),
    ("and: operand 'have_gb > 0' dropped", "fits(-1.0, -0.5)", False, True),
    ("return False -> return None", "fits(9.0)", False, None),
    ("8.0 -> 8.8", "fits(8.5)", False, True),
])
def test_each_mutant_changes_behaviour_as_named(what: str, call: str, original: object,
                                               mutated: object) -> None:
    index = _whats().index(what)
    before: dict[str, object] = {}
    after: dict[str, object] = {}
    exec(compile(SOURCE, "m", "exec"), before)
    exec(compile(mutate.mutated_source(SOURCE, index), "m", "exec"), after)
    assert eval(call, before) == original
    assert eval(call, after) == mutated


def test_a_mutant_differs_from_the_original_in_one_place_only() -> None:
    base = ast.dump(ast.parse(SOURCE))
    for m in mutate.list_mutants(SOURCE):
        assert ast.dump(ast.parse(mutate.mutated_source(SOURCE, m.index))) != base, m


def test_every_configured_module_exists_with_existing_tests() -> None:
    root = Path(mutate.ROOT)
    for module, tests in mutate._config().items():
        assert (root / module).is_file(), module
        for t in tests:
            assert (root / t).is_file(), (module, t)


def test_sampling_is_even_and_stable() -> None:
    ms = [mutate.Mutant(i, i, "x") for i in range(10)]
    assert [m.index for m in mutate.sample_evenly(ms, 4)] == [0, 2, 5, 7]
    assert mutate.sample_evenly(ms, 20) == ms and mutate.sample_evenly(ms, None) == ms
