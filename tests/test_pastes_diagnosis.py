"""Real pasted outputs reach the diagnosis their threads reached (tests/fixtures/pastes/INDEX.toml).

Each fixture goes through the same path as ``rigcheck doctor --facts FILE``: load_facts_file,
then every doctor check. For each finding id INDEX.toml names, the status must match: the
thread's diagnosis fails (or warns), and the minor-version-compatibility paste
(pytorch/pytorch#77528) must NOT fail the driver/CUDA check. Where the diagnosis is right but
today's doctor cannot reach it, INDEX.toml says so (``doctor_gap``) and the case is a strict
xfail, so fixing the doctor makes it visible here.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10: the tomli backport, a rigcheck dependency there
    import tomli as tomllib  # type: ignore[no-redef]

# The subject itself: an import failure here is a failure, never a skip.
import rigcheck.doctor as doctor
from rigcheck.probe.importers import load_facts_file

PASTES = Path(__file__).parent / "fixtures" / "pastes"
INDEX = tomllib.loads((PASTES / "INDEX.toml").read_text(encoding="utf-8"))["paste"]

WANT = {"expect_fail": {"fail"}, "expect_warn": {"warn"}, "expect_ok": {"ok"},
        "expect_not_fail": {"ok", "warn", "skip"}}


@cache
def statuses(file: str) -> dict[str, tuple[str, str]]:
    facts = load_facts_file(PASTES / file)
    return {f.id: (f.status, f.summary) for f in doctor.run_checks(facts)}


def _cases():
    for entry in INDEX:
        gaps = set(entry.get("doctor_gap_ids", []))
        for field, allowed in WANT.items():
            for fid in entry.get(field, []):
                marks = []
                if fid in gaps:
                    marks.append(pytest.mark.xfail(strict=True, reason=entry["doctor_gap"]))
                yield pytest.param(entry["file"], fid, frozenset(allowed), marks=marks,
                                   id=f"{entry['file']}::{fid}:{field.removeprefix('expect_')}")


@cache
def findings_of(file: str) -> dict[str, object]:
    facts = load_facts_file(PASTES / file)
    return {f.id: f for f in doctor.run_checks(facts)}


def _cause_cases():
    for entry in INDEX:
        for fid, text in entry.get("expect_cause", {}).items():
            yield pytest.param(entry["file"], fid, text, id=f"{entry['file']}::{fid}:cause")


@pytest.mark.parametrize(("file", "finding_id", "text"), list(_cause_cases()))
def test_paste_reaches_thread_cause(file: str, finding_id: str, text: str) -> None:
    """The refined cause or fix names what the thread's maintainers said (e.g. '--ipc=host')."""
    f = findings_of(file)[finding_id]
    said = f"{f.summary} {f.detail} {f.fix}"
    assert text.lower() in said.lower(), f"{file}: {finding_id} says {said!r}; want {text!r}"


@pytest.mark.parametrize("file", [e["file"] for e in INDEX if e.get("expect_clean")])
def test_negative_controls_stay_clean(file: str) -> None:
    """Healthy outputs and harmless warnings: nothing fails, and no signature warns or fails."""
    bad = [(f.id, f.status, f.summary) for f in findings_of(file).values()
           if f.status in ("fail", "crash") or (f.id.startswith("sig.") and f.is_problem)]
    assert not bad, f"{file}: {bad}"


@pytest.mark.parametrize(("file", "finding_id", "allowed"), list(_cases()))
def test_paste_reaches_thread_diagnosis(file: str, finding_id: str, allowed: frozenset[str]) -> None:
    got = statuses(file)
    assert finding_id in got, f"the doctor has no check {finding_id!r}; update INDEX.toml"
    status, summary = got[finding_id]
    assert status in allowed, f"{file}: {finding_id} is {status} ({summary}); want {sorted(allowed)}"


def test_every_fixture_has_an_expectation() -> None:
    for entry in INDEX:
        assert any(entry.get(k) for k in WANT) or entry.get("expect_clean"), (
            f"{entry['file']} names no expected finding")


def test_no_check_crashes_on_any_paste() -> None:
    for entry in INDEX:
        crashed = [(i, s) for i, (st, s) in statuses(entry["file"]).items() if st == "crash"]
        assert not crashed, f"{entry['file']}: {crashed}"


