"""Multi-process measurement on PyTorch's own distributed stack (launched by ``torchrun``).

Two pieces:

* :func:`gather_over_store`: every rank puts a payload (its facts, its figures) into the
  rendezvous key-value store that torchrun already runs, and rank 0 collects them with a deadline.
  No collective is involved, so a rank that crashed, hangs or never started cannot hang the
  others: rank 0 reports it as missing when the deadline passes.
* :func:`bench_collectives` and :func:`bench_ddp`: all-reduce, all-gather and broadcast over
  message sizes, reported with nccl-tests' definitions of algorithm and bus bandwidth, and DDP
  training throughput against one device. NCCL on GPUs, gloo on CPUs.

torch is imported inside the functions; this module belongs to the torch-owning bench package.
"""

from __future__ import annotations

import gc
import os
import signal
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

# nccl-tests (NVIDIA/nccl-tests doc/PERFORMANCE.md): busbw = algbw x factor, where the factor
# makes the figure comparable with the hardware's link bandwidth whatever the rank count.
BUS_FACTORS: dict[str, Callable[[int], float]] = {
    "all_reduce": lambda n: 2 * (n - 1) / n,
    "all_gather": lambda n: (n - 1) / n,
    "broadcast": lambda n: 1.0,
}
# 1 KB .. 1 GB in powers of 4 (nccl-tests sweeps -b 8 -e 8G -f 2; powers of 4 halve the run).
SIZES_FULL = tuple(1024 * 4 ** i for i in range(11))
# On CPUs (gloo) a quick run stops at 16 MB: loopback gloo on 2 cores takes seconds per GB.
SIZES_QUICK_CPU = tuple(s for s in SIZES_FULL if s <= 16 * 1024 ** 2)


class DistError(RuntimeError):
    """Not launched by torchrun, or the rendezvous store could not be reached."""


@dataclass(frozen=True)
class RankInfo:
    rank: int
    world_size: int
    local_rank: int
    node_rank: int
    master_addr: str
    master_port: int


def rank_info(environ: dict[str, str] | None = None) -> RankInfo | None:
    """The torchrun environment of this process, or None outside torchrun."""
    env = os.environ if environ is None else environ
    try:
        return RankInfo(
            rank=int(env["RANK"]), world_size=int(env["WORLD_SIZE"]),
            local_rank=int(env.get("LOCAL_RANK", "0")), node_rank=int(env.get("GROUP_RANK", "0")),
            master_addr=env["MASTER_ADDR"], master_port=int(env["MASTER_PORT"]),
        )
    except (KeyError, ValueError):
        return None


@dataclass
class Gathered:
    info: RankInfo
    payloads: dict[int, str] = field(default_factory=dict)     # rank -> payload (rank 0 only)
    missing: list[int] = field(default_factory=list)          # ranks that never reported
    clock_offsets_s: dict[int, float] = field(default_factory=dict)
    interrupted: bool = False                                  # SIGTERM from torchrun


def _store(info: RankInfo, timeout_s: float):
    import torch.distributed as dist

    # torchrun >= 2.0 serves the store from its agent (TORCHELASTIC_USE_AGENT_STORE=True): every
    # worker is a client. Without the agent store, rank 0 hosts it.
    agent_store = os.environ.get("TORCHELASTIC_USE_AGENT_STORE", "").lower() == "true"
    try:
        return dist.TCPStore(info.master_addr, info.master_port, info.world_size,
                             is_master=(info.rank == 0 and not agent_store),
                             timeout=timedelta(seconds=timeout_s), wait_for_workers=False)
    except (RuntimeError, OSError) as exc:
        raise DistError(f"cannot reach the rendezvous store at {info.master_addr}:"
                        f"{info.master_port}: {exc}") from None


def _fault(info: RankInfo) -> None:
    """Test hook: RIGCHECK_FLEET_FAULT="1:die" or "1:hang" makes rank 1 die or hang, so the
    bounded-wait behaviour can be tested with real torchrun processes."""
    spec = os.environ.get("RIGCHECK_FLEET_FAULT", "")
    if ":" not in spec:
        return
    rank, what = spec.split(":", 1)
    if rank.strip() == str(info.rank):
        if what == "die":
            os._exit(3)
        if what == "hang":
            while True:
                time.sleep(3600)


