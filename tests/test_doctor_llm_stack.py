"""The LLM library stack checks, each at its trigger and its clear, against the libraries' own
published statements (written here, not read from rigcheck's table):

* xFormers CHANGELOG: 0.0.28.post3 "Pre-built binary wheels require PyTorch 2.5.1"; 0.0.28.post2
  2.5.0; 0.0.30 2.7.0; 0.0.31 "We will no longer support V100 or older GPUs".
* vLLM 0.8.x pins torch 2.6.0 (vllm#13434, LMCache#583); 0.7.x torch 2.5.1.
* "torch 2.5.1+cu121 requires triton==3.1.0" (triton#5058); torch 2.6.0 -> triton 3.2.0.
* FlashAttention-2: Ampere, Ada, Hopper only (README); Triton: CUDA capability >= 7.0.
* bitsandbytes: official Windows wheels from 0.43.0 (bitsandbytes#1043).
* DeepSpeed: "Installed CUDA version X does not match the version torch was compiled with Y".
"""

from __future__ import annotations

import pytest

from rigcheck.doctor import run_checks
from rigcheck.doctor import stack as table
from rigcheck.facts import TorchDevice
from tests.doctor_factories import by_id, cpu_box, gpu, healthy


def run(facts, check_id):
    return by_id(run_checks(facts, only={check_id}))[check_id]


def box(stack, torch="2.5.1+cu124", cap="9.0", os="Ubuntu 22.04.4 LTS", nvcc=None, name=None):
    f = healthy(1)
    f.torch.version = torch
    f.torch.stack = dict(stack)
    f.nvml.gpus = [gpu(0, compute_capability=cap, **({"name": name} if name else {}))]
    f.torch.devices = [TorchDevice(0, name or "GPU", cap, 16.0)]
    f.host.os = os
    f.python.nvcc_version = nvcc
    return f


@pytest.mark.parametrize("xformers,torch,status", [
    ("0.0.28.post3", "2.5.1+cu124", "ok"),     # just inside: the torch it was built for
    ("0.0.28.post2", "2.5.1+cu124", "fail"),   # just past: the previous post release wants 2.5.0
    ("0.0.28.post2", "2.5.0+cu124", "ok"),
    ("0.0.30", "2.7.0+cu128", "ok"), ("0.0.30", "2.7.1+cu128", "fail"),
])
def test_xformers_torch_pin(xformers, torch, status):
    f = run(box({"xformers": xformers}, torch=torch), "stack.torch_pin")
    assert f.status == status, f.summary


def test_xformers_fix_keeps_your_torch():
    f = run(box({"xformers": "0.0.28.post2"}, torch="2.5.1+cu124"), "stack.torch_pin")
    assert "pip install --no-deps xformers==0.0.28.post3" in f.fix
    assert "xformers 0.0.28.post2 needs torch 2.5.0" in f.summary


@pytest.mark.parametrize("vllm,torch,status", [
    ("0.8.5", "2.6.0+cu124", "ok"), ("0.8.5.post1", "2.6.0", "ok"),
    ("0.8.5", "2.5.1+cu124", "fail"), ("0.7.3", "2.5.1+cu124", "ok"), ("0.7.3", "2.6.0", "fail"),
])
def test_vllm_pins_one_torch(vllm, torch, status):
    f = run(box({"vllm": vllm}, torch=torch), "stack.torch_pin")
    assert f.status == status
    if status == "fail":
        assert f"vllm=={vllm}" in f.fix and "venv" in f.fix


def test_unknown_release_is_not_judged():
    f = run(box({"vllm": "0.9.1"}, torch="2.7.0"), "stack.torch_pin")
    assert f.status == "skip" and "not in the compatibility table" in f.summary


@pytest.mark.parametrize("triton,torch,status", [
    ("3.1.0", "2.5.1+cu124", "ok"), ("3.2.0", "2.5.1+cu124", "fail"),
    ("3.0.0", "2.5.1+cu124", "fail"), ("3.2.0", "2.6.0+cu126", "ok"),
])
def test_triton_matches_torch(triton, torch, status):
    f = run(box({"triton": triton}, torch=torch), "stack.triton")
    assert f.status == status
    if status == "fail":
        assert 'pip install "triton==' in f.fix