@pytest.mark.parametrize(("file", "driver_cuda", "wheel_cuda"), [
    ("mixed_colab_t4_cu113_driver_cuda112.txt", "11.2", "11.3"),       # pytorch/pytorch#77528
    ("ce_minor_compat_vllm_pt211_cu129_drv550.txt", "12.4", "12.9"),   # vllm-project/vllm#41209
])
def test_minor_version_compat_is_ok_not_skipped(file: str, driver_cuda: str, wheel_cuda: str) -> None:
    """A wheel built for a newer CUDA minor than the driver reports is fine (CUDA minor-version
    compatibility), and the doctor must say so from the facts rather than skip."""
    status, summary = statuses(file)["torch.driver_too_old"]
    assert status == "ok", summary
    assert driver_cuda in summary and wheel_cuda in summary


def test_what_a_paste_cannot_tell_is_skipped_not_failed() -> None:
    """A collect_env paste has no ECC, PCIe or /dev/shm facts: those checks skip with a reason."""
    got = statuses("ce_healthy_wsl2_rtx4070_pt240.txt")
    for fid in ("gpu.ecc_errors", "pcie.link_under_load", "container.shm", "sys.disk_space"):
        status, summary = got[fid]
        assert status == "skip", (fid, status, summary)
        assert "not in a collect_env paste" in summary, (fid, summary)


# ---- end to end through the CLI: `rigcheck doctor --facts PASTE` -------------------------------

@pytest.fixture(scope="module")
def cli():
    from typer.testing import CliRunner

    from rigcheck.ui.app import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_cli_reports_the_thread_diagnosis_as_json(cli) -> None:
    import json

    res = cli("doctor", "--facts", str(PASTES / "ce_blackwell_5090d_pt260_cu126.txt"), "--json")
    assert res.exit_code == 1, res.output
    out = json.loads(res.output)
    by_id = {f["id"]: f for f in out["findings"]}
    assert by_id["torch.arch_missing"]["status"] == "fail"
    assert "cu128" in by_id["torch.arch_missing"]["fix"]
    assert out["facts_origin"]["origin"] == "collect_env"
    assert out["facts_origin"]["note"] == "ce_blackwell_5090d_pt260_cu126.txt"


def test_cli_minor_compat_paste_exits_zero(cli) -> None:
    res = cli("doctor", "--facts", str(PASTES / "ce_minor_compat_vllm_pt211_cu129_drv550.txt"))
    assert res.exit_code == 0, res.output


def test_cli_unreadable_paste_is_one_line_exit_2(cli, tmp_path: Path) -> None:
    p = tmp_path / "env.txt"
    p.write_text("I ran it but forgot to paste the output, sorry\n")
    res = cli("doctor", "--facts", str(p))
    assert res.exit_code == 2
    assert "not a rigcheck facts file" in res.output and "Traceback" not in res.output


def test_index_lists_every_fixture_once_with_a_thread_url() -> None:
    files = [e["file"] for e in INDEX]
    assert len(files) == len(set(files))
    assert set(files) == {p.name for p in PASTES.glob("*.txt")}
    for e in INDEX:
        assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+/(issues|pull)/\d+", e["source_url"]), e
        assert e["kind"] in KINDS and e["concluded"] and e["what"], e


# What a fixture's text is (INDEX.toml ``kind``).
KINDS = {"collect_env", "nvidia-smi", "nvidia-smi-q", "traceback", "error", "warning", "nccl log",
         "dmesg", "container error", "tool report", "mixed", "build log"}
def test_fixtures_cover_every_family() -> None:
    """Issue 11's families each have real pastes that reach a signature."""
    from rigcheck.doctor.signatures import load_registry

    family = {f"sig.{s.id}": s.family for s in load_registry()}
    reached: dict[str, int] = {}
    for e in INDEX:
        for fid in {*e.get("expect_fail", []), *e.get("expect_warn", []), *e.get("expect_ok", [])}:
            if fid in family:
                reached[family[fid]] = reached.get(family[fid], 0) + 1
    assert set(family.values()) <= set(reached), sorted(set(family.values()) - set(reached))
