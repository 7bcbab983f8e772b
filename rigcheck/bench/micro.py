"""Micro-benchmarks: GEMM, memory copy, host<->device copies, dataset-disk reads, image pipeline.

Each function measures one thing and returns a :class:`~rigcheck.runs.results.Figure` whose
``note`` says exactly what was measured, or raises :class:`Skip` with the reason. Rates are
decimal (1 GB/s = 1e9 bytes/s, as CUDA's bandwidthTest and nvbandwidth count). Nothing here decides
what is good or bad; :mod:`rigcheck.bench.expect` attaches expectations. The training-step
figure is in :mod:`rigcheck.bench.train`.

torch is imported at module level: only the bench runner imports this module, lazily.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from rigcheck.bench.timing import Timing, measure
from rigcheck.runs.results import Figure


class Skip(Exception):
    """This figure cannot be measured here; the message says why."""


@dataclass(frozen=True)
class Budget:
    """Time allowed for one figure's timed part, and how many repetitions to aim for."""

    budget_s: float = 1.5
    min_runs: int = 5
    max_runs: int = 50
    warmup: int = 2
    deadline: float | None = None     # time.perf_counter() value after which nothing starts
    max_s: float | None = None        # hard cap on timed work; None: 3 x budget_s


def sync_for(device: torch.device):
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    if device.type == "mps":      # Apple GPU: queued like CUDA, so time to a synchronize too
        return lambda: torch.mps.synchronize()
    if device.type == "xpu":      # Intel GPU
        return lambda: torch.xpu.synchronize(device)
    return None


def figure_from(name: str, value: float, unit: str, timing: Timing, **kw) -> Figure:
    return Figure(name=name, value=value, unit=unit, median_s=timing.median_s,
                  iqr_s=timing.iqr_s, cv_pct=round(timing.cv_pct, 2), runs=timing.runs,
                  verdict=timing.verdict, **kw)


# --------------------------------------------------------------------------------------- GEMM

GEMM_DTYPES = {"fp32": torch.float32, "tf32": torch.float32, "fp16": torch.float16,
               "bf16": torch.bfloat16}


@contextlib.contextmanager
def tf32_matmuls(enabled: bool) -> Iterator[None]:
    # torch's default for matmul is allow_tf32=False; we set it either way and restore it.
    old = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = enabled
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = old


def gemm(dtype_name: str, device: torch.device, n: int, budget: Budget) -> Figure:
    """Square ``n x n x n`` matrix multiply; 2 n^3 FLOPs per call (a multiply-add counts 2)."""
    if dtype_name not in GEMM_DTYPES:
        raise ValueError(f"unknown GEMM dtype {dtype_name}")
    if device.type == "cpu" and dtype_name in ("tf32", "fp16"):
        raise Skip("tf32 is an NVIDIA tensor-core mode (Ampere and later), not a CPU format"
                   if dtype_name == "tf32" else
                   "fp16 is not a CPU training precision in PyTorch (autocast on the CPU uses "
                   "bf16); measured on CUDA GPUs only")
    if device.type == "cuda":
        major, _ = torch.cuda.get_device_capability(device)
        if dtype_name in ("tf32", "bf16") and major < 8:
            raise Skip(f"{dtype_name} needs compute capability 8.0 (Ampere) or later; "
                       f"this GPU is {major}.x")
    dtype = GEMM_DTYPES[dtype_name]
    gen = torch.Generator(device="cpu").manual_seed(0)
    a = torch.randn(n, n, generator=gen).to(device=device, dtype=dtype)
    b = torch.randn(n, n, generator=gen).to(device=device, dtype=dtype)
    c = torch.empty(n, n, device=device, dtype=dtype)
    with tf32_matmuls(dtype_name == "tf32"):
        timing = measure(lambda: torch.matmul(a, b, out=c), sync=sync_for(device),
                         warmup=budget.warmup, min_runs=budget.min_runs, max_runs=budget.max_runs,
                         budget_s=budget.budget_s, min_sample_s=0.01 if device.type == "cuda" else 0)
    gflops = 2.0 * n**3 / timing.median_s / 1e9
    mode = ""
    if device.type == "cuda" and dtype_name == "fp32":
        mode = " (TF32 off: true fp32)"
    return figure_from(
        f"gemm-{dtype_name}", gflops, "GFLOP/s", timing,
        label=f"GEMM {dtype_name} {n}x{n}x{n}",
        note=f"torch.matmul {n}x{n} @ {n}x{n}{mode}, median of {timing.runs} timed "
             f"samples x {timing.calls_per_sample} call(s), {torch.get_num_threads()} threads"
             if device.type == "cpu" else
             f"torch.matmul {n}x{n} @ {n}x{n}{mode}, median of {timing.runs} timed samples x "
             f"{timing.calls_per_sample} call(s)",
        params={"n": n, "dtype": dtype_name, "device": str(device)},
    )


# ------------------------------------------------------------------------- memory bandwidth

