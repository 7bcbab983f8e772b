"""The CUDA/PyTorch build against this machine's GPUs and driver.

Compares the facts that matter (reference §0.6): ``torch.version.cuda`` against the driver's CUDA
from NVML, and torch's arch list against each device's capability; the nvcc on PATH only matters
for building extensions.
"""

from __future__ import annotations

import re

from rigcheck.doctor import wheels
from rigcheck.doctor.checks._util import (
    env,
    env_known,
    gpu_count,
    join,
    live_gpus,
    no_torch_reason,
    not_collected,
)
from rigcheck.doctor.findings import Outcome, fail, ok, skip, warn
from rigcheck.doctor.registry import Context, check
from rigcheck.facts import Facts

CAT = "cuda_torch_build"


def _capabilities(facts: Facts) -> list[tuple[str, str]]:
    """(label, capability) for each GPU, from NVML, else from torch's devices."""
    ok_cap = wheels.parse_capability
    caps = [(f"GPU {g.index} ({g.name or '?'})", c)
            for g in live_gpus(facts) if (c := g.compute_capability) and ok_cap(c)]
    if not caps:
        caps = [(f"cuda:{d.index} ({d.name or '?'})", c)
                for d in facts.torch.devices if (c := d.capability) and ok_cap(c)]
    if not caps:  # a paste names the GPU but not its capability
        caps = [(f"GPU {g.index} ({g.name}, capability from its name)", c)
                for g in live_gpus(facts) if (c := wheels.capability_from_name(g.name))]
    return caps


def _has_gpus(facts: Facts) -> bool:
    return bool(facts.nvml.gpus) or bool(facts.torch.devices) or bool(gpu_count(facts))


def _suggest(facts: Facts) -> str:
    """The install command for the wheel that fits every GPU here and the driver."""
    caps = [c for _, c in _capabilities(facts)]
    nv = facts.nvml
    if not caps and not _has_gpus(facts):
        return "pip install torch --index-url https://download.pytorch.org/whl/cpu   # no NVIDIA GPU here"
    dcuda = nv.cuda_driver_version or (wheels.cuda_for_driver(nv.driver_version)
                                       if nv.driver_version else None)
    flavour = wheels.flavour_for(caps or ["8.0"], dcuda)
    # Blame the driver only when some current wheel has these arches: a Kepler GPU fits no
    # current wheel on any driver, and updating the driver would not help it.
    if flavour is None and dcuda and wheels.flavour_for(caps or ["8.0"]) is not None:
        return (f"the driver supports CUDA {dcuda}, older than every current wheel: update the "
                f"driver, or install a torch built for CUDA <= {dcuda} "
                "(https://pytorch.org/get-started/previous-versions/)")
    return wheels.install_command(flavour)


@check("torch.installed", CAT, "PyTorch importable")
def installed(facts: Facts, ctx: Context) -> Outcome:
    t = facts.torch
    if t.error:
        fix = "python -c 'import torch'   # read the error; then: " + _suggest(facts)
        if re.search(r"lib\w+\.so[.\d]*: cannot open shared object file", t.error):
            # pytorch#104259: "Uninstall all nvidia related packages and reinstall".
            fix = ("pip uninstall -y $(pip list --format=freeze | grep -i '^nvidia-' | cut -d= -f1) "
                   "&& " + _suggest(facts))
        return fail(f"PyTorch could not be probed: {t.error}",
                    "An import that raises OSError usually means a missing CUDA library "
                    "(libcudart/libcudnn from a removed or mismatched nvidia-* wheel) or a broken "
                    "install.", fix)
    if t.installed is False:
        return warn("PyTorch is not installed in this Python",
                    f"Python: {facts.python.executable or '?'}.", _suggest(facts))
    if t.installed is None and not t.version:
        return skip(not_collected(facts, "torch") or "torch was not probed")
    kind = f"CUDA {t.cuda_build}" if t.cuda_build else (f"ROCm {t.hip_build}" if t.hip_build else "CPU-only")
    return ok(f"torch {t.version} ({kind} build)")


@check("torch.cpu_only_on_gpu", CAT, "CUDA build of torch on a GPU machine",
       source="https://github.com/pytorch/pytorch/issues/95121")
def cpu_only(facts: Facts, ctx: Context) -> Outcome:
    t = facts.torch
    if no_torch_reason(facts, need_cuda=False):
        return skip(no_torch_reason(facts, need_cuda=False))
    if t.cuda_build or t.hip_build:
        return ok(f"torch {t.version} is a CUDA {t.cuda_build} build" if t.cuda_build
                  else f"ROCm {t.hip_build} build")
    if _has_gpus(facts):
        names = sorted({g.name or "?" for g in facts.nvml.gpus})
        return fail(
            f"CPU-only torch {t.version} on a machine with {gpu_count(facts) or len(names)} NVIDIA "
            f"GPU(s) ({', '.join(names)})",
            "torch.version.cuda is None: this wheel cannot use the GPU. PyPI's default torch is "
            "CPU-only on Windows, and a '+cpu' wheel or conda 'cpuonly' gives the same.",
            _suggest(facts),
        )
    return ok(f"CPU-only torch {t.version} and no NVIDIA GPU (consistent)")


