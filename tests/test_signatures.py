"""The signature registry (rigcheck/doctor/signatures/*.toml) and its matcher.

Expectations here are written from the messages' own text and the sources the signatures cite
(PyTorch's allocator message, NVIDIA's Xid catalogue), not from the matcher's helpers.
"""

from __future__ import annotations

import re

import pytest

from rigcheck.doctor.signatures import findings, load_registry, scan
from rigcheck.doctor.signatures._figures import cuda_oom
from rigcheck.doctor.signatures._load import RegistryError, parse_registry
from rigcheck.facts import Facts, GpuFacts, PasteLine
from rigcheck.probe.importers import parse_text

REG = load_registry()
BY_ID = {s.id: s for s in REG}


def test_registry_size_and_families() -> None:
    assert len(REG) >= 80
    fams = {s.family for s in REG}
    assert {"cuda_runtime", "library_loading", "nccl", "xid", "ecc_fabric", "containers_wsl",
            "rocm_mps", "llm_libs", "dataloader", "harmless", "driver"} <= fams


@pytest.mark.parametrize("code", [13, 31, 43, 45, 48, 61, 62, 63, 64, 74, 79, 92, 94, 95, 119, 154])
def test_every_required_xid_is_known(code: int) -> None:
    line = f"NVRM: Xid (PCI:0000:3b:00): {code}, pid=1234, name=python, some text"
    got = [f.id for f in findings(_facts(line), [])]
    assert got == [f"sig.xid.{code}"], got


def test_xid_code_is_matched_whole() -> None:
    """Xid 13 must not fire on Xid 130 (a word boundary after the code)."""
    assert [f.id for f in findings(_facts("NVRM: Xid (PCI:0000:3b:00): 130, pid=1"))] == []


def test_every_signature_has_source_fix_and_unique_id() -> None:
    for s in REG:
        assert s.source.startswith("https://"), s.id
        assert s.harmless or s.fix, s.id
        assert s.means, s.id


def test_harmless_messages_are_ok_findings_never_failures() -> None:
    harmless = [s for s in REG if s.family == "harmless"]
    assert len(harmless) >= 8
    assert all(s.status == "ok" for s in harmless)
    f = findings(_facts("UserWarning: TypedStorage is deprecated. It will be removed in the future "
                        "and UntypedStorage will be the only storage class."))
    assert [(x.id, x.status) for x in f] == [("sig.harmless.typed_storage", "ok")]
    assert f[0].summary.startswith("harmless:") and f[0].fix == ""


def test_registry_rejects_nested_quantifiers_and_bad_fields() -> None:
    base = ('[[signature]]\nid = "x"\ntitle = "t"\nstatus = "fail"\nmeans = "m"\nfix = "f"\n'
            'source = "https://example.org/1"\n')
    with pytest.raises(RegistryError, match="nested quantifier"):
        parse_registry({"a.toml": base + "patterns = ['(\\w+)+$']\n"})
    with pytest.raises(RegistryError, match="unknown status"):
        parse_registry({"a.toml": base.replace('"fail"', '"bad"') + "patterns = ['x']\n"})
    with pytest.raises(RegistryError, match="source must be a URL"):
        parse_registry({"a.toml": base.replace("https://example.org/1", "a thread") + "patterns = ['x']\n"})
    with pytest.raises(RegistryError, match="unknown keys"):
        parse_registry({"a.toml": base + "patterns = ['x']\n[[signature.refine]]\nwhen = { gpu = 1 }\ncause = 'c'\n"})
    assert len(parse_registry({"a.toml": base + "patterns = ['x(?:\\.\\d+)*']\n"})) == 1


# ---- refinement: the same message, different facts, different cause --------------------------

NO_KERNEL = "RuntimeError: CUDA error: no kernel image is available for execution on the device"


def _facts(*lines: str, cc: str | None = None, torch: str | None = None) -> Facts:
    f = Facts(origin="paste")
    f.paste_lines = [PasteLine(line=i + 1, text=t) for i, t in enumerate(lines)]
    if cc:
        f.nvml.gpus = [GpuFacts(index=0, name="NVIDIA GeForce RTX 5090", compute_capability=cc)]
    if torch:
        f.torch.version = torch
        m = re.search(r"\+cu(\d+)(\d)$", torch)
        f.torch.cuda_build = f"{int(m.group(1))}.{m.group(2)}" if m else None
    return f