def test_triton_not_judged_off_linux():
    f = run(box({"triton": "3.0.0"}, os="Microsoft Windows 11 Pro"), "stack.triton")
    assert f.status == "skip"


@pytest.mark.parametrize("cap,status", [("8.0", "ok"), ("7.5", "fail"), ("8.6", "ok")])
def test_flash_attn_needs_ampere(cap, status):
    f = run(box({"flash-attn": "2.6.3"}, cap=cap), "stack.gpu_arch")
    assert f.status == status
    if status == "fail":
        assert "flash-attn 2.6.3 needs compute capability >= 8.0" in f.summary and "sdpa" in f.fix


def test_flash_attn_1_on_turing_is_fine():
    assert run(box({"flash-attn": "1.0.9"}, cap="7.5"), "stack.gpu_arch").status == "ok"


@pytest.mark.parametrize("cap,status", [("7.0", "ok"), ("6.1", "fail")])
def test_triton_and_vllm_need_volta(cap, status):
    f = run(box({"triton": "3.1.0", "vllm": "0.7.3"}, cap=cap), "stack.gpu_arch")
    assert f.status == status


@pytest.mark.parametrize("xformers,cap,status", [
    ("0.0.31", "7.5", "ok"), ("0.0.31", "7.0", "fail"), ("0.0.30", "7.0", "ok")])
def test_xformers_dropped_volta_in_0_0_31(xformers, cap, status):
    assert run(box({"xformers": xformers}, cap=cap), "stack.gpu_arch").status == status


def test_capability_from_the_gpu_name_when_a_paste_lacks_it():
    f = box({"flash-attn": "2.5.8"}, cap="7.5", name="Tesla T4")
    f.nvml.gpus[0].compute_capability = None
    f.torch.devices = []
    assert run(f, "stack.gpu_arch").status == "fail"


@pytest.mark.parametrize("bnb,os,status", [
    ("0.43.0", "Microsoft Windows 11 Pro", "ok"), ("0.42.0", "Microsoft Windows 11 Pro", "fail"),
    ("0.41.1", "Ubuntu 22.04.4 LTS", "ok"),
])
def test_bitsandbytes_windows_wheels_from_0_43(bnb, os, status):
    f = run(box({"bitsandbytes": bnb}, os=os), "stack.os")
    assert f.status == status
    if status == "fail":
        assert f.fix == 'pip install -U "bitsandbytes>=0.43.0"'


def test_vllm_on_windows_fails():
    assert run(box({"vllm": "0.8.5"}, os="Microsoft Windows 10"), "stack.os").status == "fail"


def test_gpu_libraries_with_a_cpu_torch():
    f = cpu_box()
    f.torch.stack = {"bitsandbytes": "0.45.0", "transformers": "4.46.0"}
    out = run(f, "stack.gpu_build")
    assert out.status == "warn" and "bitsandbytes" in out.summary and "transformers" not in out.summary
    f.torch.stack = {"transformers": "4.46.0", "peft": "0.13.0"}
    assert run(f, "stack.gpu_build").status == "ok"


@pytest.mark.parametrize("nvcc,status", [("12.1", "ok"), ("11.8", "fail"), (None, "warn")])
def test_deepspeed_nvcc_major(nvcc, status):
    f = run(box({"deepspeed": "0.15.4"}, torch="2.5.1+cu124", nvcc=nvcc), "stack.deepspeed_nvcc")
    assert f.status == status


def test_not_collected_is_a_skip_and_none_installed_is_ok():
    f = healthy(1)
    f.torch.stack = f.torch.nvidia_wheels = f.python.conda_packages = None
    assert run(f, "stack.versions").status == "skip"
    f.torch.stack = {}
    assert run(f, "stack.versions").status == "ok"
    assert run(f, "stack.torch_pin").status == "ok"


def test_conda_and_pip_names_are_normalised():
    f = box({})
    f.python.conda_packages = {"Flash_Attn": "2.6.3"}
    assert "flash-attn 2.6.3" in run(f, "stack.versions").summary


def test_table_rows_all_have_sources_and_parse():
    tab = table.load()
    assert tab.dated and tab.torch_pins and tab.triton and tab.gpu and tab.os
    for row in (*tab.torch_pins, *tab.triton, *tab.gpu, *tab.os):
        assert row.source.startswith("https://"), row
    with pytest.raises(ValueError, match="lacks"):
        table.parse('dated = "x"\n[[triton]]\ntorch = "2.5"\n')