@check("torch.arch_missing", CAT, "torch built for each GPU's architecture",
       source="https://github.com/pytorch/pytorch/issues/153944")
def arch_missing(facts: Facts, ctx: Context) -> Outcome:
    t = facts.torch
    if not t.cuda_build:
        return skip(no_torch_reason(facts))
    caps = _capabilities(facts)
    if not caps:
        return skip("GPU compute capability unknown")
    arch = t.arch_list
    origin = "torch.cuda.get_arch_list()"
    if not arch:
        arch = wheels.wheel_arch_list(t.version, t.cuda_build)
        origin = f"rigcheck's table for the official {t.version} build"
        if not arch:
            return skip(f"arch list unknown for torch {t.version} CUDA {t.cuda_build}")
    bad, warns, notes = [], [], []
    for lab, cap in caps:
        verdict, why = wheels.arch_support(cap, arch)
        text = f"{lab} sm_{cap.replace('.', '')}: {why}"
        if verdict in ("missing", "too_old"):
            bad.append(text)
        elif verdict in ("above_max", "ptx"):
            warns.append(text)
        else:
            notes.append(text)
    detail = f"Arch list ({origin}): {' '.join(arch)}."
    if bad:
        fix = _suggest(facts)
        if "CPU build" in fix:
            fix = ("No current wheel ships this arch: use an older torch whose CUDA flavour still "
                   "has it (see pytorch.org/get-started/previous-versions), or build from source.")
        return fail("torch cannot run on " + join(bad),
                    detail + " Expect \"no kernel image is available for execution on the device\".",
                    fix)
    if warns:
        return warn("torch runs only by compatibility on " + join(warns),
                    detail + " It runs by CUDA binary compatibility (newer torch releases print "
                    "a capability warning), but kernels tuned for the newer arch, and its features "
                    "(e.g. FP8 on sm_89+), are missing.",
                    _suggest(facts))
    if len(caps) > 1 and len({c for _, c in caps}) == 1:
        verdict, why = wheels.arch_support(caps[0][1], arch)
        return ok(f"arch covered: {len(caps)} GPUs of sm_{caps[0][1].replace('.', '')}: {why}")
    return ok("arch covered: " + join(notes))


@check("torch.driver_too_old", CAT, "driver new enough for torch's CUDA",
       source="https://github.com/pytorch/pytorch/issues/112553")
def driver_too_old(facts: Facts, ctx: Context) -> Outcome:
    t = facts.torch
    if not t.cuda_build:
        return skip(no_torch_reason(facts))
    nv = facts.nvml
    if nv.cuda_driver_version is None and nv.driver_version is None:
        return skip(nv.error and f"no driver facts: {nv.error}" or "driver version unknown")
    verdict, why = wheels.driver_verdict(t.cuda_build, nv.cuda_driver_version, nv.driver_version)
    if verdict == "unknown":
        return skip(why)
    # A verdict means the driver's CUDA is known: from NVML, else from the driver version's row
    # in NVIDIA's table; and torch's CUDA version parsed.
    dcuda = nv.cuda_driver_version or f"{wheels.cuda_for_driver(str(nv.driver_version))} per NVIDIA's driver table"
    drv = (f"driver {nv.driver_version} (CUDA {dcuda})" if nv.driver_version
           else f"the driver (CUDA {dcuda})")
    if verdict == "too_old":
        mm = str(wheels._major_minor(t.cuda_build))
        need = wheels.MINOR_COMPAT_FLOOR.get(int(mm.split(".")[0])) or wheels.MIN_DRIVER.get(mm, "a newer one")
        return fail(
            f"{drv} is too old for torch {t.version} (CUDA {t.cuda_build})",
            why + ". torch says: \"The NVIDIA driver on your system is too old\". The CUDA "
            "toolkit on PATH (nvcc) does not matter for pip wheels.",
            f"Update the driver to >= {need} (sudo ubuntu-drivers install)"
            + (f", or a wheel this driver runs: {alt}" if (alt := _suggest(facts)).startswith("pip")
               else ", or install a torch built for the driver's CUDA "
                    "(https://pytorch.org/get-started/previous-versions/)"),
        )
    return ok(f"{drv} runs torch's CUDA {t.cuda_build}: {why}")