def memory_copy(device: torch.device, size_bytes: int, budget: Budget) -> Figure:
    """Device-to-device copy of one large buffer; counts read + write (2 x bytes), as
    bandwidthTest counted device-to-device."""
    n = size_bytes // 4
    src = torch.ones(n, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    # A 1 GiB copy takes well under a millisecond on HBM: batch calls so a sync does not count.
    timing = measure(lambda: dst.copy_(src), sync=sync_for(device), warmup=budget.warmup,
                     min_runs=budget.min_runs, max_runs=budget.max_runs,
                     budget_s=budget.budget_s,
                     min_sample_s=0.01 if device.type == "cuda" else 0.0)
    gbs = 2.0 * n * 4 / timing.median_s / 1e9
    where = "device memory" if device.type == "cuda" else "main memory"
    return figure_from(
        "mem-copy", gbs, "GB/s", timing, label=f"Memory copy ({where})",
        note=f"copy of a {n * 4 / 2**20:.0f} MiB buffer, read + write counted (2 x bytes)",
        params={"size_bytes": n * 4},
    )


# ---------------------------------------------------------------------- host <-> device

def host_device_copy(direction: str, pinned: bool, device: torch.device, size_bytes: int,
                     budget: Budget) -> Figure:
    """One ``size_bytes`` transfer host->device ("h2d") or back ("d2h"), pinned or pageable."""
    if device.type != "cuda":
        raise Skip("no CUDA GPU: host-device copies need a GPU")
    n = size_bytes // 4
    host = torch.ones(n, dtype=torch.float32, pin_memory=pinned)
    dev = torch.ones(n, dtype=torch.float32, device=device)
    if direction == "h2d":
        def fn() -> None:
            dev.copy_(host, non_blocking=pinned)
    else:
        def fn() -> None:
            host.copy_(dev, non_blocking=pinned)
    timing = measure(fn, sync=sync_for(device), warmup=budget.warmup, min_runs=budget.min_runs,
                     max_runs=budget.max_runs, budget_s=budget.budget_s)
    kind = "pinned" if pinned else "pageable"
    arrow = "host -> device" if direction == "h2d" else "device -> host"
    return figure_from(
        f"{direction}-{kind}", n * 4 / timing.median_s / 1e9, "GB/s", timing,
        label=f"Copy {arrow}, {kind}",
        note=f"{n * 4 / 2**20:.0f} MiB per transfer, {kind} host memory",
        params={"size_bytes": n * 4, "pinned": pinned},
    )


# ------------------------------------------------------------------------ dataset disk read

_CHUNK = 8 * 2**20


def _drop_cache(fd: int) -> bool:
    """Ask the kernel to forget the file's cached pages. Linux honours POSIX_FADV_DONTNEED for
    clean pages (hence fsync after writing); macOS and Windows have no posix_fadvise."""
    if not hasattr(os, "posix_fadvise"):
        return False
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    except OSError:
        return False
    return True


def _read_all(paths: list[Path]) -> tuple[int, float, bool]:
    """Read the files start to end; returns bytes, seconds, and whether the cache was dropped."""
    total, dropped, buf = 0, True, bytearray(_CHUNK)
    fds = [os.open(p, os.O_RDONLY) for p in paths]
    try:
        for fd in fds:
            dropped = _drop_cache(fd) and dropped
        t0 = time.perf_counter()
        for fd in fds:
            with os.fdopen(os.dup(fd), "rb", buffering=0) as f:
                while (got := f.readinto(buf)):
                    total += got
        return total, time.perf_counter() - t0, dropped
    finally:
        for fd in fds:
            os.close(fd)


def _existing_files(directory: Path, want_bytes: int) -> list[Path]:
    """Large regular files under ``directory`` (files >= 1 MiB, walked in name order) up to
    ``want_bytes``. Reading the user's real files is the honest test of their dataset disk."""
    chosen, total = [], 0
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files):
            p = Path(root) / name
            try:
                size = p.stat().st_size
            except OSError:
                continue
            if size >= 2**20 and os.access(p, os.R_OK):
                chosen.append(p)
                total += size
                if total >= want_bytes:
                    return chosen
    return chosen if total >= want_bytes // 4 else []


