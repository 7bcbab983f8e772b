"""How a paste gets in: `--facts -` from a pipe, .gz bug reports, binary and huge files, other
tools' reports read into facts (issue 11, items 1 and 3)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rigcheck.facts import FactsError
from rigcheck.probe.importers import READ_HEAD_BYTES, load_facts_file, parse_text
from rigcheck.ui.app import app

XID79 = "[ 1843.308145] NVRM: Xid (PCI:0000:b3:00): 79, pid=2213, GPU has fallen off the bus.\n"


@pytest.mark.parametrize("flag", ["--facts", "--paste"])
def test_pipe_into_doctor_facts_dash(flag: str) -> None:
    res = CliRunner().invoke(app, ["doctor", flag, "-", "--json"], input=XID79)
    assert res.exit_code == 1, res.output
    out = json.loads(res.output)
    by_id = {f["id"]: f for f in out["findings"]}
    assert by_id["sig.xid.79"]["status"] == "fail"
    assert out["facts_origin"]["origin"] == "paste" and out["facts_origin"]["note"] == "stdin"


def test_pipe_of_nothing_recognisable_is_one_line_exit_2() -> None:
    res = CliRunner().invoke(app, ["doctor", "--facts", "-"], input="it does not work, help\n")
    assert res.exit_code == 2
    assert "nothing rigcheck recognises" in res.output and "collect_env" in res.output
    assert "Traceback" not in res.output


def test_binary_garbage_says_what_to_paste(tmp_path: Path) -> None:
    p = tmp_path / "core"
    p.write_bytes(bytes(range(256)) * 400)
    with pytest.raises(FactsError, match="binary data, nothing rigcheck recognises; paste the full error"):
        load_facts_file(p)


def test_gzipped_bug_report_is_read(tmp_path: Path) -> None:
    p = tmp_path / "nvidia-bug-report.log.gz"
    p.write_bytes(gzip.compress(b"____ Start of NVIDIA bug report log file\n" + XID79.encode()))
    facts = load_facts_file(p)
    assert "nvidia-bug-report.log" in facts.paste.kinds and any("Xid" in pl.text for pl in facts.paste_lines)


def test_huge_log_reads_head_and_tail(tmp_path: Path) -> None:
    """A log longer than the read bound: the error at its end is still found, and it says it was cut."""
    p = tmp_path / "kern.log"
    filler = b"[    1.000000] usb 1-1: new high-speed USB device number 2 using xhci_hcd\n"
    with p.open("wb") as fh:
        fh.write(filler * (READ_HEAD_BYTES // len(filler) + 20000))
        fh.write(XID79.encode())
    facts = load_facts_file(p)
    assert facts.paste.truncated is True
    assert any("Xid" in pl.text for pl in facts.paste_lines)


def test_huge_file_without_anything_known_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "big.txt"
    p.write_bytes(b"lorem ipsum dolor sit amet\n" * (READ_HEAD_BYTES // 27 + 50000))
    with pytest.raises(FactsError, match="nothing rigcheck recognises"):
        load_facts_file(p)


# ---- other tools' reports -----------------------------------------------------------------------

def test_pip_list_and_nvcc() -> None:
    text = """Package                  Version
------------------------ ------------
bitsandbytes             0.41.1
flash_attn               2.5.8
torch                    2.3.0+cu121
nvidia-cudnn-cu12        8.9.2.26

nvcc: NVIDIA (R) Cuda compiler driver
Cuda compilation tools, release 12.4, V12.4.131
"""
    f = parse_text(text)
    assert f.torch.stack["flash-attn"] == "2.5.8" and f.torch.stack["bitsandbytes"] == "0.41.1"
    assert f.torch.version == "2.3.0+cu121" and f.torch.cuda_build == "12.1"
    assert f.torch.nvidia_wheels == {"nvidia-cudnn-cu12": "8.9.2.26"}
    assert f.python.nvcc_version == "12.4"
    assert {"pip list", "nvcc --version"} <= set(f.paste.kinds)


def test_conda_list() -> None:
    text = """# packages in environment at /home/u/miniconda3/envs/t:
#
# Name                    Version                   Build  Channel
cudatoolkit               11.8.0              h6a678d5_0
pytorch                   2.1.0           py3.10_cuda11.8_cudnn8.7.0_0    pytorch
"""
    f = parse_text(text)
    assert f.torch.stack["pytorch"] == "2.1.0" and "conda list" in f.paste.kinds
    assert f.torch.version == "2.1.0"


def test_accelerate_env() -> None:
    text = """- `Accelerate` version: 0.27.2
- Platform: Linux-5.15.0-91-generic-x86_64-with-glibc2.35
- Python version: 3.10.12
- Numpy version: 1.26.4
- PyTorch version (GPU?): 2.2.1+cu121 (True)
- System RAM: 62.60 GB
- GPU type: NVIDIA GeForce RTX 3090
"""
    f = parse_text(text)
    assert f.torch.stack["accelerate"] == "0.27.2" and f.torch.version == "2.2.1+cu121"
    assert f.torch.cuda_available is True and f.host.glibc == "2.35" and f.host.wsl is False
    assert f.paste.hints["gpu_name"] == "NVIDIA GeForce RTX 3090" and "accelerate env" in f.paste.kinds


def test_bitsandbytes_report() -> None:
    text = ("CUDA specs: CUDASpecs(highest_compute_capability=(8, 6), cuda_version_string='121', "
            "cuda_version_tuple=(12, 1))\nPyTorch settings found: CUDA_VERSION=121, Highest Compute "
            "Capability: (8, 6).\n")
    f = parse_text(text)
    assert f.paste.hints["gpu_cc"] == "8.6" and f.paste.hints["bnb_cuda"] == "12.1"
    assert "python -m bitsandbytes" in f.paste.kinds


def test_rocminfo_and_system_profiler() -> None:
    f = parse_text("HSA System Attributes\n  Name:                    gfx1031\n"
                   "  Marketing Name:          AMD Radeon RX 6700 XT\n")
    assert f.paste.hints["gfx_target"] == "gfx1031" and "rocminfo" in f.paste.kinds
    assert f.paste.hints["gpu_name"] == "AMD Radeon RX 6700 XT"
    f = parse_text("Graphics/Displays:\n\n    Apple M2 Pro:\n\n      Chipset Model: Apple M2 Pro\n"
                   "      Type: GPU\n      Total Number of Cores: 19\n      Metal Support: Metal 3\n")
    assert f.paste.hints["apple_chip"] == "Apple M2 Pro" and "system_profiler" in f.paste.kinds


def test_dmesg_driver_version() -> None:
    f = parse_text("[    5.1] NVRM: loading NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 2024\n"
                   + XID79)
    assert f.nvml.driver_version == "550.54.15" and "dmesg" in f.paste.kinds