def gather_over_store(tag: str, payload: str, timeout_s: float = 60.0,
                      info: RankInfo | None = None, interrupted: bool = False) -> Gathered:
    """Every rank sends ``payload``; rank 0 gets them all, or a list of the ranks missing at the
    deadline. Non-zero ranks return once rank 0 is done (or at the deadline). ``interrupted``:
    rank 0 was already told to stop (SIGTERM), so it only takes what is there now."""
    info = info or rank_info()
    if info is None:
        raise DistError("not launched by torchrun (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT unset)")
    store = _store(info, timeout_s)
    prefix = f"rigcheck/{tag}"
    interrupted = interrupted or _TERMINATED.is_set()
    result = Gathered(info=info, interrupted=interrupted)
    _fault(info)
    store.set(f"{prefix}/payload/{info.rank}", payload)
    # A clock reading taken when the "go" key appears lets rank 0 estimate every clock's offset.
    if info.rank == 0:
        store.set(f"{prefix}/go", "1")
    deadline = time.monotonic() + (1.0 if interrupted else timeout_s)
    if not _wait(store, f"{prefix}/go", deadline):
        return result
    store.set(f"{prefix}/clock/{info.rank}", datetime.now(timezone.utc).isoformat())
    if info.rank != 0:
        _wait(store, f"{prefix}/done", deadline)
        return result

    try:
        for r in range(info.world_size):
            try:
                if _wait(store, f"{prefix}/payload/{r}", deadline):
                    result.payloads[r] = store.get(f"{prefix}/payload/{r}").decode("utf-8")
                else:
                    result.missing.append(r)
            except KeyboardInterrupt:
                result.interrupted = True
                result.missing.extend(x for x in range(r, info.world_size)
                                      if x not in result.payloads)
                break
        clocks = {}
        for r in result.payloads:
            if not result.interrupted and _wait(store, f"{prefix}/clock/{r}", min(deadline, time.monotonic() + 5)):
                clocks[r] = datetime.fromisoformat(store.get(f"{prefix}/clock/{r}").decode())
        if 0 in clocks:
            result.clock_offsets_s = {r: (t - clocks[0]).total_seconds() for r, t in clocks.items()}
        store.set(f"{prefix}/done", "1")
    except KeyboardInterrupt:
        result.interrupted = True
    if _TERMINATED.is_set():
        result.interrupted = True
        result.missing = sorted(set(result.missing)
                                | {r for r in range(info.world_size) if r not in result.payloads})
    return result


_TERMINATED = threading.Event()


class terminate_as_interrupt:
    """Turn torchrun's SIGTERM into KeyboardInterrupt while rank 0 works, once.

    When any worker dies, torchrun's agent sends SIGTERM to the others. Rank 0 catches the first
    one, stops waiting and prints the partial report naming the missing ranks. After the block,
    SIGTERM stays ignored so that the report is printed whole; the process exits right after it
    (and the agent's SIGKILL after its grace period still bounds it)."""

    def __enter__(self):
        def handler(signum, frame):
            if not _TERMINATED.is_set():
                _TERMINATED.set()
                raise KeyboardInterrupt
        signal.signal(signal.SIGTERM, handler)
        return self

    def __exit__(self, *exc):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        return False


def _wait(store, key: str, deadline: float) -> bool:
    """Wait for ``key`` in short slices so SIGTERM is handled promptly; False at the deadline
    or once SIGTERM has come (even where the KeyboardInterrupt it raised was swallowed, e.g. by
    a probe that records a failing source and goes on)."""
    if store.check([key]):
        return True
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or _TERMINATED.is_set():
            return False
        try:
            store.wait([key], timedelta(seconds=min(0.5, left)))
            return True
        except RuntimeError:            # the store raises on a wait timeout
            continue


# ---- collectives ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CollectiveResult:
    op: str
    size_bytes: int
    time_us: float                       # per operation, the slowest rank's median
    algbw_gbs: float
    busbw_gbs: float
    iterations: int


