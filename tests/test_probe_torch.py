"""The torch child probe: real torch, no torch, and children that crash, hang or lie."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from rigcheck.probe.commands import CommandResult, run
from rigcheck.probe.torch_env import MARKER, collect_torch, parse_child_output


def fake_child(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "child.py"
    path.write_text(textwrap.dedent(body))
    return path


def with_pythonpath(path: Path):
    env = {**os.environ, "PYTHONPATH": str(path)}
    return lambda argv, timeout_s: run(argv, timeout_s, env=env)


def test_real_torch_on_this_machine():
    facts, errors = collect_torch()
    if not facts.installed:
        pytest.skip("torch is not installed here")
    assert facts.error is None
    assert facts.version and facts.version[0].isdigit()
    assert facts.float32_matmul_precision in ("highest", "high", "medium")
    assert facts.num_threads and facts.num_threads >= 1
    assert isinstance(facts.nvidia_wheels, dict)
    if facts.cuda_build is None:  # this CI box: CPU-only torch
        assert facts.cuda_available is False and facts.devices == []
        assert facts.arch_list == [] and facts.loaded_libs == []
    assert "exit" not in errors


def test_torch_not_importable_is_a_state_not_an_error():
    # -I -S: no site-packages, so the child sees no torch and no distribution metadata.
    facts, _ = collect_torch(python_args=("-I", "-S"))
    assert facts.installed is False
    assert facts.error is None and facts.version is None


def test_child_segfault(tmp_path):
    child = fake_child(tmp_path, "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    facts, _ = collect_torch(script=child)
    assert facts.error == "torch probe killed by SIGSEGV"


def test_child_hang_is_killed(tmp_path):
    child = fake_child(tmp_path, "import time\ntime.sleep(60)\n")
    facts, _ = collect_torch(script=child, timeout_s=0.5)
    assert facts.error == "timed out after 0.5 s"


@pytest.mark.parametrize(
    ("stdout", "expected"),
    [
        ("hello\n", "torch probe printed no facts: no facts line in its output"),
        (MARKER + "{not json\n", "torch probe printed malformed facts: "),
        (MARKER + "[1, 2]\n", "torch probe printed malformed facts: expected an object"),
        (MARKER + '{"version": 5}\n', "torch probe printed malformed facts: torch probe.torch"),
    ],
)
def test_child_garbage(tmp_path, stdout, expected):
    child = fake_child(tmp_path, f"import sys\nsys.stdout.write({stdout!r})\n")
    facts, _ = collect_torch(script=child)
    assert facts.error.startswith(expected)


def test_child_exits_nonzero_without_facts(tmp_path):
    child = fake_child(tmp_path, "import sys\nprint('boom', file=sys.stderr)\nsys.exit(3)\n")
    facts, _ = collect_torch(script=child)
    assert facts.error == "torch probe printed no facts: exit code 3: boom"


def test_missing_interpreter():
    facts, _ = collect_torch(python="/nonexistent/python3")
    assert facts.error == "not found: /nonexistent/python3"


def test_import_raising_oserror(tmp_path):
    pkg = tmp_path / "torch"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "raise OSError('libcudnn.so.8: cannot open shared object file: No such file or directory')"
    )
    facts, _ = collect_torch(runner=with_pythonpath(tmp_path))
    assert facts.error == (
        "import raised OSError: libcudnn.so.8: cannot open shared object file: "
        "No such file or directory"
    )


FAKE_CUDA_TORCH = '''
import types, warnings
__version__ = "2.1.0+cu121"
version = types.SimpleNamespace(cuda="12.1", hip=None)

def _is_available():
    warnings.warn("CUDA initialization: The NVIDIA driver on your system is too old "
                  "(found version 11040).")
    return False

def _nccl_version():
    return (2, 18, 1)

def _arch_list():
    return ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"]

def _boom():
    raise RuntimeError("no cudnn here")

cuda = types.SimpleNamespace(
    is_available=_is_available, device_count=lambda: 0, get_arch_list=_arch_list,
    nccl=types.SimpleNamespace(version=_nccl_version),
)
backends = types.SimpleNamespace(
    cudnn=types.SimpleNamespace(version=_boom, allow_tf32=True),
    cuda=types.SimpleNamespace(matmul=types.SimpleNamespace(allow_tf32=False)),
    mkldnn=types.SimpleNamespace(is_available=lambda: True),
)
get_float32_matmul_precision = lambda: "high"
get_num_threads = lambda: 8
'''


def test_cuda_build_with_too_old_driver(tmp_path):
    pkg = tmp_path / "torch"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(FAKE_CUDA_TORCH)
    facts, errors = collect_torch(runner=with_pythonpath(tmp_path))
    assert facts.error is None and facts.installed is True
    assert facts.version == "2.1.0+cu121" and facts.cuda_build == "12.1"
    assert facts.cuda_available is False
    assert facts.cuda_init_error.startswith("CUDA initialization: The NVIDIA driver on your system")
    assert facts.arch_list[-1] == "sm_90" and facts.nccl_version == "2.18.1"
    assert facts.tf32_matmul is False and facts.tf32_cudnn is True
    assert facts.float32_matmul_precision == "high" and facts.num_threads == 8
    assert facts.cudnn_version is None
    assert errors == {"cudnn_version": "RuntimeError: no cudnn here"}


def test_numpy_abi_message_on_stderr_becomes_numpy_error():
    payload = {"errors": {}, "installed": True, "version": "2.1.2+cu121", "numpy_version": "2.0.0"}
    stderr = (
        "\nA module that was compiled using NumPy 1.x cannot be run in\n"
        "NumPy 2.0.0 as it may crash. To support both 1.x and 2.x\n"
    )
    result = CommandResult(("py",), 0, MARKER + json.dumps(payload) + "\n", stderr)
    facts, _ = parse_child_output(result)
    assert facts.numpy_error == "A module that was compiled using NumPy 1.x cannot be run in"
    assert facts.numpy_version == "2.0.0"


def test_facts_then_crash_at_exit_keeps_facts_and_notes_it():
    payload = {"errors": {}, "installed": True, "version": "2.4.1"}
    result = CommandResult(("py",), -11, MARKER + json.dumps(payload) + "\n", "")
    facts, errors = parse_child_output(result)
    assert facts.version == "2.4.1" and facts.error is None
    assert errors == {"exit": "killed by SIGSEGV"}


def test_child_runs_under_this_interpreter_by_default():
    seen = []

    def runner(argv, timeout_s):
        seen.append((list(argv), timeout_s))
        return CommandResult(tuple(argv), 0, MARKER + '{"installed": false}\n')

    facts, _ = collect_torch(runner=runner, timeout_s=7)
    assert seen[0][0][0] == sys.executable and seen[0][0][-1].endswith("_torch_child.py")
    assert seen[0][1] == 7 and facts.installed is False


def test_wheels_read_from_dist_info_names(tmp_path, monkeypatch):
    from rigcheck.probe import _torch_child

    for entry in ("nvidia_cudnn_cu12-9.1.0.70.dist-info", "nvidia_nccl_cu12-2.20.5.dist-info",
                  "triton-3.0.0.dist-info", "numpy-1.26.4.dist-info", "nvidia_junk.txt"):
        (tmp_path / entry).mkdir()
    monkeypatch.setattr(sys, "path", [str(tmp_path), str(tmp_path / "missing")])
    assert _torch_child._wheels() == {
        "nvidia-cudnn-cu12": "9.1.0.70", "nvidia-nccl-cu12": "2.20.5", "triton": "3.0.0"}


def test_child_does_not_see_its_own_folder_on_sys_path(tmp_path):
    # A module named like a probe module (env.py) must not be importable from the child.
    probe = Path(__file__).resolve().parents[1] / "rigcheck" / "probe"
    code = (
        "import runpy, sys; sys.argv=[{s!r}]; sys.path.insert(0, {d!r}); "
        "runpy.run_path({s!r}, run_name='not_main'); print(any(p == {d!r} for p in sys.path))"
    ).format(s=str(probe / "_torch_child.py"), d=str(probe))
    out = run([sys.executable, "-c", code], 60)
    assert out.stdout.strip().endswith("False"), out.stderr


FAKE_BLACKWELL_ON_CU118 = '''
import types, warnings
__version__ = "2.3.1+cu118"
version = types.SimpleNamespace(cuda="11.8", hip=None)

def _props(i):
    warnings.warn("NVIDIA GeForce RTX 5090 with CUDA capability sm_120 is not compatible with "
                  "the current PyTorch installation.")
    return types.SimpleNamespace(name="NVIDIA GeForce RTX 5090", major=12, minor=0,
                                 total_memory=32 * 2**30)

cuda = types.SimpleNamespace(
    is_available=lambda: True, device_count=lambda: 2, get_arch_list=lambda: ["sm_90"],
    get_device_properties=_props, nccl=types.SimpleNamespace(version=lambda: (2, 19, 3)),
)
backends = types.SimpleNamespace(
    cudnn=types.SimpleNamespace(version=lambda: 8700, allow_tf32=True),
    cuda=types.SimpleNamespace(matmul=types.SimpleNamespace(allow_tf32=False)),
    mkldnn=types.SimpleNamespace(is_available=lambda: True),
)
get_float32_matmul_precision = lambda: "highest"
get_num_threads = lambda: 8
'''


def test_lazy_init_capability_warning_is_captured(tmp_path):
    pkg = tmp_path / "torch"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(FAKE_BLACKWELL_ON_CU118)
    facts, errors = collect_torch(runner=with_pythonpath(tmp_path))
    assert facts.cuda_available is True and facts.device_count == 2
    assert [(d.index, d.capability, d.total_memory_gb) for d in facts.devices] == [
        (0, "12.0", 32.0), (1, "12.0", 32.0)]
    # the same warning twice (one per device) is kept once
    assert facts.cuda_init_error == (
        "NVIDIA GeForce RTX 5090 with CUDA capability sm_120 is not compatible with the current "
        "PyTorch installation.")
    assert facts.cudnn_version == 8700 and facts.nccl_version == "2.19.3" and errors == {}


def _answers(by_python):
    calls = []

    def runner(argv, timeout_s):
        calls.append(argv[0])
        payload = by_python[argv[0]]
        return CommandResult(tuple(argv), 0, MARKER + json.dumps(payload) + "\n")

    return runner, calls


def test_falls_back_to_python_on_path_when_rigcheck_has_no_torch():
    runner, calls = _answers({
        sys.executable: {"installed": False, "python_executable": sys.executable},
        "/opt/conda/bin/python3": {"installed": True, "version": "2.5.1+cu124",
                                   "python_executable": "/opt/conda/bin/python3"},
    })
    which = {"python3": "/opt/conda/bin/python3", "python": sys.executable}.get
    facts, errors = collect_torch(runner=runner, which=which)
    assert calls == [sys.executable, "/opt/conda/bin/python3"]
    assert facts.version == "2.5.1+cu124" and facts.python_executable == "/opt/conda/bin/python3"
    assert errors == {}


def test_no_fallback_when_torch_is_here_or_python_is_explicit():
    runner, calls = _answers({
        sys.executable: {"installed": True, "version": "2.4.1"},
        "/explicit/python": {"installed": False},
        "/opt/conda/bin/python3": {"installed": True, "version": "9"},
    })
    which = {"python3": "/opt/conda/bin/python3"}.get
    assert collect_torch(runner=runner, which=which)[0].version == "2.4.1"
    assert collect_torch(runner=runner, which=which, python="/explicit/python")[0].installed is False
    assert calls == [sys.executable, "/explicit/python"]


def test_fallback_finds_nothing_keeps_not_installed():
    runner, calls = _answers({
        sys.executable: {"installed": False},
        "/usr/bin/python3": {"installed": False},
    })
    facts, _ = collect_torch(runner=runner, which={"python3": "/usr/bin/python3"}.get)
    assert facts.installed is False and calls == [sys.executable, "/usr/bin/python3"]


def test_child_script_parses_as_python_3_6():
    # --python may point at an old conda env; the child must at least run there.
    import ast

    from rigcheck.probe.torch_env import CHILD_SCRIPT

    ast.parse(CHILD_SCRIPT.read_text(), feature_version=(3, 6))
    assert "from __future__ import annotations" not in CHILD_SCRIPT.read_text()
