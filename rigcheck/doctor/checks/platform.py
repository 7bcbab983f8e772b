"""AMD ROCm, Apple MPS and Intel XPU: the GPU stacks that are not CUDA.

ROCm: is torch a ROCm build, does it ship kernels for each GPU's gfx target (torch's own arch
list on a live machine, else the ROCm release's supported list in ``platform.toml``), is
``HSA_OVERRIDE_GFX_VERSION`` needed / right, can this user open ``/dev/kfd`` and the render
nodes. MPS: built but not available, and why (macOS older than 12.3, an x86_64 Python under
Rosetta). XPU: what torch sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from rigcheck.doctor import stack
from rigcheck.doctor.checks._util import env, env_known, join, not_collected
from rigcheck.doctor.findings import Outcome, fail, ok, skip, warn
from rigcheck.doctor.registry import Context, check
from rigcheck.facts import Facts

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

CAT = "platform"
GROUPS_FIX = "sudo usermod -aG render,video $USER   # then log out and back in (or: newgrp render)"
MPS_DOCS = "https://pytorch.org/docs/stable/notes/mps.html"


@dataclass(frozen=True)
class PlatformTable:
    dated: str
    rocm: tuple[tuple[str, tuple[str, ...], str], ...]        # (version, gfx targets, source)
    overrides: tuple[tuple[tuple[str, ...], str, str], ...]   # (gfx targets, value, source)
    min_macos: str
    mps_source: str

    def rocm_targets(self, hip: str | None) -> tuple[tuple[str, ...], str] | None:
        """The supported targets of the newest listed ROCm release at or below ``hip``."""
        rows = sorted(self.rocm, key=lambda r: stack.release(r[0]))
        best = None
        for version, gfx, source in rows:
            if hip is None or not stack.older(hip, version):
                best = (gfx, source)
        return best if best else ((rows[0][1], rows[0][2]) if rows else None)

    def override_for(self, gfx: str) -> tuple[str, str] | None:
        return next(((v, s) for targets, v, s in self.overrides if gfx in targets), None)


@cache
def table() -> PlatformTable:
    raw = tomllib.loads((stack.TABLE.with_name("platform.toml")).read_text(encoding="utf-8"))
    return PlatformTable(
        dated=str(raw["dated"]),
        rocm=tuple((str(r["version"]), tuple(r["gfx"]), str(r["source"])) for r in raw["rocm"]),
        overrides=tuple((tuple(r["gfx"]), str(r["value"]), str(r["source"]))
                        for r in raw["override"]),
        min_macos=str(raw["mps"]["min_macos"]), mps_source=str(raw["mps"]["source"]),
    )


def gfx_of_override(value: str) -> str | None:
    """HSA_OVERRIDE_GFX_VERSION "10.3.0" -> "gfx1030"; "9.0.10" -> "gfx90a"; junk -> None."""
    m = re.fullmatch(r"\s*(\d+)\.(\d+)\.(\d+)\s*", value or "")
    return f"gfx{int(m.group(1))}{int(m.group(2))}{int(m.group(3)):x}" if m else None


def _base(gfx: str) -> str:
    return gfx.split(":", 1)[0].strip()   # "gfx90a:sramecc+:xnack-" -> "gfx90a"


def amd_gpus(facts: Facts) -> list[tuple[str, str | None]]:
    """(label, gfx target) per AMD GPU: the AMD probe's, else torch's gcnArchName."""
    out = [(f"GPU {g.index} ({g.name or 'AMD GPU'})", _base(g.gfx_target) if g.gfx_target else None)
           for g in facts.amd.gpus]
    if not out and facts.torch.hip_build:
        out = [(f"cuda:{d.index} ({d.name or 'AMD GPU'})", _base(d.gcn_arch) if d.gcn_arch else None)
               for d in facts.torch.devices]
    return out


def _no_amd(facts: Facts) -> Outcome | None:
    if amd_gpus(facts):
        return None
    why = not_collected(facts, "amd")
    if why:
        return skip(why)
    return skip(facts.amd.error or "no AMD GPU")


def _rocm_index(facts: Facts) -> str:
    hip = facts.torch.hip_build
    tag = ".".join(hip.split(".")[:2]) if hip else "6.2"
    return f"https://download.pytorch.org/whl/rocm{tag}"


@check("rocm.torch_build", CAT, "a ROCm build of torch for the AMD GPU",
       source="https://pytorch.org/get-started/locally/")
def rocm_torch_build(facts: Facts, ctx: Context) -> Outcome:
    gone = _no_amd(facts)
    if gone:
        return gone
    t = facts.torch
    if not t.version:
        return skip("torch not installed" if t.installed is False else "torch version unknown")
    if t.hip_build:
        return ok(f"torch {t.version} is a ROCm {t.hip_build} build")
    kind = f"a CUDA {t.cuda_build}" if t.cuda_build else "a CPU-only"
    return fail(f"{len(amd_gpus(facts))} AMD GPU(s), but torch {t.version} is {kind} build",
                "Only torch's ROCm wheels drive AMD GPUs (torch.cuda is HIP there); with this "
                "build torch.cuda.is_available() is False.",
                f"pip install --force-reinstall torch=={stack.public(t.version)} "
                f"--index-url {_rocm_index(facts)}   # a ROCm wheel of your torch version")


@check("rocm.gfx_target", CAT, "torch ships kernels for each AMD GPU's gfx target",
       source="https://github.com/ROCm/ROCm/issues/2353")
def rocm_gfx_target(facts: Facts, ctx: Context) -> Outcome:
    gone = _no_amd(facts)
    if gone:
        return gone
    t = facts.torch
    if not t.hip_build:
        return skip("torch is not a ROCm build; see rocm.torch_build")
    gpus = [(label, gfx) for label, gfx in amd_gpus(facts) if gfx]
    if not gpus:
        return skip("no gfx target known for the AMD GPU(s)")
    arch = sorted({_base(a) for a in t.arch_list or [] if a.startswith("gfx")})
    tab = table()
    if arch:
        supported, where, source = tuple(arch), f"torch {t.version}'s arch list", None
    else:
        found = tab.rocm_targets(t.hip_build)
        if found is None:
            return skip("no supported-target list for this ROCm")
        supported, source = found
        where = f"ROCm {t.hip_build}'s supported GPUs (table dated {tab.dated})"
    override = env(facts, "HSA_OVERRIDE_GFX_VERSION") if env_known(facts) else None
    forced = gfx_of_override(override) if override else None
    bad, fixes, notes = [], [], []
    for label, gfx in gpus:
        effective = forced or gfx
        if effective in supported:
            if forced and forced != gfx:
                notes.append(f"{label} {gfx} runs {forced} kernels (HSA_OVERRIDE_GFX_VERSION={override})")
            continue
        sibling = tab.override_for(gfx)
        if sibling and gfx_of_override(sibling[0]) in supported and not forced:
            bad.append(f"{label} is {gfx}, not in {where}")
            fixes.append(f"export HSA_OVERRIDE_GFX_VERSION={sibling[0]}   # run the "
                         f"{gfx_of_override(sibling[0])} kernels on {gfx}")
            source = sibling[1]
        else:
            bad.append(f"{label} is {gfx}" + (f" (forced to {forced})" if forced else "")
                       + f", not in {where}")
    if bad:
        return fail(join(bad), "Without kernels for the GPU's target every op fails with "
                    "\"HIP error: invalid device function\" (or torch sees no GPU). Supported: "
                    + ", ".join(supported) + ".",
                    "\n".join(dict.fromkeys(fixes)) or
                    "use a GPU on the supported list, or build torch with PYTORCH_ROCM_ARCH=<gfx>",
                    source)
    return ok("; ".join(notes) if notes else
              ", ".join(sorted({g for _, g in gpus})) + f" in {where}")


@check("rocm.hsa_override", CAT, "HSA_OVERRIDE_GFX_VERSION only where needed",
       source="https://github.com/ROCm/ROCm/issues/2353")
def hsa_override(facts: Facts, ctx: Context) -> Outcome:
    if not env_known(facts):
        return skip(not_collected(facts, "env", "python.env") or "environment not captured")
    value = env(facts, "HSA_OVERRIDE_GFX_VERSION")
    if value is None:
        return ok("HSA_OVERRIDE_GFX_VERSION not set")
    forced = gfx_of_override(value)
    if forced is None:
        return fail(f"HSA_OVERRIDE_GFX_VERSION={value!r} is not a version like 10.3.0",
                    "The ROCm runtime ignores or misreads it.", "unset HSA_OVERRIDE_GFX_VERSION")
    gpus = [(label, gfx) for label, gfx in amd_gpus(facts) if gfx]
    if not gpus:
        return warn(f"HSA_OVERRIDE_GFX_VERSION={value} set, but no AMD GPU seen",
                    "Left over from another machine or guide; harmless without an AMD GPU.",
                    "unset HSA_OVERRIDE_GFX_VERSION")
    tab = table()
    wrong = [f"{label} is {gfx}" for label, gfx in gpus
             if gfx != forced and not ((s := tab.override_for(gfx)) and gfx_of_override(s[0]) == forced)]
    if wrong:
        return fail(f"HSA_OVERRIDE_GFX_VERSION={value} forces {forced} kernels, but {join(wrong)}",
                    "Kernels of another GPU family crash (\"invalid device function\", "
                    "\"HSA_STATUS_ERROR_INVALID_ISA\") or compute garbage.",
                    "unset HSA_OVERRIDE_GFX_VERSION   # or set it to the sibling your GPU needs")
    return ok(f"HSA_OVERRIDE_GFX_VERSION={value}: {forced} kernels on "
              + ", ".join(sorted({g for _, g in gpus})))


@check("rocm.kfd", CAT, "this user can open /dev/kfd and the render nodes",
       source="https://rocm.docs.amd.com/projects/install-on-linux/en/latest/install/prerequisites.html")
def kfd(facts: Facts, ctx: Context) -> Outcome:
    gone = _no_amd(facts)
    if gone:
        return gone
    a = facts.amd
    if a.kfd_present is None:
        return skip(not_collected(facts, "kfd", "amd") or "/dev/kfd not checked")
    if not a.kfd_present:
        container = f" (in {facts.host.container})" if facts.host.container else ""
        return fail(f"AMD GPU but no /dev/kfd{container}",
                    "The amdgpu driver's compute interface is missing: ROCm sees no GPU.",
                    "docker run --device=/dev/kfd --device=/dev/dri --group-add video ..."
                    if facts.host.container else
                    "sudo modprobe amdgpu   # install the amdgpu-dkms driver if it is missing")
    closed = [n.path for n in a.render_nodes or [] if n.readable is False or n.writable is False]
    groups = facts.host.user_groups
    member = groups is not None and bool({"render", "video"} & set(groups))
    if a.kfd_accessible is False or closed:
        what = ", ".join((["/dev/kfd"] if a.kfd_accessible is False else []) + closed[:3])
        return fail(f"no read-write access to {what}"
                    + ("" if groups is None else f" (groups: {', '.join(groups) or 'none'})"),
                    "ROCm opens /dev/kfd and /dev/dri/renderD* as the user; without the render "
                    "(or video) group torch.cuda.is_available() is False or HIP reports no devices.",
                    GROUPS_FIX)
    if groups is not None and not member and a.kfd_accessible is None:
        return warn(f"user not in the render or video group (groups: {', '.join(groups)})",
                    "ROCm needs them to open the GPU's device nodes.", GROUPS_FIX)
    return ok("/dev/kfd and the render nodes are open to this user")


def _macos(facts: Facts) -> bool:
    return bool(facts.host.macos_version) or "darwin" in (facts.host.os or "").lower() \
        or "macos" in (facts.host.os or "").lower()


@check("mps.available", CAT, "Apple MPS available to torch", source=MPS_DOCS)
def mps_available(facts: Facts, ctx: Context) -> Outcome:
    t = facts.torch
    if not _macos(facts):
        return skip("not macOS")
    if not t.version:
        return skip("torch not installed" if t.installed is False else "torch version unknown")
    if t.mps_available:
        return ok(f"torch {t.version} uses the Apple GPU (MPS)")
    if t.mps_built is None and t.mps_available is None:
        return skip(not_collected(facts, "mps") or "MPS state not collected")
    tab = table()
    mac = facts.host.macos_version
    if facts.host.rosetta:
        return fail(f"torch {t.version} runs in an x86_64 Python under Rosetta: no MPS",
                    "Apple silicon's GPU is reachable only from an arm64 Python; an x86_64 "
                    "(Intel) Python or Anaconda gets CPU-only torch.",
                    "install an arm64 Python (python.org universal2, `brew install python`, or "
                    "Miniforge arm64), then: pip install torch==" + stack.public(t.version),
                    tab.mps_source)
    if mac and stack.older(mac, tab.min_macos):
        return fail(f"macOS {mac}: MPS needs macOS {tab.min_macos} or later",
                    "torch is built with MPS but the OS has no Metal Performance Shaders graph "
                    "support; torch.backends.mps.is_available() is False.",
                    "upgrade macOS (System Settings > General > Software Update)", tab.mps_source)
    if t.mps_built is False:
        return fail(f"torch {t.version} was built without MPS",
                    "An x86_64 or custom build of torch on a Mac has no MPS backend.",
                    "pip install --force-reinstall torch==" + stack.public(t.version)
                    + "   # from an arm64 Python", tab.mps_source)
    return warn(f"torch {t.version} has MPS built in but not available"
                + (f" (macOS {mac})" if mac else ""),
                "Usually an Intel Mac (MPS needs an AMD or Apple GPU with Metal 3) or a VM.",
                "python -c \"import torch; print(torch.backends.mps.is_available())\"   # on the "
                "Mac itself, outside VMs", tab.mps_source)


@check("xpu.available", CAT, "Intel XPU seen by torch",
       source="https://pytorch.org/docs/stable/notes/get_start_xpu.html")
def xpu_available(facts: Facts, ctx: Context) -> Outcome:
    t = facts.torch
    if t.xpu_available is None:
        return skip(not_collected(facts, "xpu") or "torch has no XPU backend or was not probed")
    if not t.xpu_available:
        return skip("no Intel XPU visible to torch")
    names = ", ".join(t.xpu_devices or []) or "?"
    return ok(f"{t.xpu_device_count or len(t.xpu_devices or [])} Intel XPU(s): {names}")
