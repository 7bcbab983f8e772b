"""Child process for the torch probe: import torch, print its facts as one JSON line.

Run by :mod:`rigcheck.probe.torch_env` as ``python _torch_child.py`` with a timeout, so a torch
import that segfaults, hangs in CUDA init or raises ``OSError`` (a broken CUDA install fails while
loading shared libraries) cannot take rigcheck down. Standard library only apart from torch and
numpy, and nothing from rigcheck, so it runs under any interpreter the user points at. Importing
as little as possible keeps it fast: ``import torch`` is most of the probe's wall time.

Output: the line starting with ``MARKER`` is a JSON object whose keys are ``TorchFacts`` fields
plus ``"errors"``: field -> why it could not be read.
"""

import json
import os
import re
import sys
import warnings

# Python puts this script's folder first on sys.path, where rigcheck's own probe modules
# (env.py, host.py, nvml.py, ...) would shadow any top-level module of the same name that torch
# or its dependencies import. Drop it before anything else is imported.
if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

MARKER = "RIGCHECK_TORCH_FACTS "
# Libraries whose mapped path tells which CUDA/cuDNN copy won (a wheel's vs one on LD_LIBRARY_PATH).
_LIB_RE = re.compile(
    r"/(libcudart|libcudnn[\w]*|libcublas(?:Lt)?|libnccl|libcuda|libnvrtc|libnvJitLink)\.so[\w.]*$"
)


def _why(exc, limit=300):
    return f"{type(exc).__name__}: {str(exc)[:limit]}"


def _dists(wanted):
    """{name: version} of installed distributions whose normalised name passes ``wanted``, read
    off the dist-info folder names on sys.path.

    Reading folder names takes about a millisecond; importlib.metadata.distributions() opens every
    package's METADATA (~75 ms with a few hundred packages installed), and Python < 3.8 has no
    importlib.metadata at all.
    """
    found = {}
    for folder in sys.path:
        try:
            entries = os.listdir(folder or ".")
        except OSError:
            continue
        for entry in entries:
            if not entry.endswith(".dist-info"):
                continue
            name, _, version = entry[: -len(".dist-info")].partition("-")
            name = name.lower().replace("_", "-")
            if version and wanted(name):
                found.setdefault(name, version)
    return dict(sorted(found.items()))


def _wheels():
    return _dists(lambda n: n.startswith("nvidia-") or n in ("triton", "pytorch-triton"))


# The LLM library stack, read off dist-info names without importing any of them (an import of
# vllm or deepspeed alone takes seconds and may initialise CUDA). Keep in step with
# rigcheck.doctor.stack.STACK_PACKAGES (this child imports nothing from rigcheck).
STACK = frozenset({
    "bitsandbytes", "flash-attn", "flash-attn-3", "xformers", "triton", "pytorch-triton",
    "pytorch-triton-rocm", "vllm", "transformers", "accelerate", "peft", "deepspeed", "unsloth",
})


def _stack():
    return _dists(lambda n: n in STACK)


def _loaded_libs():
    try:
        with open("/proc/self/maps") as fh:
            paths = {line.split(None, 5)[-1].strip() for line in fh if ".so" in line}
    except OSError:
        return None
    return sorted(p for p in paths if _LIB_RE.search(p))


def _torch_installed():
    try:
        from importlib import metadata
    except ImportError:  # Python < 3.8
        return "torch" in _dists(lambda n: n == "torch")
    try:
        metadata.version("torch")
        return True
    except metadata.PackageNotFoundError:
        return False


def _devices(torch, out, errors):
    devices = []
    if not out.get("cuda_available"):
        return devices
    for i in range(out.get("device_count") or 0):
        dev = {"index": i}
        try:
            props = torch.cuda.get_device_properties(i)
            dev["name"] = props.name
            dev["capability"] = f"{props.major}.{props.minor}"
            dev["total_memory_gb"] = round(props.total_memory / 2**30, 2)
            arch = getattr(props, "gcnArchName", None)   # ROCm builds: "gfx90a:sramecc+:xnack-"
            if arch:
                dev["gcn_arch"] = str(arch)
        except Exception as exc:
            errors[f"devices[{i}]"] = _why(exc)
        devices.append(dev)
    return devices