@pytest.mark.parametrize("a,b,same", [
    ("2.5.1+cu124", "2.5.1", True), ("2.5", "2.5.0", True), ("0.0.28.post3", "0.0.28.post2", False),
    ("0.0.28", "0.0.28.post1", False)])
def test_same_release(a, b, same):
    assert table.same_release(a, b) is same


def test_older():
    assert table.older("0.42.0", "0.43.0") and not table.older("0.43", "0.43.0")
    assert not table.older("0.43.1", "0.43.0") and table.older("0.9", "0.10")


# ---- every check's skip paths and the details of its verdict --------------------------------

STACK_CHECKS = ["stack.versions", "stack.torch_pin", "stack.triton", "stack.gpu_arch", "stack.os",
                "stack.gpu_build", "stack.deepspeed_nvcc"]


@pytest.mark.parametrize("cid", STACK_CHECKS)
def test_every_stack_check_skips_when_versions_were_not_collected(cid):
    f = healthy(1)
    f.torch.stack = f.torch.nvidia_wheels = f.python.conda_packages = None
    f.not_collected["packages"] = "not in an nvidia-smi paste"
    out = run(f, cid)
    assert out.status == "skip" and out.summary == "skipped: not in an nvidia-smi paste"


def test_skip_reason_without_a_not_collected_entry():
    f = healthy(1)
    f.torch.stack = f.torch.nvidia_wheels = f.python.conda_packages = None
    assert run(f, "stack.versions").summary == "skipped: installed library versions not collected"


def test_only_stack_packages_with_a_version_count():
    f = box({"numpy": "1.26.4", "bitsandbytes": "", "peft": "0.13.0"})
    assert run(f, "stack.versions").summary.startswith("peft 0.13.0 (compatibility table dated")


def test_pytorch_triton_counts_as_triton():
    f = box({"pytorch-triton": "3.2.0"}, torch="2.5.1+cu124")
    assert run(f, "stack.triton").status == "fail"
    f = box({"pytorch-triton": "3.2.0", "triton": "3.1.0"}, torch="2.5.1+cu124")
    assert run(f, "stack.triton").status == "ok"


def test_none_installed_lists_the_stack_without_pytorch_names():
    s = run(box({}), "stack.versions").summary
    assert s.startswith("none of bitsandbytes, flash-attn") and "pytorch-triton" not in s


@pytest.mark.parametrize("cuda,hip,index", [
    ("12.4", None, "https://download.pytorch.org/whl/cu124"),
    (None, "6.2.41133-dd7f95766", "https://download.pytorch.org/whl/rocm6.2"),
    (None, None, "https://download.pytorch.org/whl/cpu"),
])
def test_torch_index(cuda, hip, index):
    from rigcheck.doctor.checks.llm_stack import torch_index

    f = healthy(1)
    f.torch.cuda_build, f.torch.hip_build = cuda, hip
    assert torch_index(f) == index


def test_xformers_without_a_release_for_your_torch_pins_torch():
    f = run(box({"xformers": "0.0.33"}, torch="2.3.2+cu121"), "stack.torch_pin")
    f_cuda = box({"xformers": "0.0.33"}, torch="2.3.2+cu121")
    f_cuda.torch.cuda_build = "12.1"
    f = run(f_cuda, "stack.torch_pin")
    assert f.status == "fail"
    assert f.fix == ("pip install torch==2.9.0 --index-url https://download.pytorch.org/whl/cu121"
                     "   # the torch xformers 0.0.33 was built for")


def test_torch_pin_torch_unknown_and_mixed_known_unknown():
    f = box({"xformers": "0.0.28.post3"})
    f.torch.version = None
    assert run(f, "stack.torch_pin").summary == "skipped: torch version unknown"
    out = run(box({"xformers": "0.0.28.post3", "vllm": "0.9.1"}), "stack.torch_pin")
    assert out.status == "ok" and "not in the table dated" in out.summary and "vllm 0.9.1" in out.summary
    out = run(box({"xformers": "0.0.28.post3"}), "stack.torch_pin")
    assert out.summary == "xformers 0.0.28.post3 built for torch 2.5.1"