def _init_group(timeout_s: float) -> str:
    import torch
    import torch.distributed as dist

    if dist.is_initialized():
        return dist.get_backend()
    backend = "nccl" if torch.cuda.is_available() and dist.is_nccl_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend=backend, timeout=timedelta(seconds=timeout_s))
    return backend


def _operation(op: str, size: int, world: int, device):
    """A call that runs one collective on fresh float32 buffers, and its message size in bytes."""
    import functools

    import torch
    import torch.distributed as dist

    n = max(1, size // 4)
    if op == "all_gather":
        # all_gather_into_tensor: each rank contributes size/world, the result is size bytes.
        part = max(1, n // world)
        src = torch.ones(part, dtype=torch.float32, device=device)
        dst = torch.empty(part * world, dtype=torch.float32, device=device)
        # all_gather_single replaces the deprecated all_gather_into_tensor in newer torch.
        gather = getattr(dist, "all_gather_single", None) or dist.all_gather_into_tensor
        return functools.partial(gather, dst, src), part * world * 4
    buf = torch.ones(n, dtype=torch.float32, device=device)
    if op == "all_reduce":
        return functools.partial(dist.all_reduce, buf), n * 4
    return functools.partial(dist.broadcast, buf, src=0), n * 4


def bench_collectives(sizes: tuple[int, ...] | None = None, min_time_s: float = 0.05,
                      timeout_s: float = 120.0,
                      progress: Callable[[str], None] | None = None) -> tuple[str, list[CollectiveResult]]:
    """All-reduce, all-gather and broadcast at each size; every rank must call it."""
    import torch
    import torch.distributed as dist

    backend = _init_group(timeout_s)
    world = dist.get_world_size()
    device = torch.device("cuda") if backend == "nccl" else torch.device("cpu")
    sizes = sizes or (SIZES_FULL if backend == "nccl" else SIZES_QUICK_CPU)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    results = []
    for op in ("all_reduce", "all_gather", "broadcast"):
        for size in sizes:
            run, size_eff = _operation(op, size, world, device)
            for _ in range(2):                          # warm-up: connections, algorithms
                run()
            sync()
            # Every rank runs the same number of iterations (collectives must match): rank 0's
            # estimate from one timed call, shared by broadcast.
            t0 = time.perf_counter()
            run()
            sync()
            one = torch.tensor([time.perf_counter() - t0], dtype=torch.float64, device=device)
            dist.broadcast(one, src=0)
            iters = int(min(200, max(5, min_time_s / max(float(one.item()), 1e-6))))
            times = []
            for _ in range(iters):
                if backend == "gloo":
                    dist.barrier()
                t0 = time.perf_counter()
                run()
                sync()
                times.append(time.perf_counter() - t0)
            med = torch.tensor([statistics.median(times)], dtype=torch.float64, device=device)
            dist.all_reduce(med, op=dist.ReduceOp.MAX)
            seconds = float(med.item())
            algbw = size_eff / seconds / 1e9
            results.append(CollectiveResult(op=op, size_bytes=size_eff, time_us=seconds * 1e6,
                                            algbw_gbs=algbw, busbw_gbs=algbw * BUS_FACTORS[op](world),
                                            iterations=iters))
            if progress:
                progress(f"{op} {size_eff:,} B: {algbw * BUS_FACTORS[op](world):.2f} GB/s bus")
    return backend, results


def pcie_bandwidth_gbs(gen: int | None, width: int | None) -> float | None:
    """Usable one-direction PCIe bandwidth: per-lane rate after line encoding (PCI-SIG: Gen3
    8 GT/s 128b/130b = 0.985 GB/s; each later generation doubles)."""
    if not gen or not width:
        return None
    per_lane = {1: 0.25, 2: 0.5, 3: 0.985, 4: 1.969, 5: 3.938, 6: 7.563}.get(gen)
    return per_lane * width if per_lane else None


def finish() -> None:
    """Leave the process group together: a rank that tears gloo down while its peer is still
    sending aborts with "terminate called without an active exception" (seen in CI, rank 1,
    exit -6), so all ranks meet at a barrier first."""
    import torch.distributed as dist
    if dist.is_initialized():
        try:
            dist.barrier()
        except RuntimeError:
            pass   # a peer already gone: tearing down is all that is left to do
        dist.destroy_process_group()


# ---- data-parallel training -----------------------------------------------------------------

@dataclass(frozen=True)
class DdpResult:
    recipe: str
    world_size: int
    batch_size: int                      # per rank
    single_samples_per_s: float          # sum over ranks, each training alone (no gradient sync)
    ddp_samples_per_s: float             # sum over ranks under DistributedDataParallel
    scaling_efficiency: float            # ddp / single: 1.0 means the sync cost nothing
    per_rank: tuple[tuple[float, float], ...] = ()   # (single, ddp) samples/s of each rank


def bench_ddp(recipe, batch_size: int = 8, steps: int = 10, timeout_s: float = 120.0) -> DdpResult:
    """Training throughput of ``recipe`` with and without DDP on every rank at once.

    Every rank first trains alone (its own device, no communication), then the same model under
    DistributedDataParallel; both run on all ranks concurrently, so a shared CPU or PCIe switch
    is shared in both and the ratio isolates the cost of gradient synchronisation."""
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from rigcheck.bench.models import build_workload

    backend = _init_group(timeout_s)
    device = torch.device("cuda", torch.cuda.current_device()) if backend == "nccl" \
        else torch.device("cpu")
    # Measured in fp32 whatever the recipe's precision: what is compared is the same step with
    # and without gradient synchronisation, and fp32 gradients are the larger all-reduce.
    dtype = torch.float32
    # Every rank must take part in the collectives below, so a rank that cannot build or step
    # the model (out of memory, say) must not leave the others waiting for the timeout: each
    # tries first, and all skip together when any failed.
    problem = ""
    try:
        work = build_workload(recipe, device=device)
        inputs, targets = work.make_batch(batch_size, device, dtype)
        work.loss(work.model(inputs), targets).backward()
    except Exception as exc:
        problem = f"{type(exc).__name__}: {exc}"
    ok = torch.tensor([0.0 if problem else 1.0], device=device)
    dist.all_reduce(ok, op=dist.ReduceOp.MIN)
    if ok.item() < 1.0:
        raise DistError(f"DDP bench skipped: a rank could not train {recipe.id} at batch "
                        f"{batch_size}" + (f" ({problem})" if problem else ""))

    def measure(model, params) -> float:
        opt = torch.optim.SGD(params, lr=1e-3, momentum=0.9)
        inputs, targets = work.make_batch(batch_size, device, dtype)

        def step():
            opt.zero_grad(set_to_none=True)
            work.loss(model(inputs), targets).backward()
            opt.step()
        for _ in range(2):
            step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        dist.barrier()
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return batch_size * steps / (time.perf_counter() - t0)

    single = measure(work.model, work.trainable)
    ddp_model = DistributedDataParallel(work.model, device_ids=[device.index] if device.type == "cuda" else None)
    ddp = measure(ddp_model, [p for p in ddp_model.parameters() if p.requires_grad])
    world = dist.get_world_size()
    mine = torch.tensor([single, ddp], dtype=torch.float64, device=device)
    every = [torch.zeros_like(mine) for _ in range(world)]
    dist.all_gather(every, mine)
    per_rank = tuple((float(t[0]), float(t[1])) for t in every)
    # Free DDP's reducer (it holds the process group and its gloo work) now, while the group and
    # the interpreter are alive: left to interpreter shutdown, gloo's threads can abort the rank
    # ("terminate called without an active exception", exit -6), as a CI run showed.
    del ddp_model
    gc.collect()
    single_total = sum(s for s, _ in per_rank)
    ddp_total = sum(d for _, d in per_rank)
    return DdpResult(recipe=recipe.id, world_size=world, batch_size=batch_size,
                     single_samples_per_s=single_total, ddp_samples_per_s=ddp_total,
                     scaling_efficiency=ddp_total / single_total if single_total else 0.0,
                     per_rank=per_rank)