@check("torch.cuda_available", CAT, "torch.cuda.is_available()",
       source="https://github.com/pytorch/pytorch/issues/88639")
def cuda_available(facts: Facts, ctx: Context) -> Outcome:
    t = facts.torch
    if not t.cuda_build:
        return skip(no_torch_reason(facts))
    if t.cuda_available is None:
        return skip(not_collected(facts, "cuda_available") or "not probed")
    if t.cuda_available:
        return ok(f"CUDA available, {t.device_count} device(s)")
    err = (t.cuda_init_error or "").strip()
    if not _has_gpus(facts) and not facts.nvml.available:
        return ok(f"CUDA not available and no NVIDIA GPU here ({facts.nvml.error or 'no NVML'}); "
                  "this CUDA build runs on the CPU")
    hint = "sudo rmmod nvidia_uvm && sudo modprobe nvidia_uvm   # after suspend/resume; else reboot"
    if "804" in err or "forward compatibility" in err:
        hint = "see containers.cuda_compat"
    elif "too old" in err or wheels.driver_verdict(
            t.cuda_build, facts.nvml.cuda_driver_version, facts.nvml.driver_version)[0] == "too_old":
        hint = "the driver is too old for this torch: see torch.driver_too_old"
    elif env(facts, "CUDA_VISIBLE_DEVICES") is not None:
        hint = "see torch.cuda_visible_devices; " + hint
    return fail("torch is a CUDA build but torch.cuda.is_available() is False"
                + (f": {err.splitlines()[0]}" if err else ""),
                err or "No CUDA init error text was captured.", hint)


def parse_cvd(value: str, n_gpus: int, uuids: list[str]) -> tuple[list[str], list[str], str | None]:
    """Parse CUDA_VISIBLE_DEVICES like the CUDA runtime: -> (visible, ignored, problem).

    CUDA reads the comma list left to right and stops at the first invalid entry: entries after
    it are ignored. An empty value or "-1" hides every GPU (nvitop's parse_cuda_visible_devices).
    """
    entries = [e.strip() for e in value.split(",")]
    if value.strip() == "":  # also the only way the split gives [""]
        return [], [], "set but empty: hides every GPU"
    visible: list[str] = []
    for i, e in enumerate(entries):
        rest = entries[i + 1:]
        if re.fullmatch(r"-?\d+", e):
            if int(e) < 0:
                return visible, rest, f"'{e}' hides this and every later GPU"
            if int(e) >= n_gpus:
                return visible, rest, f"index {e} does not exist ({n_gpus} GPU(s): 0-{n_gpus - 1})"
            if e in visible:
                return visible, rest, f"index {e} repeated"
            visible.append(e)
        elif e.startswith(("GPU-", "MIG-")):
            # CUDA accepts a unique UUID prefix. MIG UUIDs name slices NVML's GPU list does not
            # hold, and a redacted facts file cannot confirm a prefix: only flag what we can see.
            redacted = any("<redacted" in u for u in uuids) and "<redacted" not in e
            known = [u for u in uuids if u.lower().startswith(e.lower())]
            if e.startswith("GPU-") and uuids and not known and not redacted:
                return visible, rest, f"UUID '{e}' matches no GPU here"
            visible.append(e)
        else:
            return visible, rest, f"'{e}' is neither an index nor a GPU-/MIG- UUID"
    return visible, [], None


@check("torch.cuda_visible_devices", CAT, "CUDA_VISIBLE_DEVICES valid",
       source="https://github.com/XuehaiPan/nvitop/blob/main/nvitop/api/device.py")
def cuda_visible_devices(facts: Facts, ctx: Context) -> Outcome:
    if not env_known(facts):
        return skip(not_collected(facts, "env", "python.env") or "environment not captured")
    value = env(facts, "CUDA_VISIBLE_DEVICES")
    if value is None:
        return ok("CUDA_VISIBLE_DEVICES not set: every GPU visible")
    n = gpu_count(facts)
    if not n and not facts.nvml.available:
        return ok(f"CUDA_VISIBLE_DEVICES={value!r} (no GPUs to check it against)")
    uuids = [g.uuid for g in facts.nvml.gpus if g.uuid and not g.uuid.startswith("<")]
    visible, ignored, problem = parse_cvd(value, n, uuids)
    if problem:
        status = fail if not visible else warn
        tail = f"; ignored after it: {','.join(ignored)}" if ignored else ""
        return status(
            f"CUDA_VISIBLE_DEVICES={value!r}: {problem}; torch sees {len(visible)} of {n} GPU(s){tail}",
            "CUDA stops at the first invalid entry. It must be set before the first CUDA call "
            "(before `import torch` initialises CUDA).",
            f"export CUDA_VISIBLE_DEVICES={','.join(str(i) for i in range(n))}   # or: unset CUDA_VISIBLE_DEVICES",
        )
    if len(visible) < n:
        return ok(f"CUDA_VISIBLE_DEVICES={value!r}: {len(visible)} of {n} GPU(s) visible (deliberate subset)")
    return ok(f"CUDA_VISIBLE_DEVICES={value!r}: all {n} GPU(s) visible")