def _one(facts: Facts, fid: str):
    got = {f.id: f for f in findings(facts, [])}   # the signature alone, no check covering it
    return got[fid]


def test_no_kernel_image_on_blackwell_with_cu126_says_cu128() -> None:
    f = _one(_facts(NO_KERNEL, cc="12.0", torch="2.6.0+cu126"), "sig.cuda.no_kernel_image")
    assert "cu128" in f.fix and "sm_120" in f.detail


def test_no_kernel_image_on_blackwell_with_cu128_is_not_the_wheel() -> None:
    """Just past the boundary: a cu128 wheel has sm_120, so the Blackwell refine must not fire."""
    f = _one(_facts(NO_KERNEL, cc="12.0", torch="2.7.0+cu128"), "sig.cuda.no_kernel_image")
    assert "is Blackwell" not in f.detail


def test_no_kernel_image_on_hopper_with_cu117_says_cu121() -> None:
    f = _one(_facts(NO_KERNEL, cc="9.0", torch="2.0.1+cu117"), "sig.cuda.no_kernel_image")
    assert "cu121" in f.fix and "Hopper" in f.detail
    f = _one(_facts(NO_KERNEL, cc="9.0", torch="2.1.0+cu118"), "sig.cuda.no_kernel_image")
    assert "Hopper" not in f.detail


def test_no_kernel_image_arch_list_decides_when_known() -> None:
    """CUDA binary compatibility: an sm_XY cubin runs on sm_XZ with Z >= Y; PTX (compute_XY) JITs
    on anything newer."""
    facts = _facts(NO_KERNEL, cc="7.5", torch="2.6.0+cu126")
    facts.torch.arch_list = ["sm_80", "sm_86", "sm_90"]
    assert "sm_75, which is not in" in _one(facts, "sig.cuda.no_kernel_image").detail
    facts.torch.arch_list = ["sm_70", "sm_80"]           # sm_70 cubins run on sm_75
    assert "not in" not in _one(facts, "sig.cuda.no_kernel_image").detail
    facts.torch.arch_list = ["sm_80", "compute_70"]      # PTX for 7.0 JIT-compiles on 7.5
    assert "not in" not in _one(facts, "sig.cuda.no_kernel_image").detail


def test_signature_covered_by_a_failing_check_is_not_repeated() -> None:
    from rigcheck.doctor.findings import Finding

    prior = [Finding(id="torch.arch_missing", category="cuda_torch_build", status="fail", summary="x")]
    assert findings(_facts(NO_KERNEL, cc="12.0"), prior) == []
    prior_ok = [Finding(id="torch.arch_missing", category="cuda_torch_build", status="ok", summary="x")]
    assert [f.id for f in findings(_facts(NO_KERNEL, cc="12.0"), prior_ok)] == ["sig.cuda.no_kernel_image"]


# ---- the OOM message's figures, both layouts ----------------------------------------------------

OLD_OOM = ("RuntimeError: CUDA out of memory. Tried to allocate 20.00 MiB (GPU 0; 23.65 GiB total "
           "capacity; 22.10 GiB already allocated; 19.06 MiB free; 22.70 GiB reserved in total by PyTorch)")
NEW_OOM = ("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total "
           "capacity of 23.64 GiB of which 1.23 GiB is free. Including non-PyTorch memory, this process "
           "has 22.40 GiB memory in use. Of the allocated memory 21.90 GiB is allocated by PyTorch, and "
           "100.25 MiB is reserved by PyTorch but unallocated.")


def test_oom_figures_old_layout() -> None:
    f = cuda_oom(OLD_OOM)
    assert f["tried_gib"] == pytest.approx(20 / 1024, abs=0.005)
    assert f["allocated_gib"] == 22.10 and f["reserved_gib"] == 22.70 and f["total_gib"] == 23.65
    assert f["unallocated_gib"] == pytest.approx(0.60, abs=0.005)   # 22.70 - 22.10
    assert f["fragmented"] is True              # 0.6 GiB reserved-but-free > the 20 MiB asked for


