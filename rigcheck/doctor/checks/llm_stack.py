"""LLM library stack checks: bitsandbytes, flash-attn, xformers, triton, vLLM, transformers,
accelerate, peft, DeepSpeed, Unsloth against torch, the CUDA build, the GPU and the OS.

The rules are data (``rigcheck/doctor/stack.toml``, dated, each row with its source); these
checks apply them to the versions the probe read from dist-info metadata (``facts.torch.stack``)
or a paste listed (pip list / pip freeze / conda list). A library or version the table does not
list is reported as not judged, never guessed.
"""

from __future__ import annotations

from rigcheck.doctor import stack as table
from rigcheck.doctor import wheels
from rigcheck.doctor.checks._util import join, linux, live_gpus, not_collected
from rigcheck.doctor.findings import Outcome, fail, ok, skip, warn
from rigcheck.doctor.registry import Context, check
from rigcheck.facts import Facts

CAT = "llm_stack"
DEEPSPEED_SOURCE = "https://github.com/microsoft/DeepSpeed/blob/master/op_builder/builder.py"


def installed(facts: Facts) -> dict[str, str] | None:
    """The stack's installed versions by normalised name, or None when nobody looked."""
    found: dict[str, str] = {}
    seen = False
    # python.packages: every pip/conda package a paste listed (paste's importers add the field).
    pasted = getattr(facts.python, "packages", None)
    for source in (facts.python.conda_packages, pasted, facts.torch.nvidia_wheels, facts.torch.stack):
        if source is None:
            continue
        seen = True
        for name, version in source.items():
            n = table.normalise(name)
            if n in table.STACK_PACKAGES and version:
                found[n] = str(version)
    if "pytorch-triton" in found and "triton" not in found:
        found["triton"] = found["pytorch-triton"]   # the nightly builds' name for the same thing
    return found if seen else None


def _stack_skip(facts: Facts) -> Outcome | None:
    if installed(facts) is None:
        return skip(not_collected(facts, "stack", "torch.stack", "packages")
                    or "installed library versions not collected")
    return None


def _found(facts: Facts) -> dict[str, str]:
    """installed() after _stack_skip() said it is known."""
    return installed(facts) or {}  # pragma: no mutate  (never None here)


def _torch_version(facts: Facts) -> str | None:
    return table.public(facts.torch.version) or None


def torch_index(facts: Facts) -> str:
    """The PyTorch wheel index of this torch's build (cu124, rocm6.1, cpu)."""
    t = facts.torch
    if t.cuda_build:
        return "https://download.pytorch.org/whl/cu" + t.cuda_build.replace(".", "")[:4]
    if t.hip_build:
        return "https://download.pytorch.org/whl/rocm" + ".".join(t.hip_build.split(".")[:2])
    return "https://download.pytorch.org/whl/cpu"


def os_kind(facts: Facts) -> str | None:
    name = (facts.host.os or "").lower()
    if not name:
        return None
    if "windows" in name:
        return "windows"
    if any(x in name for x in ("darwin", "macos", "mac os")):
        return "macos"
    return "linux"


def capabilities(facts: Facts) -> list[tuple[str, tuple[int, int]]]:
    """(label, capability) per GPU: NVML's, else torch's, else from the GPU's name."""
    out = [(f"GPU {g.index} ({g.name or '?'})", c) for g in live_gpus(facts)
           if (c := wheels.parse_capability(g.compute_capability))]
    if not out:
        out = [(f"cuda:{d.index} ({d.name or '?'})", c) for d in facts.torch.devices
               if (c := wheels.parse_capability(d.capability))]
    if not out:
        out = [(f"GPU {g.index} ({g.name})", c) for g in live_gpus(facts)
               if (c := wheels.parse_capability(wheels.capability_from_name(g.name)))]
    return out


@check("stack.versions", CAT, "LLM libraries installed (information)")
def versions(facts: Facts, ctx: Context) -> Outcome:
    gone = _stack_skip(facts)
    if gone:
        return gone
    found = _found(facts)
    if not found:
        return ok("none of " + ", ".join(p for p in table.STACK_PACKAGES
                                         if not p.startswith("pytorch-")) + " installed")
    return ok(", ".join(f"{n} {v}" for n, v in sorted(found.items()))
              + f" (compatibility table dated {table.load().dated})")


