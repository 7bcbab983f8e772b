"""The LLM stack table's records and version rules (rigcheck/doctor/stack.py) pinned by value.

The rules, from the module's docstrings: pip's name normalisation (runs of "-", "_", "." -> one
"-", lower case, PEP 503); a version's release numbers (PEP 440's release segment, a leading "v"
allowed, the local label after "+" dropped for the public version); "older" compares releases
with missing parts as 0; "same release" also keeps post/dev labels; a pattern is an exact
release or a prefix ending in "*"; triton rows match torch by major.minor. The table's rows are
frozen records; a section that is not a list of tables, or a row missing a key, is a ValueError.
"""

from __future__ import annotations

import dataclasses

import pytest

from rigcheck.doctor import stack


def test_normalise_is_pips() -> None:
    assert stack.normalise("Flash_Attn") == "flash-attn"
    assert stack.normalise("a..b__c-.-d") == "a-b-c-d"


@pytest.mark.parametrize(("version", "expected"), [
    ("2.5.1+cu124", (2, 5, 1)), ("0.0.28.post3", (0, 0, 28)), ("v1.2", (1, 2)), ("  3.1", (3, 1)),
    ("7", (7,)), ("", ()), (None, ()), ("abc", ()),
])
def test_release(version, expected) -> None:
    assert stack.release(version) == expected


@pytest.mark.parametrize(("version", "expected"), [
    ("2.5.1+cu124", "2.5.1"), ("2.5.1+cu124+x", "2.5.1"), (" 2.5 ", "2.5"), ("2.5", "2.5"), (None, ""),
])
def test_public(version, expected) -> None:
    assert stack.public(version) == expected


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("0.42.9", "0.43", True), ("0.43", "0.43.0", False), ("0.43.0", "0.43", False),
    ("0.43", "0.43.1", True), ("0.43.1", "0.43", False), ("1.0", "1.0", False), ("1", "1.0.1", True),
    ("2.10", "2.9", False), ("2.9", "2.10", True),
])
def test_older_pads_missing_parts_with_zero(a, b, expected) -> None:
    assert stack.older(a, b) is expected


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("2.5", "2.5.0", True), ("2.5.0", "2.5", True), ("2.5", "2.5", True), ("2.5.1+cu124", "2.5.1", True),
    ("0.0.28.post3", "0.0.28", False), ("0.0.28", "0.0.28.post3", False),
    ("0.0.28.post3", "0.0.28.post3+cu124", True), ("2.5", "2.6", False), ("2.5.1", "2.5", False),
])
def test_same_release(a, b, expected) -> None:
    assert stack.same_release(a, b) is expected


@pytest.mark.parametrize(("version", "pattern", "expected"), [
    ("0.8.5", "0.8.*", True), ("0.8", "0.8.*", True), ("0.9.0", "0.8.*", False), ("0.18.0", "0.1*", False),
    ("2.5.1", "2*", True), ("3.0", "2*", False), ("1.2", "*", False),
    ("2.5.1+cu124", "2.5.1", True), ("0.0.28.post3", "0.0.28.post3", True), ("0.0.28.post3", "0.0.28", False),
])
def test_matches_exact_or_prefix(version, pattern, expected) -> None:
    assert stack.matches(version, pattern) is expected


# ------------------------------------------------------------------ the table

TABLE = """
dated = "2026-01-01"

[[torch_pin]]
package = "a"
versions = ["1.0", "1.9", "1.10", "2.*"]
torch = "2.5"
source = "s1"

[[torch_pin]]
package = "a"
versions = ["0.9"]
torch = "2.4.0"
source = "s2"

[[torch_pin]]
package = "b"
versions = ["1.0"]
torch = "2.3"
source = "s3"

[[triton]]
torch = "2.5"
triton = "3.1"
source = "t1"

[[triton]]
torch = "2.4.0"
triton = "3.0"
source = "t2"

[[gpu]]
package = "flash-attn"
min_capability = "8.0"
why = "w"
fix = "f"
source = "g"
from = "2.0"

[[os]]
package = "vllm"
os = "windows"
why = "w"
fix = "f"
source = "o"
below = "0.9"

[gpu_build]
packages = ["bitsandbytes"]
source = "gb"
"""


