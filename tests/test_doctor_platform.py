"""AMD ROCm, Apple MPS and Intel XPU, from recorded-shape facts through the doctor.

Independent expectations: ROCm 6.2's Linux system requirements list gfx906, gfx908, gfx90a,
gfx942, gfx1030, gfx1100 (not gfx1031: the RX 6700 XT); RX 67xx (gfx1031) runs gfx1030 code with
HSA_OVERRIDE_GFX_VERSION=10.3.0 (ROCm#2353); ROCm needs the render/video group for /dev/kfd;
MPS needs macOS 12.3+ and an arm64 Python (developer.apple.com/metal/pytorch).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rigcheck.doctor import run_checks
from rigcheck.doctor.checks.platform import gfx_of_override
from rigcheck.facts import AmdFacts, AmdGpu, from_json
from rigcheck.probe.amd import collect_amd, gfx_from_target_version
from rigcheck.probe.importers import load_facts_file
from tests.doctor_factories import by_id, healthy

FIX = Path(__file__).parent / "fixtures" / "facts"


def doctor(name):
    return by_id(run_checks(load_facts_file(FIX / name)))


def test_rx6700xt_gfx1031_needs_the_override_and_the_render_group():
    f = doctor("rocm_rx6700xt_gfx1031.json")
    assert f["rocm.torch_build"].status == "ok"
    gfx = f["rocm.gfx_target"]
    assert gfx.status == "fail" and "gfx1031" in gfx.summary
    assert gfx.fix.startswith("export HSA_OVERRIDE_GFX_VERSION=10.3.0")
    kfd = f["rocm.kfd"]
    assert kfd.status == "fail" and "/dev/kfd" in kfd.summary and "usermod -aG render,video" in kfd.fix


def test_the_override_clears_it():
    facts = load_facts_file(FIX / "rocm_rx6700xt_gfx1031.json")
    facts.python.env["HSA_OVERRIDE_GFX_VERSION"] = "10.3.0"
    f = by_id(run_checks(facts, only={"rocm.gfx_target", "rocm.hsa_override"}))
    assert f["rocm.gfx_target"].status == "ok" and "runs gfx1030 kernels" in f["rocm.gfx_target"].summary
    assert f["rocm.hsa_override"].status == "ok"


def test_a_wrong_family_override_fails():
    facts = load_facts_file(FIX / "rocm_rx6700xt_gfx1031.json")
    facts.python.env["HSA_OVERRIDE_GFX_VERSION"] = "11.0.0"
    f = by_id(run_checks(facts, only={"rocm.gfx_target", "rocm.hsa_override"}))
    assert f["rocm.hsa_override"].status == "fail"
    assert f["rocm.gfx_target"].status == "ok"   # gfx1100 kernels exist; the override check says why not


def test_an_unneeded_override_on_a_supported_gpu_fails():
    facts = load_facts_file(FIX / "rocm_mi250x_gfx90a.json")
    facts.python.env["HSA_OVERRIDE_GFX_VERSION"] = "10.3.0"
    assert by_id(run_checks(facts, only={"rocm.hsa_override"}))["rocm.hsa_override"].status == "fail"


def test_mi250x_is_clean():
    f = doctor("rocm_mi250x_gfx90a.json")
    for cid in ("rocm.torch_build", "rocm.gfx_target", "rocm.hsa_override", "rocm.kfd"):
        assert f[cid].status == "ok", f[cid]
    assert "gfx90a" in f["rocm.gfx_target"].summary


def test_cuda_torch_on_an_amd_box_fails_with_a_rocm_wheel():
    facts = load_facts_file(FIX / "rocm_mi250x_gfx90a.json")
    facts.torch.hip_build, facts.torch.cuda_build, facts.torch.version = None, "12.4", "2.5.1+cu124"
    f = by_id(run_checks(facts, only={"rocm.torch_build"}))["rocm.torch_build"]
    assert f.status == "fail" and "torch==2.5.1 --index-url https://download.pytorch.org/whl/rocm6.2" in f.fix


def test_without_torch_arch_list_the_rocm_table_decides():
    facts = load_facts_file(FIX / "rocm_rx6700xt_gfx1031.json")
    facts.torch.arch_list = None
    f = by_id(run_checks(facts, only={"rocm.gfx_target"}))["rocm.gfx_target"]
    assert f.status == "fail" and "ROCm 6.2" in f.summary
    facts.amd.gpus = [AmdGpu(0, "AMD Radeon RX 7900 XTX", "gfx1100")]
    assert by_id(run_checks(facts, only={"rocm.gfx_target"}))["rocm.gfx_target"].status == "ok"


def test_nvidia_box_skips_rocm_checks():
    f = by_id(run_checks(healthy(1)))
    assert all(f[c].status == "skip" for c in ("rocm.torch_build", "rocm.gfx_target", "rocm.kfd"))
    assert f["rocm.hsa_override"].status == "ok" and f["mps.available"].status == "skip"


def test_mps_under_rosetta():
    f = doctor("mps_m1_rosetta.json")["mps.available"]
    assert f.status == "fail" and "Rosetta" in f.summary and "arm64 Python" in f.fix


def test_mps_on_macos_12_1():
    f = doctor("mps_macos_12_1.json")["mps.available"]
    assert f.status == "fail" and "macOS 12.1: MPS needs macOS 12.3" in f.summary


@pytest.mark.parametrize("mac,status", [("12.3", "warn"), ("12.2.1", "fail")])
def test_mps_macos_boundary(mac, status):
    facts = load_facts_file(FIX / "mps_macos_12_1.json")
    facts.host.macos_version = mac
    assert by_id(run_checks(facts, only={"mps.available"}))["mps.available"].status == status


def test_mps_available_is_ok():
    facts = load_facts_file(FIX / "mps_m1_rosetta.json")
    facts.host.rosetta, facts.host.arch, facts.torch.mps_available = False, "arm64", True
    assert by_id(run_checks(facts, only={"mps.available"}))["mps.available"].status == "ok"


def test_xpu():
    f = healthy(1)
    f.torch.xpu_available, f.torch.xpu_device_count = True, 1
    f.torch.xpu_devices = ["Intel(R) Arc(TM) A770 Graphics"]
    out = by_id(run_checks(f, only={"xpu.available"}))["xpu.available"]
    assert out.status == "ok" and "Arc" in out.summary


@pytest.mark.parametrize("value,gfx", [(110000, "gfx1100"), (90010, "gfx90a"), (90402, "gfx942"),
                                       (100301, "gfx1031"), (0, None)])
def test_kfd_target_version(value, gfx):
    assert gfx_from_target_version(value) == gfx


@pytest.mark.parametrize("value,gfx", [("10.3.0", "gfx1030"), ("11.0.0", "gfx1100"),
                                       ("9.0.10", "gfx90a"), ("ten", None)])
def test_override_value(value, gfx):
    assert gfx_of_override(value) == gfx


def test_collect_amd_from_a_fake_topology(tmp_path):
    for node, tv in ((0, 0), (1, 100301)):   # node 0 is the CPU
        d = tmp_path / str(node)
        d.mkdir()
        (d / "properties").write_text(f"cpu_cores_count 16\ngfx_target_version {tv}\n")
    facts = collect_amd(use_amdsmi=False, topology=str(tmp_path), kfd=str(tmp_path / "kfd"))
    assert isinstance(facts, AmdFacts) and facts.available
    assert [g.gfx_target for g in facts.gpus] == ["gfx1031"] and facts.kfd_present is False


def test_collect_amd_without_anything(tmp_path):
    facts = collect_amd(topology=str(tmp_path), kfd=str(tmp_path / "kfd"))
    assert not facts.available and facts.error is None and facts.gpus == []
    (tmp_path / "kfd").write_text("")
    facts = collect_amd(use_amdsmi=False, topology=str(tmp_path), kfd=str(tmp_path / "kfd"))
    assert facts.kfd_present and "no GPU node" in (facts.error or "")


def test_rocm_json_through_the_cli():
    from typer.testing import CliRunner

    from rigcheck.ui.app import app

    res = CliRunner().invoke(app, ["doctor", "--facts", str(FIX / "rocm_rx6700xt_gfx1031.json"),
                                   "--json"])
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    got = {f["id"]: f["status"] for f in data["findings"]}
    assert got["rocm.gfx_target"] == "fail" and data["summary"]["categories"]["platform"] == "fail"


def test_fixtures_are_facts_files():
    for name in ("rocm_rx6700xt_gfx1031", "rocm_mi250x_gfx90a", "mps_m1_rosetta", "mps_macos_12_1"):
        assert from_json((FIX / f"{name}.json").read_text()).origin == "probe"


# ---- each branch and message (mutation testing found these unpinned) ----------------------

from rigcheck.doctor.checks.platform import PlatformTable, amd_gpus  # noqa: E402
from rigcheck.facts import DeviceNode, TorchDevice  # noqa: E402


def one(facts, cid):
    return by_id(run_checks(facts, only={cid}))[cid]


def rx(**kw):
    facts = load_facts_file(FIX / "rocm_rx6700xt_gfx1031.json")
    for k, v in kw.items():
        obj, attr = k.split("__")
        setattr(getattr(facts, obj), attr, v)
    return facts


def test_rocm_targets_pick_the_newest_release_at_or_below():
    t = PlatformTable("d", (("6.0", ("gfx90a",), "s60"), ("6.2", ("gfx90a", "gfx1100"), "s62")),
                      (), "12.3", "m")
    assert t.rocm_targets("6.1.3") == (("gfx90a",), "s60")
    assert t.rocm_targets("6.2.41133-dd7f95766") == (("gfx90a", "gfx1100"), "s62")
    assert t.rocm_targets("6.0") == (("gfx90a",), "s60")
    assert t.rocm_targets(None) == (("gfx90a", "gfx1100"), "s62")
    assert t.rocm_targets("5.7") == (("gfx90a",), "s60")       # older than any: the oldest list
    assert PlatformTable("d", (), (), "12.3", "m").rocm_targets("6.2") is None


def test_amd_gpus_from_torch_when_the_probe_saw_none():
    facts = rx()
    facts.amd.gpus = []
    facts.torch.devices = [TorchDevice(0, "AMD Radeon RX 7900 XTX", None, 24.0, "gfx1100:xnack-")]
    assert amd_gpus(facts) == [("cuda:0 (AMD Radeon RX 7900 XTX)", "gfx1100")]
    facts.torch.hip_build = None
    assert amd_gpus(facts) == []
    facts.amd.gpus = [AmdGpu(3, None, None)]
    assert amd_gpus(facts) == [("GPU 3 (AMD GPU)", None)]


def test_no_amd_reasons():
    f = healthy(1)
    assert one(f, "rocm.kfd").summary == "skipped: no AMD GPU"
    f.amd.error = "amdsmi_init failed: x"
    assert one(f, "rocm.kfd").summary == "skipped: amdsmi_init failed: x"
    f.not_collected["amd"] = "not in a collect_env paste"
    assert one(f, "rocm.kfd").summary == "skipped: not in a collect_env paste"


def test_rocm_torch_build_messages():
    assert one(rx(), "rocm.torch_build").summary == "torch 2.5.1+rocm6.2 is a ROCm 6.2.41133-dd7f95766 build"
    f = one(rx(torch__hip_build=None, torch__cuda_build=None, torch__version="2.4.0+cpu"), "rocm.torch_build")
    assert f.summary == "1 AMD GPU(s), but torch 2.4.0+cpu is a CPU-only build"
    assert f.fix.startswith("pip install --force-reinstall torch==2.4.0 --index-url "
                            "https://download.pytorch.org/whl/rocm6.2")
    assert one(rx(torch__version=None, torch__installed=False), "rocm.torch_build").summary == \
        "skipped: torch not installed"
    assert one(rx(torch__version=None), "rocm.torch_build").summary == "skipped: torch version unknown"


def test_gfx_target_skips_and_unfixable_gpus():
    assert one(rx(torch__hip_build=None), "rocm.gfx_target").summary.startswith("skipped: torch is not a ROCm")
    facts = rx()
    facts.amd.gpus = [AmdGpu(0, "AMD GPU", None)]
    assert one(facts, "rocm.gfx_target").summary == "skipped: no gfx target known for the AMD GPU(s)"
    facts.amd.gpus = [AmdGpu(0, "AMD Radeon 680M", "gfx1035"), AmdGpu(1, "Radeon VII", "gfx906:xnack-")]
    out = one(facts, "rocm.gfx_target")
    assert out.status == "fail" and "gfx1035" in out.summary and "gfx906" not in out.summary
    assert out.fix.startswith("export HSA_OVERRIDE_GFX_VERSION=10.3.0")
    assert "Supported: gfx1030, gfx1100, gfx900, gfx906, gfx908, gfx90a, gfx942." in out.detail
    facts.amd.gpus = [AmdGpu(0, "Radeon RX 5700 XT", "gfx1010")]
    out = one(facts, "rocm.gfx_target")
    assert out.status == "fail" and "PYTORCH_ROCM_ARCH" in out.fix
    assert out.summary == "GPU 0 (Radeon RX 5700 XT) is gfx1010, not in torch 2.5.1+rocm6.2's arch list"


def test_gfx_target_ok_lists_the_targets():
    facts = load_facts_file(FIX / "rocm_mi250x_gfx90a.json")
    assert one(facts, "rocm.gfx_target").summary == "gfx90a in torch 2.5.1+rocm6.2's arch list"


def test_a_forced_target_the_build_lacks():
    facts = rx()
    facts.python.env["HSA_OVERRIDE_GFX_VERSION"] = "10.1.0"
    out = one(facts, "rocm.gfx_target")
    assert out.status == "fail" and "(forced to gfx1010)" in out.summary


def test_hsa_override_edges():
    facts = rx()
    facts.not_collected["env"] = "not in a paste"
    assert one(facts, "rocm.hsa_override").summary == "skipped: not in a paste"
    facts = rx()
    facts.python.env["HSA_OVERRIDE_GFX_VERSION"] = "gfx1030"
    out = one(facts, "rocm.hsa_override")
    assert out.status == "fail" and out.fix == "unset HSA_OVERRIDE_GFX_VERSION"
    f = healthy(1)
    f.python.env["HSA_OVERRIDE_GFX_VERSION"] = "10.3.0"
    out = one(f, "rocm.hsa_override")
    assert out.status == "warn" and "no AMD GPU seen" in out.summary
    facts = rx()
    facts.python.env["HSA_OVERRIDE_GFX_VERSION"] = "10.3.0"
    assert one(facts, "rocm.hsa_override").summary == \
        "HSA_OVERRIDE_GFX_VERSION=10.3.0: gfx1030 kernels on gfx1031"


def test_kfd_edges():
    facts = load_facts_file(FIX / "rocm_mi250x_gfx90a.json")
    facts.amd.kfd_present = None
    assert one(facts, "rocm.kfd").summary == "skipped: /dev/kfd not checked"
    facts.amd.kfd_present = False
    out = one(facts, "rocm.kfd")
    assert out.summary == "AMD GPU but no /dev/kfd" and out.fix.startswith("sudo modprobe amdgpu")
    facts.host.container = "docker"
    out = one(facts, "rocm.kfd")
    assert out.summary == "AMD GPU but no /dev/kfd (in docker)" and "--device=/dev/kfd" in out.fix
    facts = load_facts_file(FIX / "rocm_mi250x_gfx90a.json")
    facts.amd.render_nodes = [DeviceNode("/dev/dri/renderD128", "crw-rw----", True, False)]
    out = one(facts, "rocm.kfd")
    assert out.summary == "no read-write access to /dev/dri/renderD128 (groups: bob, render, video)"
    facts.host.user_groups = None
    assert one(facts, "rocm.kfd").summary == "no read-write access to /dev/dri/renderD128"
    facts = load_facts_file(FIX / "rocm_mi250x_gfx90a.json")
    facts.amd.kfd_accessible, facts.host.user_groups = None, ["bob"]
    out = one(facts, "rocm.kfd")
    assert out.status == "warn" and out.summary == "user not in the render or video group (groups: bob)"
    facts.host.user_groups = ["bob", "video"]
    assert one(facts, "rocm.kfd").status == "ok"


def test_rx6700xt_kfd_message():
    assert one(rx(), "rocm.kfd").summary == \
        "no read-write access to /dev/kfd, /dev/dri/renderD128 (groups: alice, sudo)"


def mac(**kw):
    facts = load_facts_file(FIX / "mps_macos_12_1.json")
    for k, v in kw.items():
        obj, attr = k.split("__")
        setattr(getattr(facts, obj), attr, v)
    return facts


def test_mps_edges():
    assert one(mac(host__macos_version=None, host__os="Ubuntu 22.04"), "mps.available").summary == \
        "skipped: not macOS"
    assert one(mac(host__macos_version=None, host__os="macOS 14"), "mps.available").status == "warn"
    assert one(mac(torch__version=None, torch__installed=False), "mps.available").summary == \
        "skipped: torch not installed"
    assert one(mac(torch__version=None), "mps.available").summary == "skipped: torch version unknown"
    assert one(mac(torch__mps_built=None, torch__mps_available=None), "mps.available").summary == \
        "skipped: MPS state not collected"
    out = one(mac(host__macos_version="14.4", torch__mps_built=False), "mps.available")
    assert out.summary == "torch 2.2.2 was built without MPS"
    assert out.fix == "pip install --force-reinstall torch==2.2.2   # from an arm64 Python"
    out = one(mac(host__macos_version="14.4"), "mps.available")
    assert out.status == "warn" and out.summary == "torch 2.2.2 has MPS built in but not available (macOS 14.4)"
    out = one(mac(host__macos_version=None, host__os="Darwin 23.4.0"), "mps.available")
    assert out.summary == "torch 2.2.2 has MPS built in but not available"
    out = one(load_facts_file(FIX / "mps_m1_rosetta.json"), "mps.available")
    assert out.fix.endswith("then: pip install torch==2.2.2")
    assert out.source == "https://developer.apple.com/metal/pytorch/"


def test_xpu_edges():
    f = healthy(1)
    f.torch.xpu_available = None
    assert one(f, "xpu.available").summary == "skipped: torch has no XPU backend or was not probed"
    f.torch.xpu_available = False
    assert one(f, "xpu.available").summary == "skipped: no Intel XPU visible to torch"
    f.torch.xpu_available, f.torch.xpu_device_count, f.torch.xpu_devices = True, None, ["A", "B"]
    assert one(f, "xpu.available").summary == "2 Intel XPU(s): A, B"
    f.torch.xpu_devices = None
    assert one(f, "xpu.available").summary == "0 Intel XPU(s): ?"


def test_skip_reasons_come_from_the_paste():
    facts = load_facts_file(FIX / "rocm_mi250x_gfx90a.json")
    facts.amd.kfd_present = None
    facts.not_collected["kfd"] = "not in a rocm-smi paste"
    assert one(facts, "rocm.kfd").summary == "skipped: not in a rocm-smi paste"
    m = mac(torch__mps_built=None, torch__mps_available=None)
    m.not_collected["mps"] = "not in this paste"
    assert one(m, "mps.available").summary == "skipped: not in this paste"
    m = mac(torch__mps_built=True, torch__mps_available=None, host__macos_version="14.4")
    assert one(m, "mps.available").status == "warn"        # built, availability unknown: not a skip
    f = healthy(1)
    f.torch.xpu_available = None
    f.not_collected["xpu"] = "not in a collect_env paste"
    assert one(f, "xpu.available").summary == "skipped: not in a collect_env paste"
    f = healthy(1)
    f.python.error = "env probe failed"
    assert one(f, "rocm.hsa_override").summary == "skipped: environment not captured"


def test_a_readable_but_not_writable_render_node_and_the_node_list_cap():
    facts = load_facts_file(FIX / "rocm_mi250x_gfx90a.json")
    facts.amd.render_nodes = [DeviceNode(f"/dev/dri/renderD{128 + i}", "crw-rw----", False, True)
                              for i in range(5)]
    out = one(facts, "rocm.kfd")
    assert out.summary.startswith("no read-write access to /dev/dri/renderD128, "
                                  "/dev/dri/renderD129, /dev/dri/renderD130 (groups")
    facts.amd.render_nodes = None
    assert one(facts, "rocm.kfd").status == "ok"