@check("stack.torch_pin", CAT, "prebuilt wheels match the installed torch")
def torch_pin(facts: Facts, ctx: Context) -> Outcome:
    gone = _stack_skip(facts)
    if gone:
        return gone
    tv = _torch_version(facts)
    if tv is None:
        return skip("torch version unknown")
    tab = table.load()
    found = _found(facts)
    pinned = [p for p in ("xformers", "vllm") if p in found]
    if not pinned:
        return ok("no xformers or vLLM installed (their wheels pin one torch)")
    bad, good, unknown, fixes = [], [], [], []
    for pkg in pinned:
        pin = tab.pin_for(pkg, found[pkg])
        if pin is None:
            unknown.append(f"{pkg} {found[pkg]}")
            continue
        if table.same_release(pin.torch, tv):
            good.append(f"{pkg} {found[pkg]}")
            continue
        bad.append(f"{pkg} {found[pkg]} needs torch {pin.torch}, this is torch {tv}")
        other = tab.release_for_torch(pkg, tv)
        if other:
            fixes.append(f"pip install --no-deps {pkg}=={other}   # built for your torch {tv}")
        elif pkg == "vllm":
            fixes.append(f"python -m venv ~/venv-vllm && ~/venv-vllm/bin/pip install "
                         f"vllm=={found[pkg]}   # its own venv brings the torch {pin.torch} it pins")
        else:
            fixes.append(f"pip install torch=={pin.torch} --index-url {torch_index(facts)}"
                         f"   # the torch {pkg} {found[pkg]} was built for")
    if bad:
        pins = [tab.pin_for(p, found[p]) for p in pinned]
        return fail("; ".join(bad),
                    "Their compiled extensions are built against one torch release; with "
                    "another they fail to load (\"xFormers can't load C++/CUDA extensions. "
                    "xFormers was built for: PyTorch ...\") or die on undefined symbols, and a "
                    "plain `pip install` of them silently replaces your torch.",
                    "\n".join(fixes), next(p.source for p in pins if p is not None))
    note = f"; not in the table dated {tab.dated}: {', '.join(unknown)}" if unknown else ""
    if not good:
        return skip(f"{', '.join(unknown)}: not in the compatibility table dated {tab.dated}")
    return ok(f"{', '.join(good)} built for torch {tv}{note}")


@check("stack.triton", CAT, "triton matches the one torch requires")
def triton(facts: Facts, ctx: Context) -> Outcome:
    gone = _stack_skip(facts)
    if gone:
        return gone
    tv = _torch_version(facts)
    found = _found(facts)
    if "triton" not in found:
        return ok("no triton installed" + (" (torch.compile on GPU needs it)"
                                           if facts.torch.cuda_build else ""))
    if tv is None:
        return skip("torch version unknown")
    if linux(facts) is False:
        return skip("torch pins triton only in its Linux wheels")
    pin = table.load().triton_for(tv)
    if pin is None:
        return skip(f"torch {tv}'s triton not in the table dated {table.load().dated}")
    have = table.release(found["triton"])[:2]
    if have == table.release(pin.triton)[:2]:
        return ok(f"triton {found['triton']} with torch {tv}")
    return fail(f"triton {found['triton']} with torch {tv}, which requires triton {pin.triton}.x",
                "Another library (or a `pip install triton`) replaced the triton torch was built "
                "with: torch.compile and Triton kernels (Unsloth, vLLM, FlashAttention's Triton "
                "path) fail to compile or crash.",
                f"pip install \"triton=={pin.triton}.*\"   # the release torch {tv} requires",
                pin.source)


@check("stack.gpu_arch", CAT, "libraries support this GPU's architecture")
def gpu_arch(facts: Facts, ctx: Context) -> Outcome:
    gone = _stack_skip(facts)
    if gone:
        return gone
    found = _found(facts)
    rules = [r for r in table.load().gpu if r.package in found
             and not (r.since and table.older(found[r.package], r.since))]
    if not rules:
        return ok("no installed library with a GPU-architecture floor")
    caps = capabilities(facts)
    if not caps:
        return skip("no GPU capability known")
    problems, fixes, sources = [], [], []
    for r in rules:
        floor = wheels.parse_capability(r.min_capability) or (0, 0)  # pragma: no mutate  (table rows parse)
        below = [f"{lbl} is sm_{c[0]}{c[1]}" for lbl, c in caps if c < floor]
        if below:
            problems.append(f"{r.package} {found[r.package]} needs compute capability >= "
                            f"{r.min_capability}: {join(below, 2)}")
            fixes.append(r.fix)
            sources.append(r.source)
    if problems:
        why = " ".join(r.why + "." for r in rules if r.source in sources)
        return fail("; ".join(problems), why, "\n".join(fixes), sources[0])
    lowest = min(c for _, c in caps)
    return ok(f"{', '.join(r.package for r in rules)} run on sm_{lowest[0]}{lowest[1]}")