@check("torch.device_count", CAT, "torch sees every GPU")
def device_count(facts: Facts, ctx: Context) -> Outcome:
    t = facts.torch
    if not t.cuda_available or t.device_count is None:
        return skip(no_torch_reason(facts) or "CUDA not available in torch")
    n = gpu_count(facts)
    if not facts.nvml.available or not n:
        return skip("NVML GPU count unknown")
    if env(facts, "CUDA_VISIBLE_DEVICES") is not None:
        return ok(f"torch sees {t.device_count} of {n} (restricted by CUDA_VISIBLE_DEVICES)")
    mig = any(g.mig_mode_current for g in facts.nvml.gpus)
    if t.device_count < n and not mig:
        return warn(f"torch sees {t.device_count} of the {n} GPUs NVML reports",
                    "A GPU CUDA cannot use (lost, wrong mode, unsupported arch).",
                    "nvidia-smi; python -c 'import torch; print(torch.cuda.device_count())'")
    return ok(f"torch sees all {t.device_count} GPU(s)")


@check("torch.device_order", CAT, "CUDA device order matches nvidia-smi",
       source="https://github.com/nanoporetech/bonito/issues/120")
def device_order(facts: Facts, ctx: Context) -> Outcome:
    names = [g.name for g in facts.nvml.gpus if g.name]
    if len(names) < 2:
        return skip("fewer than two GPUs")
    if len(set(names)) == 1:
        return ok(f"{len(names)} identical GPUs: order does not matter")
    if not env_known(facts):
        return skip("environment not captured")
    if env(facts, "CUDA_DEVICE_ORDER") == "PCI_BUS_ID":
        return ok("CUDA_DEVICE_ORDER=PCI_BUS_ID: torch indices match nvidia-smi")
    return warn(f"mixed GPUs ({', '.join(sorted(set(names)))}) and CUDA_DEVICE_ORDER unset",
                "CUDA numbers the fastest GPU first; nvidia-smi uses PCI bus order, so "
                "cuda:0 may not be nvidia-smi's GPU 0.", "export CUDA_DEVICE_ORDER=PCI_BUS_ID")


@check("torch.nvcc", CAT, "nvcc major matches torch's CUDA (extension builds)",
       source="https://github.com/pytorch/pytorch/issues/4546")
def nvcc(facts: Facts, ctx: Context) -> Outcome:
    t, py = facts.torch, facts.python
    if not t.cuda_build:
        return skip(no_torch_reason(facts))
    if not py.nvcc_version:
        return ok("no nvcc on PATH (not needed for pip wheels; only for building CUDA extensions)")
    if py.nvcc_version.split(".")[0] != t.cuda_build.split(".")[0]:
        return warn(f"nvcc {py.nvcc_version} vs torch's CUDA {t.cuda_build}",
                    "torch.utils.cpp_extension refuses a CUDA major mismatch when building "
                    "extensions (flash-attn, apex...). Training with the wheel is unaffected.",
                    f"Install CUDA toolkit {t.cuda_build} and export CUDA_HOME=/usr/local/cuda-{t.cuda_build}")
    return ok(f"nvcc {py.nvcc_version}, torch CUDA {t.cuda_build} (same major)")


# Oldest Python the newest torch wheels are built for (PyTorch RELEASE.md "Release Compatibility
# Matrix": 2.9 and later need Python >= 3.10), and a Python too new for any wheel yet.
MIN_PYTHON_FOR_CURRENT_TORCH = (3, 10)


@check("torch.python_version", CAT, "Python version has torch wheels",
       source="https://github.com/nerfstudio-project/nerfstudio/issues/3730")
def python_version(facts: Facts, ctx: Context) -> Outcome:
    v = facts.python.version
    if not v:
        return skip(not_collected(facts, "python") or "Python version not collected")
    vt = wheels.version_tuple(v)[:2]
    if facts.torch.version:
        return ok(f"Python {v} with torch {facts.torch.version} installed")
    if vt < MIN_PYTHON_FOR_CURRENT_TORCH:
        return warn(f"Python {v}: current torch wheels need Python >= 3.10",
                    "pip will pick an old torch or fail with \"Could not find a version that "
                    "satisfies the requirement torch\".",
                    "uv venv --python 3.12 .venv   # or: conda create -n dl python=3.12")
    return ok(f"Python {v} (current torch wheels exist)")
