"""The report as plain data: sections of tables, charts and notes, built from JSON outputs. Pure.

Inputs are the stable JSON objects the commands print with ``--json`` (each documented in its
command module): probe facts, doctor findings, a saved bench run (``BenchRun.to_dict``),
estimates and a recommendation. Any of them may be missing; the section then says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rigcheck.money import format_inr
from rigcheck.report.svg import Bar, Point
from rigcheck.units import human_duration, sig

SCHEMA = 1


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    numeric: tuple[int, ...] = ()        # column indexes to right-align
    folded: bool = False                 # long and secondary: shown folded (<details>)


@dataclass(frozen=True)
class Chart:
    kind: str                            # "bars" | "scatter"
    name: str                            # stable id: "bench-vs-expected", "frontier", ...
    title: str
    bars: tuple[Bar, ...] = ()
    points: tuple[Point, ...] = ()
    log: bool = False
    x_label: str = ""
    y_label: str = ""
    ref_label: str = "expected"
    x_money: bool = False                # format x ticks as rupees


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    available: bool
    lead: str = ""                       # one sentence: what this section is and where from
    items: tuple[tuple[str, str], ...] = ()   # (status, text): "fail" | "warn" | "ok" | "info"
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()
    notes: tuple[str, ...] = ()          # units, sources, caveats; said once


@dataclass(frozen=True)
class Report:
    title: str
    generated_at: str
    rigcheck_version: str
    redacted: bool
    machine: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def charts(self) -> list[Chart]:
        return [c for s in self.sections for c in s.charts]


def inr(x: float | None) -> str:
    """Rupees with Indian grouping (``rigcheck.money``, the one owner): ₹1,21,499."""
    return "-" if x is None else format_inr(x)


# ---- machine ---------------------------------------------------------------------------------

def machine_rows(facts: Mapping[str, Any] | None) -> tuple[tuple[str, str], ...]:
    if not facts:
        return ()
    host = facts.get("host") or {}
    nv = facts.get("nvml") or {}
    torch = facts.get("torch") or {}
    rows = []
    gpus = [g for g in nv.get("gpus") or [] if g.get("name")]
    if gpus:
        names: dict[str, int] = {}
        for g in gpus:
            names[g["name"]] = names.get(g["name"], 0) + 1
        rows.append(("GPUs", ", ".join(f"{n} x {k}" if n > 1 else k for k, n in names.items())
                     + (f"; driver {nv['driver_version']}" if nv.get("driver_version") else "")))
    else:
        rows.append(("GPUs", "none seen by NVML" + (f" ({nv['error']})" if nv.get("error") else "")))
    if host.get("cpu_model"):
        rows.append(("CPU", f"{host['cpu_model']}: {host.get('cores_physical') or '?'} cores / "
                            f"{host.get('threads') or '?'} threads"))
    if host.get("ram_total_gb") is not None:
        rows.append(("Memory", f"{sig(host['ram_total_gb'])} GiB RAM"))
    if host.get("os"):
        rows.append(("OS", f"{host['os']}, kernel {host.get('kernel') or '?'}"))
    if torch.get("version"):
        build = (f"CUDA {torch['cuda_build']}" if torch.get("cuda_build")
                 else f"ROCm {torch['hip_build']}" if torch.get("hip_build") else "CPU-only build")
        rows.append(("PyTorch", f"{torch['version']} ({build})"))
    elif torch.get("installed") is False:
        rows.append(("PyTorch", "not installed"))
    return tuple(rows)


# ---- doctor ----------------------------------------------------------------------------------

_ORDER = {"crash": 0, "fail": 1, "warn": 2, "info": 3, "ok": 4, "skip": 5}


def doctor_section(doctor: Mapping[str, Any] | None, why: str = "") -> Section:
    title = "Doctor: is this machine set up right?"
    if not doctor:
        return Section("doctor", title, False, lead=why or "the doctor did not run")
    findings = list(doctor.get("findings") or [])
    counts = (doctor.get("summary") or {}).get("counts") or {}
    lead = ", ".join(f"{counts[k]} {word}" for k, word in (
        ("fail", "failed"), ("crash", "crashed"),
        ("warn", "warning" if counts.get("warn") == 1 else "warnings"),
        ("info", "for information"), ("ok", "ok"), ("skip", "skipped (nothing to check)"))
        if counts.get(k))
    lead = f"{len(findings)} checks: {lead}." if lead else f"{len(findings)} checks."
    items = []
    for f in sorted(findings, key=lambda f: _ORDER.get(f.get("status", ""), 9)):
        status = f.get("status", "")
        if status == "ok" and str(f.get("summary", "")).startswith("for information"):
            status = "info"    # readiness for targets nobody named (the doctor's own wording)
        if status in ("ok", "skip"):
            continue
        text = f.get("summary", "").rstrip()
        if f.get("fix"):
            text += ("" if text.endswith((".", "!", "?")) else ".") + f" Fix: {f['fix']}"
        text += f" [{f.get('id', '')}]"
        items.append((status, text))
    if not any(s in ("fail", "crash", "warn") for s, _ in items):
        skipped = counts.get("skip", 0)
        items.insert(0, ("ok", "No problems in the checks that could run"
                         + (f" ({skipped} could not run here: no GPU, or nothing to check)."
                            if skipped else ".")))
    return Section("doctor", title, True, lead=lead, items=tuple(items),
                   notes=("Each problem: what was found, the fix, and the check's id "
                          "(rigcheck doctor -v shows every check with its source).",))


# ---- bench -----------------------------------------------------------------------------------

def _flag(verdict: str | None) -> str:
    v = (verdict or "ok").split(":")[0].strip()
    return "" if v in ("", "ok") else v


def bench_section(run: Mapping[str, Any] | None, why: str = "") -> Section:
    title = "Bench: what this machine really measured"
    if not run:
        return Section("bench", title, False, lead=why or "no saved rigcheck bench run; run "
                       "`rigcheck bench` first")
    results = list(run.get("results") or [])
    machine = run.get("machine") or {}
    when = str(run.get("started_at", "?")).replace("T", " ")[:16] + " UTC"
    lead = (f"Run of {when} ({run.get('mode', '?')} mode, {sig(run.get('duration_s') or 0)} s) "
            f"on {machine.get('device', '?')}, torch {machine.get('torch_version', '?')}.")
    rows, vs_expected, train = [], [], []
    for r in results:
        peak = f"{r['pct_peak']:.0f}%" if r.get("pct_peak") is not None else "-"
        flag = _flag(r.get("verdict"))
        pct = r.get("pct_expected")
        rows.append((r.get("label") or r.get("name", ""), f"{sig(r.get('value', 0))} {r.get('unit', '')}",
                     f"{sig(r['expected'])} {r.get('unit', '')}" if r.get("expected") else "-",
                     f"{pct:.0f}%" if pct is not None else "-", peak,
                     f"{r['cv_pct']:.1f}%" if r.get("cv_pct") is not None else "-",
                     r.get("verdict") or "ok"))
        # Against the expected figure where there is one, else against the hardware's peak.
        against, of = (pct, "expected") if pct is not None else (r.get("pct_peak"), "peak")
        if against is not None:
            vs_expected.append(Bar(r.get("label") or r.get("name", ""), float(against),
                                   f"{against:.0f}% of {of}", reference=100.0, flagged=flag))
        if str(r.get("name", "")).startswith("train-") and r.get("value"):
            train.append(Bar(str(r["name"]).removeprefix("train-"), float(r["value"]),
                             f"{sig(r['value'])} {r.get('unit', '')}",
                             reference=r.get("expected"), flagged=flag))
    charts = []
    if vs_expected:
        charts.append(Chart("bars", "bench-vs-expected", "Measured against expected: % of the "
                            "expected figure, or of the hardware's peak where none is expected",
                            bars=tuple(vs_expected), ref_label="100%"))
    if train:
        charts.append(Chart("bars", "bench-training", "Training speed, samples/s (log scale)",
                            bars=tuple(train), log=True, ref_label="expected"))
    tables = [Table(("figure", "measured", "expected", "% expected", "% peak", "CV", "verdict"),
                    tuple(rows), caption="Every figure of the run", numeric=(1, 2, 3, 4, 5))]
    skipped = run.get("skipped") or []
    if skipped:
        tables.append(Table(("not run", "why"), tuple((s.get("name", ""), s.get("reason", ""))
                                                       for s in skipped),
                            caption=f"What the run did not measure ({len(skipped)})",
                            folded=True))
    notes = ("CV: the spread of the timed calls (coefficient of variation); a figure marked "
             "noisy or too short is not trustworthy, and is hatched in the charts.",
             "Expected: what this hardware should reach (rigcheck's performance model); peak: the "
             "device's rated maximum for that operation. Each figure's source is in the saved "
             "run.")
    return Section("bench", title, True, lead=lead, tables=tuple(tables), charts=tuple(charts),
                   notes=notes)


# ---- estimates -------------------------------------------------------------------------------

def estimates_section(run: Mapping[str, Any] | None, estimates: Sequence[Mapping[str, Any]],
                      why: str = "") -> Section:
    """Time to train each target: measured here (bench's targets) and the model's estimates."""
    title = "Estimates: how long the targets take to train"
    rows, unknown = [], []
    noisy = {str(r.get("name", "")).removeprefix("train-"): _flag(r.get("verdict"))
             for r in (run or {}).get("results") or []}
    for t in (run or {}).get("targets") or []:
        if not t.get("samples_per_s"):
            unknown.append(t.get("recipe", "?"))
            continue
        flag = noisy.get(t.get("recipe", ""), "")
        source = t.get("source") or "-"
        if source == "measured" and t.get("measured_batch_size") and \
                t.get("measured_batch_size") != t.get("batch_size"):
            source = f"measured at batch {t['measured_batch_size']}"
        if flag:
            source += f" ({flag}: not trustworthy)"
        rows.append((t.get("recipe", ""), "this machine",
                     sig(t["samples_per_s"]) if t.get("samples_per_s") else "-",
                     human_duration(t.get("epoch_s")), human_duration(t.get("train_s")), source))
    for e in estimates:
        gpu = (e.get("gpu") or {}).get("name", "?")
        rows.append(((e.get("recipe") or {}).get("id", "?"), gpu,
                     sig(e["samples_per_s"]) if e.get("samples_per_s") else "-",
                     human_duration(e.get("epoch_s")), human_duration(e.get("train_s")),
                     "model" + ("" if e.get("fits", True) else " (does not fit)")))
    if not rows:
        return Section("estimates", title, False, lead=why or "no bench run and no estimate")
    notes = ["samples/s: training samples processed per second (forward, backward and "
             "optimizer step). model: rigcheck's calibrated performance model (rigcheck "
             "estimate), not a measurement."]
    if unknown:
        notes.append(f"Not timed by this bench run: {', '.join(unknown)} (the bench run's "
                     "skipped list says why; rigcheck bench --full times every recipe).")
    return Section("estimates", title, True,
                   lead="Each target recipe (rigcheck recipes lists them) on this machine: "
                        "measured by the latest bench run, and estimated for its GPU. The "
                        "recommended build's own figures are in its section.",
                   tables=(Table(("recipe", "on", "samples/s", "epoch", "to train", "from"),
                                 tuple(rows), numeric=(2, 3, 4)),),
                   notes=tuple(notes))


# ---- build -----------------------------------------------------------------------------------

def _speed(build: Mapping[str, Any]) -> float | None:
    """Trainings of the whole target mix per day: the recommender's objective."""
    s = build.get("total_train_s")
    return 86400.0 / s if s else None


def _gpu_name(build: Mapping[str, Any]) -> str:
    gpus = [p for p in build.get("parts") or [] if p.get("kind") == "gpu"]
    if not gpus:
        return "?"
    g = gpus[0]
    return (f"{g['count']} x " if g.get("count", 1) > 1 else "") + str(g.get("name", "?"))


def frontier_points(rec: Mapping[str, Any]) -> tuple[Point, ...]:
    """Builds as (price, speed). Uses the recommender's own ``frontier`` when it has one, else the
    ranked builds and the upgrade; a build is on the frontier when no cheaper one is faster."""
    cand: list[tuple[float, float, str, bool]] = []
    best = (rec.get("builds") or [None])[0] or {}
    pool = list(rec.get("frontier") or []) + list(rec.get("builds") or [])
    if rec.get("upgrade"):
        pool.append((rec["upgrade"] or {}).get("build") or {})

    def speed_of(b: Mapping[str, Any]) -> float | None:
        return b.get("speed") or b.get("runs_per_day") or _speed(b)

    pick = (best.get("total_inr"), speed_of(best)) if best else None
    for b in pool:
        speed = speed_of(b)
        if b.get("total_inr") and speed:
            cand.append((float(b["total_inr"]), float(speed), _gpu_name(b),
                         (b.get("total_inr"), speed) == pick))
    merged: dict[tuple[float, float], tuple[float, float, str, bool]] = {}
    for x, y, n, h in cand:   # the same build listed twice (frontier and ranked) is one point
        merged[(x, y)] = (x, y, n, h or merged.get((x, y), (0, 0, "", False))[3])
    cand = list(merged.values())
    out, fastest = [], 0.0
    for x, y, n, h in sorted(cand):
        on = y > fastest
        fastest = max(fastest, y)
        out.append(Point(x, y, n, highlight=h, on_frontier=on))
    return tuple(out)


def build_section(rec: Mapping[str, Any] | None, why: str = "") -> Section:
    title = "Recommended build"
    if not rec:
        return Section("build", title, False, lead=why or "no budget given (--budget)")
    builds = rec.get("builds") or []
    budget = rec.get("budget") or {}
    if not builds:
        cheapest = rec.get("cheapest_total_inr")
        return Section("build", title, False,
                       lead=f"No complete build fits {inr(budget.get('inr'))}"
                            + (f"; the cheapest costs {inr(cheapest)}" if cheapest else "") + ".")
    b = builds[0]
    rows = tuple((p.get("kind", ""), p.get("name", "") + (f" x {p['count']}" if p.get("count", 1) > 1 else ""),
                  ("≈" if p.get("price_kind") == "derived" else "") + inr(p.get("price_inr")),
                  str(p.get("price_date", "")), str(p.get("price_kind", "")))
                 for p in b.get("parts") or [])
    rows += (("", "Total", inr(b.get("total_inr")), "", ""),)
    breakdown = tuple(Bar(p.get("kind", ""), float(p.get("price_inr") or 0), inr(p.get("price_inr")))
                      for p in b.get("parts") or [])
    charts = [Chart("bars", "price-breakdown", f"Where the {inr(b.get('total_inr'))} goes",
                    bars=breakdown)]
    points = frontier_points(rec)
    if points:
        charts.append(Chart("scatter", "frontier", "Price against speed: the builds the "
                            "recommender ranked, and its upgrade (red: the recommendation)", points=points,
                            x_label="price of the build (INR)",
                            y_label="target mix trainings per day", x_money=True))
    targets = tuple((t.get("recipe", ""), "yes" if t.get("fits") else "no",
                     f"{sig(t.get('memory_gb') or 0)} GB", sig(t.get("samples_per_s") or 0),
                     human_duration(t.get("train_s"))) for t in b.get("targets") or [])
    tables = [Table(("part", "item", "price", "price seen", "kind"), rows, numeric=(2,),
                    caption=f"Budget {inr(budget.get('inr'))}; left {inr(b.get('left_inr'))}")]
    if targets:
        tables.append(Table(("recipe", "fits", "GPU memory", "samples/s", "to train"), targets,
                            numeric=(2, 3, 4), caption="The targets on this build (model)"))
    notes: tuple[str, ...] = (
             "≈ marks a rupee price derived from a USD price at the catalog's dated exchange rate, "
             "not a shop quote; every price has a date and a source (rigcheck catalog).",
             "Speed: how many times a day the build could train the whole target mix "
             "(86,400 s / the sum of the targets' training times), the recommender's objective.")
    system = b.get("complete_system")
    if system:  # a complete system (catalog/systems.csv): say so, and where its price came from
        cards = ("its cards are included in its price" if system["gpus_included"]
                 else "its cards are bought separately")
        notes += (f"{system['name']} is a complete system sold as one machine by "
                  f"{system['vendor']}; {cards}. Price: {system['price_source']}",)
    what = f"complete system {system['name']}" if system else "build"
    return Section("build", title, True,
                   lead=f"{_gpu_name(b)} {what} for {inr(b.get('total_inr'))}: "
                        f"{b.get('power_w', '?')} W sustained, {b.get('psu_w', '?')} W "
                        f"{'of power supplies' if system else 'PSU'}.",
                   tables=tuple(tables), charts=tuple(charts), notes=notes)


# ---- the whole report ------------------------------------------------------------------------

def build_report(*, facts: Mapping[str, Any] | None = None,
                 doctor: Mapping[str, Any] | None = None,
                 bench: Mapping[str, Any] | None = None,
                 estimates: Sequence[Mapping[str, Any]] = (),
                 recommend: Mapping[str, Any] | None = None,
                 missing: Mapping[str, str] | None = None,
                 generated_at: str = "", rigcheck_version: str = "",
                 redacted: bool = True) -> Report:
    why = dict(missing or {})
    sections = (
        doctor_section(doctor, why.get("doctor", "")),
        bench_section(bench, why.get("bench", "")),
        estimates_section(bench, estimates, why.get("estimates", "")),
        build_section(recommend, why.get("build", "")),
    )
    notes = ("Redacted: serials, UUIDs, host and user names replaced (--no-redact keeps them)."
             if redacted else "Not redacted: may contain serials, UUIDs, host and user names.",)
    return Report(title="rigcheck report", generated_at=generated_at,
                  rigcheck_version=rigcheck_version, redacted=redacted,
                  machine=machine_rows(facts), sections=sections, notes=notes)