def _other_backends(torch, out, field):
    """Apple MPS and Intel XPU, where this torch has them (MPS from 1.12, XPU from 2.4)."""
    mps = getattr(torch.backends, "mps", None)
    if mps is not None:
        field("mps_built", lambda: bool(mps.is_built()))
        field("mps_available", lambda: bool(mps.is_available()))
    xpu = getattr(torch, "xpu", None)
    if xpu is not None and hasattr(xpu, "is_available"):
        field("xpu_available", lambda: bool(xpu.is_available()))
        if out.get("xpu_available"):
            field("xpu_device_count", lambda: int(xpu.device_count()))
            field("xpu_devices", lambda: [str(xpu.get_device_name(i))
                                          for i in range(out.get("xpu_device_count") or 0)])


def main():
    out = {"errors": {}, "python_executable": sys.executable}
    errors = out["errors"]

    def field(name, fn):
        try:
            out[name] = fn()
        except Exception as exc:  # one field must not lose the others
            errors[name] = _why(exc)

    field("installed", _torch_installed)
    field("nvidia_wheels", _wheels)
    field("stack", _stack)
    try:
        import numpy

        out["numpy_version"] = numpy.__version__
    except ModuleNotFoundError:
        pass  # not installed is not an error; torch works without NumPy
    except Exception as exc:  # the NumPy 1.x/2.x ABI error surfaces here or at torch import
        out["numpy_error"] = _why(exc)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            import torch
        except BaseException as exc:  # ImportError, OSError (libcudnn...), even SystemExit
            out["error"] = "import raised " + _why(exc, 500)
            out["loaded_libs"] = _loaded_libs()
            return out
    for w in caught:
        text = str(w.message)
        if "numpy" in text.lower() and "numpy_error" not in out:
            out["numpy_error"] = text[:300]

    out["installed"] = True  # importable, even if no distribution metadata (a source build)
    out["version"] = torch.__version__
    out["cuda_build"] = getattr(torch.version, "cuda", None)
    out["hip_build"] = getattr(torch.version, "hip", None)
    field("cudnn_version", lambda: torch.backends.cudnn.version())
    field("arch_list", lambda: list(torch.cuda.get_arch_list()))
    # CUDA init warns rather than raises: "Found no NVIDIA driver", "driver too old", and at lazy
    # init (first device query) "sm_120 is not compatible with the current PyTorch installation".
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out["cuda_available"] = bool(torch.cuda.is_available())
        except Exception as exc:
            out["cuda_available"] = False
            out["cuda_init_error"] = _why(exc, 500)
        field("device_count", lambda: torch.cuda.device_count())
        out["devices"] = _devices(torch, out, errors)
    messages = list(dict.fromkeys(str(w.message)[:500] for w in caught))
    if messages and "cuda_init_error" not in out:
        out["cuda_init_error"] = " | ".join(messages)
    if out.get("cuda_build") or out.get("cuda_available"):
        field("nccl_version", lambda: ".".join(str(v) for v in torch.cuda.nccl.version()))
    field("tf32_matmul", lambda: bool(torch.backends.cuda.matmul.allow_tf32))
    field("tf32_cudnn", lambda: bool(torch.backends.cudnn.allow_tf32))
    field("float32_matmul_precision", lambda: torch.get_float32_matmul_precision())
    field("num_threads", lambda: torch.get_num_threads())
    field("mkldnn", lambda: bool(torch.backends.mkldnn.is_available()))
    _other_backends(torch, out, field)
    # After CUDA init and cudnn.version() the CUDA libraries that really loaded are mapped.
    field("loaded_libs", _loaded_libs)
    return out


if __name__ == "__main__":
    facts = main()
    sys.stdout.write("\n" + MARKER + json.dumps(facts, default=str) + "\n")
    sys.stdout.flush()