def test_oom_figures_new_layout() -> None:
    f = cuda_oom(NEW_OOM)
    assert f["tried_gib"] == 2.0 and f["free_gib"] == 1.23 and f["process_gib"] == 22.40
    assert f["reserved_gib"] == pytest.approx(21.90 + 100.25 / 1024, abs=0.005)
    assert f["fragmented"] is False             # 0.1 GiB unallocated < the 2 GiB asked for
    assert f["other_process"] is False          # 23.64 - 1.23 - 22.40 = 0.01 GiB elsewhere


def test_oom_other_process_boundary() -> None:
    """Just inside / just past 1 GiB used outside this process."""
    line = ("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 24.00 GiB "
            "of which 1.00 GiB is free. Including non-PyTorch memory, this process has {p} GiB memory "
            "in use. Of the allocated memory 20.00 GiB is allocated by PyTorch, and 0 bytes is reserved "
            "by PyTorch but unallocated.")
    assert cuda_oom(line.format(p="22.10"))["other_process"] is False   # 0.90 GiB elsewhere
    assert cuda_oom(line.format(p="21.90"))["other_process"] is True    # 1.10 GiB elsewhere


def test_oom_finding_fix_follows_the_figures() -> None:
    frag = _one(_facts(OLD_OOM), "sig.cuda.oom")
    assert "expandable_segments" in frag.fix and "20.0 MiB" in frag.summary
    plain = _one(_facts(NEW_OOM), "sig.cuda.oom")
    assert "expandable_segments" not in plain.fix and "batch size" in plain.fix


# ---- the matcher reads what surrounds a marker --------------------------------------------------

def test_collect_env_plus_ecc_error_is_not_all_ok() -> None:
    """Issue 11: a collect_env followed by an uncorrectable-ECC error was '12 checks ok'."""
    from pathlib import Path

    from rigcheck.doctor import run_checks

    ce = (Path(__file__).parent / "fixtures/pastes/ce_healthy_wsl2_rtx4070_pt240.txt").read_text()
    facts = parse_text(ce + "\nRuntimeError: CUDA error: uncorrectable ECC error encountered\n")
    got = {f.id: f.status for f in run_checks(facts)}
    assert got["sig.ecc.uncorrectable_cuda"] == "fail"


def test_smi_header_plus_not_compiled_is_diagnosed() -> None:
    from rigcheck.doctor import run_checks

    text = ("| NVIDIA-SMI 535.104.05   Driver Version: 535.104.05   CUDA Version: 12.2 |\n"
            "AssertionError: Torch not compiled with CUDA enabled\n")
    got = {f.id: f.status for f in run_checks(parse_text(text))}
    assert got["sig.cuda.not_compiled"] == "fail"


def test_scan_keeps_matched_lines_and_bounds_repeats() -> None:
    text = "\n".join(["noise"] * 100 + ["NVRM: Xid (PCI:0000:01:00): 79, GPU has fallen off the bus."] * 100)
    lines = scan(text)
    assert 1 <= len(lines) <= 30 and all("Xid" in ln for _, ln in lines)
    assert lines[0][0] == 101            # 1-based line numbers


def test_covered_by_names_real_checks_or_signatures() -> None:
    """A signature left out because a check reported the same thing must name a real check."""
    from rigcheck.doctor import all_checks

    known = {c.id for c in all_checks()} | {f"sig.{s.id}" for s in REG}
    bad = [(s.id, c) for s in REG for c in s.covered_by if c not in known]
    assert not bad, bad


def test_paste_facts_round_trip_through_json() -> None:
    from rigcheck.facts import from_json, to_json

    facts = parse_text("NVRM: Xid (PCI:0000:3b:00): 79, pid=1, GPU has fallen off the bus.\n"
                       "torch==2.3.0+cu121\nflash_attn==2.5.8\n")
    back = from_json(to_json(facts))
    assert back.paste_lines == facts.paste_lines and back.paste.kinds == facts.paste.kinds
    assert back.torch.stack == {"torch": "2.3.0+cu121", "flash-attn": "2.5.8"}
    assert [f.id for f in findings(back, [])] == ["sig.xid.79"]