def disk_read(directory: Path, size_bytes: int, budget: Budget) -> Figure:
    """Sequential read rate of the disk holding ``directory``, in MB/s (decimal)."""
    if not directory.is_dir():
        raise Skip(f"--data-dir {directory} is not a directory")
    files = _existing_files(directory, size_bytes)
    temp: Path | None = None
    how = f"read {len(files)} existing file(s)"
    if not files:
        try:
            fd, name = tempfile.mkstemp(prefix=".rigcheck-read-", dir=directory)
        except OSError as exc:
            raise Skip(f"no large files in {directory} and cannot write a test file there: "
                       f"{exc.strerror or exc}") from None
        temp = Path(name)
        try:
            block = os.urandom(_CHUNK)  # random: compressing file systems cannot shrink it
            with os.fdopen(fd, "wb") as f:
                for _ in range(max(1, size_bytes // _CHUNK)):
                    f.write(block)
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise Skip(f"cannot write a test file in {directory}: {exc.strerror or exc}") from None
        files = [temp]
        how = f"wrote, fsynced and read back a {size_bytes / 2**20:.0f} MiB test file"
    try:
        samples: list[float] = []
        nbytes, dropped_all = 0, True
        start = time.perf_counter()
        while len(samples) < budget.max_runs:
            nbytes, secs, dropped = _read_all(files)
            dropped_all = dropped_all and dropped
            samples.append(secs)
            if len(samples) >= 3 and time.perf_counter() - start >= budget.budget_s:
                break
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)
    from rigcheck.bench.timing import summarise
    timing = summarise(samples, min_runs=3)
    mbs = nbytes / timing.median_s / 1e6
    cache = ("page cache dropped before each pass (posix_fadvise DONTNEED)" if dropped_all else
             "the page cache could NOT be bypassed here (no posix_fadvise): this may be RAM speed")
    # The fastest PCIe 5.0 x4 NVMe drives read about 14 GB/s (PCIe 5.0 x4 = 15.75 GB/s raw); more
    # than that is memory, e.g. a file system (tmpfs, some network mounts) that ignores the hint.
    if mbs > 15_000:
        cache += ("; but over 15 GB/s is faster than any single SSD: the data most likely came "
                  "from RAM (tmpfs or a cache that ignores the hint)")
    return figure_from(
        "disk-read", mbs, "MB/s", timing, label=f"Sequential read, {directory}",
        note=f"{how}, {nbytes / 2**20:.0f} MiB per pass in 8 MiB reads; {cache}",
        params={"bytes": nbytes, "cache_dropped": dropped_all, "directory": str(directory)},
    )


# ------------------------------------------------------------------ image decode + augment

def _pipeline_torch(img: torch.Tensor, out: int, gen: torch.Generator) -> torch.Tensor:
    """A random-resized-crop + flip + normalise, the ImageNet training transform, in torch ops."""
    _, h, w = img.shape
    scale = 0.08 + 0.92 * float(torch.rand(1, generator=gen))
    side = max(8, int((h * w * scale) ** 0.5))
    ch, cw = min(side, h), min(side, w)
    top = int(torch.randint(0, h - ch + 1, (1,), generator=gen))
    left = int(torch.randint(0, w - cw + 1, (1,), generator=gen))
    crop = img[:, top:top + ch, left:left + cw].unsqueeze(0).float()
    x = torch.nn.functional.interpolate(crop, size=(out, out), mode="bilinear",
                                        align_corners=False, antialias=True)
    if float(torch.rand(1, generator=gen)) < 0.5:
        x = x.flip(-1)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1) * 255
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1) * 255
    return (x - mean) / std


def _pil_available() -> bool:
    try:
        import PIL.Image  # noqa: F401
    except ImportError:
        return False
    return True


def image_pipeline(budget: Budget, *, height: int = 375, width: int = 500, out: int = 224,
                   batch: int = 16) -> Figure:
    """Images per second per CPU core through a training-style input pipeline, on one thread.

    500x375 is a typical ImageNet photo (the mean is about 400x350; source: ImageNet statistics
    used by torchvision's reference scripts). With Pillow: JPEG decode of an image made in memory
    + the transform. Without: the transform alone on uint8 tensors (no decode), said in the note.
    """
    gen = torch.Generator().manual_seed(0)
    img = torch.randint(0, 256, (3, height, width), dtype=torch.uint8, generator=gen)
    use_pil = _pil_available()
    if use_pil:
        import io

        import PIL.Image
        buf = io.BytesIO()
        PIL.Image.fromarray(img.permute(1, 2, 0).numpy()).save(buf, format="JPEG", quality=90)
        jpeg = buf.getvalue()

        def one() -> None:
            im = PIL.Image.open(io.BytesIO(jpeg)).convert("RGB")
            t = torch.frombuffer(bytearray(im.tobytes()), dtype=torch.uint8)
            _pipeline_torch(t.view(height, width, 3).permute(2, 0, 1), out, gen)
    else:
        def one() -> None:
            _pipeline_torch(img, out, gen)

    old_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # per core: a DataLoader worker runs its transform on one thread
    try:
        def one_batch() -> None:
            # The same 16 random crops every call: each timed call does the same work, so the
            # spread measures the machine, not the crop sizes drawn.
            gen.manual_seed(1)
            for _ in range(batch):
                one()

        timing = measure(one_batch, warmup=1,
                         min_runs=budget.min_runs, max_runs=budget.max_runs,
                         budget_s=budget.budget_s)
    finally:
        torch.set_num_threads(old_threads)
    rate = batch / timing.median_s
    what = ("JPEG decode (Pillow, quality 90) + random-resized-crop to 224 + flip + normalise"
            if use_pil else
            "random-resized-crop to 224 + flip + normalise on uint8 tensors (torch ops); NO "
            "JPEG decode: Pillow is not installed, so real loading is slower than this")
    return figure_from(
        "image-pipeline", rate, "images/s/core", timing, label="Image pipeline, per core",
        note=f"{what}; {width}x{height} input, one thread",
        params={"jpeg_decode": use_pil, "input": [height, width], "output": out},
    )