@check("stack.os", CAT, "libraries have wheels for this OS")
def os_support(facts: Facts, ctx: Context) -> Outcome:
    gone = _stack_skip(facts)
    if gone:
        return gone
    kind = os_kind(facts)
    if kind is None:
        return skip(not_collected(facts, "os", "host") or "operating system unknown")
    found = _found(facts)
    hits = [r for r in table.load().os if r.os == kind and r.package in found
            and (r.below is None or table.older(found[r.package], r.below))]
    if not hits:
        return ok(f"no installed library known to lack {kind} support")
    return fail("; ".join(f"{r.package} {found[r.package]} on {kind}" for r in hits),
                " ".join(r.why + "." for r in hits), "\n".join(r.fix for r in hits),
                hits[0].source)


@check("stack.gpu_build", CAT, "GPU libraries have a GPU build of torch")
def gpu_build(facts: Facts, ctx: Context) -> Outcome:
    gone = _stack_skip(facts)
    if gone:
        return gone
    t = facts.torch
    if not t.version:
        return skip("torch version unknown")
    found = _found(facts)
    tab = table.load()
    gpu_libs = [p for p in tab.gpu_build if p in found]
    if not gpu_libs:
        return ok("no GPU-only library installed")
    if t.cuda_build or t.hip_build:
        return ok(f"{', '.join(gpu_libs)} with torch {t.version} "
                  f"({'CUDA ' + t.cuda_build if t.cuda_build else 'ROCm ' + str(t.hip_build)})")
    mps = " (Apple MPS is not CUDA: these libraries do not use it)" if t.mps_built else ""
    return warn(f"{', '.join(gpu_libs)} installed, but torch {t.version} is a CPU-only build{mps}",
                "Their kernels need a CUDA (or ROCm) torch: imports fail (\"CUDA Setup failed\", "
                "\"undefined symbol\") or they silently run nothing on the GPU.",
                wheels.install_command(wheels.flavour_for(
                    [f"{c[0]}.{c[1]}" for _, c in capabilities(facts)],
                    facts.nvml.cuda_driver_version)) if capabilities(facts) else
                "pip install torch==<version> --index-url https://download.pytorch.org/whl/cu126",
                tab.gpu_build_source)


@check("stack.deepspeed_nvcc", CAT, "DeepSpeed's nvcc matches torch's CUDA",
       source=DEEPSPEED_SOURCE)
def deepspeed_nvcc(facts: Facts, ctx: Context) -> Outcome:
    gone = _stack_skip(facts)
    if gone:
        return gone
    found = _found(facts)
    if "deepspeed" not in found:
        return ok("DeepSpeed not installed")
    build = facts.torch.cuda_build
    if not build:
        return skip("torch is not a CUDA build")
    nvcc = facts.python.nvcc_version
    if not nvcc:
        return warn(f"DeepSpeed {found['deepspeed']} but no nvcc on PATH",
                    "DeepSpeed compiles its fused ops (FusedAdam, CPUAdam, ...) with nvcc at first "
                    "use; without a CUDA toolkit they fail to build.",
                    f"conda install -c nvidia cuda-toolkit={build}   # or the CUDA {build} toolkit "
                    "from developer.nvidia.com; then set CUDA_HOME")
    if table.release(nvcc)[:1] != table.release(build)[:1]:
        return fail(f"nvcc {nvcc} but torch is built for CUDA {build}",
                    f"DeepSpeed refuses to build its ops: \"Installed CUDA version {nvcc} does not "
                    f"match the version torch was compiled with {build}\".",
                    f"install the CUDA {build.split('.')[0]}.x toolkit and point CUDA_HOME at it "
                    f"(e.g. export CUDA_HOME=/usr/local/cuda-{build})")
    return ok(f"nvcc {nvcc} with torch's CUDA {build}")