@pytest.fixture(scope="module")
def table() -> stack.StackTable:
    return stack.parse(TABLE)


def test_parse_reads_every_section(table) -> None:
    assert table.dated == "2026-01-01"
    assert table.torch_pins[2] == stack.TorchPin("b", ("1.0",), "2.3", "s3")
    assert table.triton == (stack.TritonPin("2.5", "3.1", "t1"), stack.TritonPin("2.4.0", "3.0", "t2"))
    assert table.gpu == (stack.GpuRule("flash-attn", "8.0", "w", "f", "g", "2.0"),)
    assert table.os == (stack.OsRule("vllm", "windows", "w", "f", "o", "0.9"),)
    assert (table.gpu_build, table.gpu_build_source) == (("bitsandbytes",), "gb")


def test_optional_fields_and_sections_default() -> None:
    t = stack.parse('dated = 2026-01-01\n[[gpu]]\npackage = "x"\nmin_capability = "7.0"\nwhy = "w"\n'
                    'fix = "f"\nsource = "s"\n[[os]]\npackage = "y"\nos = "macos"\nwhy = "w"\nfix = "f"\n'
                    'source = "s"\n')
    assert t.dated == "2026-01-01"
    assert t.gpu[0].since is None and t.os[0].below is None
    assert (t.torch_pins, t.triton, t.gpu_build, t.gpu_build_source) == ((), (), (), "")


@pytest.mark.parametrize("record", [
    stack.TorchPin("a", ("1",), "2.5", "s"), stack.TritonPin("2.5", "3.1", "s"),
    stack.GpuRule("a", "8.0", "w", "f", "s"), stack.OsRule("a", "windows", "w", "f", "s"),
])
def test_rows_are_frozen(record) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.source = "changed"


def test_the_table_is_frozen(table) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        table.dated = "changed"


@pytest.mark.parametrize("bad", ['torch_pin = 3', 'torch_pin = [1, 2]', 'triton = "x"'])
def test_a_section_that_is_not_a_list_of_tables_is_refused(bad) -> None:
    with pytest.raises(ValueError, match="must be a list of tables"):
        stack.parse(f'dated = "d"\n{bad}\n')


def test_a_row_missing_a_key_is_refused() -> None:
    with pytest.raises(ValueError, match="a row lacks 'source'"):
        stack.parse('dated = "d"\n[[triton]]\ntorch = "2.5"\ntriton = "3.1"\n')
    with pytest.raises(ValueError, match="a row lacks 'dated'"):
        stack.parse("")


def test_pin_for(table) -> None:
    assert table.pin_for("a", "1.9").source == "s1"
    assert table.pin_for("a", "2.7.3").source == "s1"            # the "2.*" prefix
    assert table.pin_for("a", "0.9").source == "s2"
    assert table.pin_for("b", "1.0").source == "s3"              # a's "1.0" is not b's
    assert table.pin_for("b", "1.9") is None
    assert table.pin_for("c", "1.0") is None


def test_release_for_torch_is_the_newest_exact_release(table) -> None:
    assert table.release_for_torch("a", "2.5.0") == "1.10"       # by release numbers, "2.*" no release
    assert table.release_for_torch("a", "2.4") == "0.9"
    assert table.release_for_torch("b", "2.5") is None
    assert table.release_for_torch("a", "2.6") is None


def test_triton_for_matches_major_minor(table) -> None:
    assert table.triton_for("2.5.1+cu124").triton == "3.1"
    assert table.triton_for("2.4.1").triton == "3.0"             # the row says 2.4.0
    assert table.triton_for("2.6.0") is None


def test_the_bundled_table_loads() -> None:
    t = stack.load()
    assert t.dated and t.torch_pins and t is stack.load()