def test_triton_edges():
    f = box({})
    assert run(f, "stack.triton").summary == "no triton installed (torch.compile on GPU needs it)"
    f.torch.cuda_build = None
    assert run(f, "stack.triton").summary == "no triton installed"
    f = box({"triton": "3.1.0"})
    f.torch.version = None
    assert run(f, "stack.triton").summary == "skipped: torch version unknown"
    out = run(box({"triton": "3.1.0"}, torch="2.3.1"), "stack.triton")
    assert out.status == "skip" and "not in the table" in out.summary
    assert run(box({"triton": "3.1"}, torch="2.5.1"), "stack.triton").status == "ok"


def test_gpu_arch_edges():
    f = box({"flash-attn": "2.6.3"})
    f.nvml.gpus[0].compute_capability = None
    f.nvml.gpus[0].name = "Mystery GPU"
    f.torch.devices = []
    assert run(f, "stack.gpu_arch").summary == "skipped: no GPU capability known"
    out = run(box({"flash-attn": "2.6.3", "vllm": "0.7.3"}, cap="7.5"), "stack.gpu_arch")
    assert out.status == "fail" and "FlashAttention-2" in out.detail and "vLLM" not in out.detail
    assert run(box({"peft": "0.13"}), "stack.gpu_arch").summary == \
        "no installed library with a GPU-architecture floor"
    out = run(box({"flash-attn": "2.6.3"}, cap="8.6"), "stack.gpu_arch")
    assert out.summary == "flash-attn run on sm_86"


@pytest.mark.parametrize("os,kind", [("Microsoft Windows 11 Pro", "windows"), ("Darwin 23.4.0", "macos"),
                                     ("macOS 14.4", "macos"), ("Ubuntu 22.04.4 LTS", "linux"),
                                     (None, None), ("", None)])
def test_os_kind(os, kind):
    from rigcheck.doctor.checks.llm_stack import os_kind

    f = healthy(1)
    f.host.os = os
    assert os_kind(f) == kind


def test_os_edges():
    f = box({"vllm": "0.8.5"}, os="Darwin 23.4.0")
    out = run(f, "stack.os")
    assert out.status == "fail" and "vllm 0.8.5 on macos" in out.summary
    f.host.os = None
    assert run(f, "stack.os").summary == "skipped: operating system unknown"
    assert run(box({"peft": "0.13"}, os="Microsoft Windows 11"), "stack.os").summary == \
        "no installed library known to lack windows support"


def test_gpu_build_edges():
    f = box({"bitsandbytes": "0.45.0"})
    assert run(f, "stack.gpu_build").summary == "bitsandbytes with torch 2.5.1+cu124 (CUDA 12.4)"
    f.torch.cuda_build, f.torch.hip_build = None, "6.2.41133"
    assert run(f, "stack.gpu_build").summary == "bitsandbytes with torch 2.5.1+cu124 (ROCm 6.2.41133)"
    f.torch.hip_build, f.torch.mps_built = None, True
    out = run(f, "stack.gpu_build")
    assert out.status == "warn" and "Apple MPS is not CUDA" in out.summary
    assert "whl/cu12" in out.fix   # a CUDA wheel for the H100 that is there
    f.nvml.gpus, f.torch.devices, f.torch.mps_built = [], [], False
    out = run(f, "stack.gpu_build")
    assert "Apple" not in out.summary and out.fix.startswith("pip install torch==<version>")
    f.torch.version = None
    assert run(f, "stack.gpu_build").summary == "skipped: torch version unknown"


def test_deepspeed_on_cpu_torch_skips():
    f = box({"deepspeed": "0.15.4"}, nvcc="12.4")
    f.torch.cuda_build = None
    assert run(f, "stack.deepspeed_nvcc").summary == "skipped: torch is not a CUDA build"
    assert run(box({}), "stack.deepspeed_nvcc").summary == "DeepSpeed not installed"


def test_a_pasted_pip_list_counts(monkeypatch):
    f = box({})
    f.torch.stack = None
    object.__setattr__(f.python, "packages", {"xformers": "0.0.28.post2"})
    assert run(f, "stack.torch_pin").status == "fail"
