"""The GPU health checks' decisions at their boundaries (rigcheck/doctor/checks/gpu_health.py).

Each test calls one check as a pure function on hand-built facts (a healthy H100 box from
tests/doctor_factories.py, changed in the one thing the test is about) and pins the status and
the words a user acts on. Expectations are worked out by hand from the rules' sources:

* DCGM ``common/DcgmGPUHardwareLimits.h``: DCGM_LIMIT_MAX_RETIRED_PAGES 63 (fail when the total
  of retired pages is >= 63); DCGM_LIMIT_MAX_RETIRED_PAGES_SOFT_LIMIT 15, which DCGM's health
  watch applies to double-bit pages only and strictly ("dbeRetiredPage > SOFT_LIMIT", then a
  rate of more than one a week fails): rigcheck warns at 16 double-bit pages;
  any pending page retirement or row remap, or a failed remap, fails.
* NVIDIA "A100 GPU memory error management": row remapping replaces page retirement from
  Ampere (compute capability 8.0) on; 512 uncorrectable remaps is the end of the spare rows.
* NVML clock-event (throttle) reasons: HwSlowdown, HwThermalSlowdown, SwThermalSlowdown are heat
  or hardware; SwPowerCap is the power limit; HwPowerBrakeSlowdown the external power brake;
  GpuIdle is the idle state.
* The module's stated rules: warn within 5 degrees C of the slowdown temperature; a SW power cap
  below 70% of the limit points at power delivery; a power limit below 90% of the default is
  lowered; memory counts as held at >= 10% of the card and >= 1 GiB; a GPU is busy at >= 30%
  utilisation.
"""

from __future__ import annotations

from rigcheck.doctor.checks.gpu_health import (
    compute_mode,
    display,
    ecc_errors,
    ecc_mode_pending,
    lost,
    memory_in_use,
    mig,
    power_limit,
    power_throttle,
    retired_pages,
    row_remap,
    thermal,
)
from rigcheck.doctor.registry import Context
from rigcheck.facts import Facts, GpuProcess
from tests.doctor_factories import gpu, healthy

CTX = Context()
G0 = "GPU 0 (NVIDIA H100 80GB HBM3)"
G1 = "GPU 1 (NVIDIA H100 80GB HBM3)"


def _one(**kw) -> Facts:
    f = healthy(1)
    f.nvml.gpus = [gpu(0, **kw)]
    return f


def _two(kw0=None, kw1=None) -> Facts:
    f = healthy(2)
    f.nvml.gpus = [gpu(0, **(kw0 or {})), gpu(1, **(kw1 or {}))]
    return f


# --- gpu.lost ------------------------------------------------------------------------------

def test_lost_nvml_error_fails_before_anything_else():
    f = Facts()
    f.nvml.error = "NVML_ERROR_GPU_IS_LOST"
    got = lost(f, CTX)
    assert (got.status, got.summary) == (
        "fail", "NVML reports a GPU has fallen off the bus (NVML_ERROR_GPU_IS_LOST)")


def test_lost_one_of_two_is_named():
    f = _two(kw1={"lost": True})
    got = lost(f, CTX)
    assert (got.status, got.summary) == ("fail", f"1 of 2 GPUs lost: {G1}")


def test_lost_none_is_ok():
    got = lost(healthy(), CTX)
    assert (got.status, got.summary) == ("ok", "all 2 GPU(s) respond")


def test_lost_no_gpu_facts_skips():
    assert lost(Facts(), CTX).summary == "skipped: no GPU facts"


def test_lost_gpus_from_a_paste_without_nvml_are_still_judged():
    f = _two(kw1={"lost": True})
    f.nvml.available = False
    assert lost(f, CTX).status == "fail"
    f = healthy()
    f.nvml.available = False
    assert lost(f, CTX).summary == "all 2 GPU(s) respond"


# --- gpu.ecc_errors ------------------------------------------------------------------------

def test_ecc_one_volatile_error_fails_with_a_reset_of_that_gpu():
    f = _two(kw1={"ecc_uncorrected_volatile": 1})
    got = ecc_errors(f, CTX)
    assert (got.status, got.summary) == ("fail", f"volatile uncorrectable ECC errors: {G1}: 1")
    assert got.fix == "Drain the GPU and reset it or reboot: sudo nvidia-smi -i 1 -r"


def test_ecc_zero_volatile_zero_aggregate_is_ok():
    got = ecc_errors(healthy(), CTX)
    assert (got.status, got.summary) == ("ok", "no uncorrectable ECC errors")


def test_ecc_one_lifetime_error_warns():
    got = ecc_errors(_one(ecc_uncorrected_aggregate=1), CTX)
    assert (got.status, got.summary) == ("warn", f"past uncorrectable ECC errors (lifetime): {G0}: 1")


def test_ecc_lifetime_only_counters_are_enough_to_judge():
    f = _one(ecc_uncorrected_volatile=None, ecc_uncorrected_aggregate=3)
    assert ecc_errors(f, CTX).status == "warn"
    f = _one(ecc_uncorrected_volatile=None, ecc_uncorrected_aggregate=0)
    assert ecc_errors(f, CTX).status == "ok"


def test_ecc_volatile_only_counters_are_enough_to_judge():
    f = _one(ecc_uncorrected_volatile=2, ecc_uncorrected_aggregate=None)
    assert ecc_errors(f, CTX).status == "fail"


def test_ecc_lost_gpu_is_not_counted():
    f = _two(kw1={"lost": True, "ecc_uncorrected_volatile": 4})
    assert ecc_errors(f, CTX).status == "ok"


def test_ecc_not_reported_skips_with_the_nvml_reason():
    f = _one(ecc_uncorrected_volatile=None, ecc_uncorrected_aggregate=None,
             field_errors={"ecc_uncorrected_volatile": "NVML_ERROR_NOT_SUPPORTED"})
    assert ecc_errors(f, CTX).summary == \
        "skipped: ecc_uncorrected_volatile not available: NVML_ERROR_NOT_SUPPORTED"


# --- gpu.retired_pages ---------------------------------------------------------------------

def _pages(sbe, dbe, pending=False, **kw):
    return _one(name="Tesla V100-SXM2-32GB", compute_capability="7.0", retired_pages_sbe=sbe,
                retired_pages_dbe=dbe, retired_pages_pending=pending, **kw)


V0 = "GPU 0 (Tesla V100-SXM2-32GB)"


def test_retired_63_fails_62_is_ok_below_the_double_bit_soft_limit():
    got = retired_pages(_pages(50, 13), CTX)
    assert (got.status, got.summary) == ("fail", f"retired pages at DCGM's limit: {V0}: 63")
    got = retired_pages(_pages(50, 12), CTX)
    assert (got.status, got.summary) == ("ok", f"no pending page retirement; {V0}: 62 retired")


def test_double_bit_pages_16_warn_15_is_ok():
    got = retired_pages(_pages(0, 16), CTX)
    assert (got.status, got.summary) == ("warn", f"many double-bit retired pages: {V0}: 16")
    assert "more than one a week" in got.detail and "PAGE_RETIREMENT" in got.fix
    got = retired_pages(_pages(0, 15), CTX)
    assert (got.status, got.summary) == ("ok", f"no pending page retirement; {V0}: 15 retired")


def test_single_bit_pages_alone_never_reach_the_soft_limit():
    # 40 single-bit + 16 double-bit: the warning counts the double-bit pages only
    assert retired_pages(_pages(62, 0), CTX).status == "ok"
    got = retired_pages(_pages(40, 16), CTX)
    assert (got.status, got.summary) == ("warn", f"many double-bit retired pages: {V0}: 16")


def test_retired_counts_double_bit_pages_too():
    assert retired_pages(_pages(None, 63), CTX).status == "fail"
    assert retired_pages(_pages(None, 62), CTX).status == "warn"


def test_retired_pending_fails_with_a_reset():
    got = retired_pages(_pages(1, 0, pending=True), CTX)
    assert (got.status, got.summary) == ("fail", f"page retirement pending on {V0}")
    assert got.fix == "sudo nvidia-smi -i 0 -r   # or reboot"


def test_retired_none_is_ok_with_the_count_of_gpus():
    got = retired_pages(_pages(0, 0), CTX)
    assert (got.status, got.summary) == ("ok", "no pending page retirement, no retired pages on 1 GPU(s)")


def test_retired_only_counters_without_pending_are_judged():
    assert retired_pages(_pages(0, 20, pending=None), CTX).status == "warn"
    assert retired_pages(_pages(20, 0, pending=None), CTX).status == "ok"


def test_retired_lost_gpu_is_not_counted():
    f = _pages(0, 0)
    f.nvml.gpus.append(gpu(1, retired_pages_dbe=70, lost=True))
    assert retired_pages(f, CTX).status == "ok"


def test_retired_not_reported_on_ampere_and_newer_points_at_row_remap():
    got = retired_pages(healthy(), CTX)     # two H100 (9.0)
    assert got.summary == ("skipped: page retirement is replaced by row remapping on Ampere and newer "
                           "(see gpu.row_remap)")
    got = retired_pages(_one(compute_capability="8.0", name="NVIDIA A100-SXM4-80GB"), CTX)
    assert got.summary.startswith("skipped: page retirement is replaced")


def test_retired_not_reported_before_ampere_is_a_plain_skip():
    got = retired_pages(_one(compute_capability="7.5", name="Tesla T4"), CTX)
    assert got.summary == "skipped: retired_pages_pending not reported for any GPU"
    f = _two(kw1={"compute_capability": "7.0"})
    assert retired_pages(f, CTX).summary == "skipped: retired_pages_pending not reported for any GPU"
    assert retired_pages(_one(compute_capability=None), CTX).summary == \
        "skipped: retired_pages_pending not reported for any GPU"


# --- gpu.row_remap -------------------------------------------------------------------------

def test_remap_failure_fails_first():
    got = row_remap(_two(kw1={"remapped_rows_failure": True, "remapped_rows_pending": True}), CTX)
    assert (got.status, got.summary) == ("fail", f"row remapping failed on {G1}")


def test_remap_pending_fails_with_a_reset():
    got = row_remap(_two(kw1={"remapped_rows_pending": True}), CTX)
    assert (got.status, got.summary) == ("fail", f"row remap pending on {G1}")
    assert got.fix == "sudo nvidia-smi -i 1 -r   # or reboot"


def test_remap_512_uncorrectable_fails_511_is_ok():
    got = row_remap(_one(remapped_rows_uncorrectable=512), CTX)
    assert (got.status, got.summary) == ("fail", f"uncorrectable row remaps at DCGM's limit: {G0}: 512")
    got = row_remap(_one(remapped_rows_uncorrectable=511), CTX)
    assert (got.status, got.summary) == ("ok", "no pending or failed row remaps")


def test_remap_lost_gpu_is_not_judged():
    assert row_remap(_two(kw1={"lost": True, "remapped_rows_failure": True}), CTX).status == "ok"


def test_remap_not_reported_skips():
    got = row_remap(_one(remapped_rows_pending=None), CTX)
    assert got.summary == "skipped: remapped_rows_pending not reported for any GPU"


# --- gpu.ecc_mode_pending ------------------------------------------------------------------

def test_ecc_mode_flip_pending_warns_each_direction():
    got = ecc_mode_pending(_one(ecc_mode_current=True, ecc_mode_pending=False), CTX)
    assert (got.status, got.summary) == ("warn", f"ECC mode change waits for a reset on {G0}: on -> off")
    got = ecc_mode_pending(_one(ecc_mode_current=False, ecc_mode_pending=True), CTX)
    assert got.summary.endswith(": off -> on")


def test_ecc_mode_same_is_ok_and_lists_the_modes():
    got = ecc_mode_pending(healthy(), CTX)
    assert (got.status, got.summary) == ("ok", "ECC mode on")
    f = _two(kw1={"ecc_mode_current": False, "ecc_mode_pending": False})
    assert ecc_mode_pending(f, CTX).summary == "ECC mode off, on"


def test_ecc_mode_half_known_is_not_a_change():
    assert ecc_mode_pending(_one(ecc_mode_current=None, ecc_mode_pending=False), CTX).status == "ok"
    f = _two(kw1={"ecc_mode_pending": None, "ecc_mode_current": False})
    assert ecc_mode_pending(f, CTX).status == "ok"


def test_ecc_mode_not_reported_skips():
    got = ecc_mode_pending(_one(ecc_mode_pending=None), CTX)
    assert got.summary == "skipped: ecc_mode_pending not reported for any GPU"


# --- gpu.thermal ---------------------------------------------------------------------------

def test_thermal_each_heat_reason_fails():
    for reason in ("HwThermalSlowdown", "SwThermalSlowdown", "HwSlowdown"):
        got = thermal(_one(throttle_reasons=[reason], temperature_c=92.0), CTX)
        assert (got.status, got.summary) == ("fail", f"clocks cut for heat/hardware: {G0}: {reason} at 92.0 °C")


def test_thermal_reasons_are_joined_and_a_missing_temperature_is_a_question_mark():
    got = thermal(_one(throttle_reasons=["SwPowerCap", "HwSlowdown", "HwThermalSlowdown"],
                       temperature_c=None), CTX)
    assert got.summary == f"clocks cut for heat/hardware: {G0}: HwSlowdown+HwThermalSlowdown at ? °C"


def test_thermal_power_cap_is_not_heat():
    assert thermal(_one(throttle_reasons=["SwPowerCap"], temperature_c=60.0), CTX).status == "ok"


def test_thermal_5_degrees_below_slowdown_warns_just_below_that_is_ok():
    got = thermal(_one(temperature_c=85.0, temperature_slowdown_c=90.0), CTX)
    assert (got.status, got.summary) == ("warn", f"near the slowdown temperature: {G0}: 85 °C (slowdown at 90 °C)")
    got = thermal(_one(temperature_c=84.9, temperature_slowdown_c=90.0), CTX)
    assert (got.status, got.summary) == ("ok", "no thermal slowdown (hottest GPU 85 °C)")


def test_thermal_ok_names_the_hottest():
    f = _two(kw0={"temperature_c": 41.0}, kw1={"temperature_c": 57.0})
    assert thermal(f, CTX).summary == "no thermal slowdown (hottest GPU 57 °C)"


def test_thermal_no_slowdown_temperature_no_warning():
    assert thermal(_one(temperature_c=95.0, temperature_slowdown_c=None), CTX).status == "ok"


def test_thermal_reasons_without_temperatures_are_judged():
    got = thermal(_one(throttle_reasons=["GpuIdle"], temperature_c=None), CTX)
    assert (got.status, got.summary) == ("ok", "no thermal slowdown")


def test_thermal_temperatures_without_reasons_are_judged():
    assert thermal(_one(throttle_reasons=None, temperature_c=88.0), CTX).status == "warn"


def test_thermal_nothing_reported_skips():
    got = thermal(_one(throttle_reasons=None, temperature_c=None), CTX)
    assert got.summary == "skipped: throttle_reasons not reported for any GPU"


# --- gpu.power_throttle --------------------------------------------------------------------

def test_power_brake_fails():
    got = power_throttle(_one(throttle_reasons=["HwPowerBrakeSlowdown"]), CTX)
    assert (got.status, got.summary) == ("fail", f"hardware power brake active on {G0}")


def test_power_cap_below_70_percent_warns_at_70_it_does_not():
    # 70% of 700 W is 490 W.
    got = power_throttle(_one(throttle_reasons=["SwPowerCap"], power_draw_w=489.0), CTX)
    assert (got.status, got.summary) == ("warn", f"power-capped far below the limit: {G0}: 489 W of 700 W")
    got = power_throttle(_one(throttle_reasons=["SwPowerCap"], power_draw_w=490.0), CTX)
    assert (got.status, got.summary) == ("ok", "no power capping")


def test_power_cap_under_load_is_normal():
    got = power_throttle(_one(throttle_reasons=["SwPowerCap"], power_draw_w=700.0,
                              utilization_gpu_pct=30.0), CTX)
    assert (got.status, got.summary) == ("ok", f"at the power limit under load (normal for a busy GPU): {G0}")
    got = power_throttle(_one(throttle_reasons=["SwPowerCap"], power_draw_w=700.0,
                              utilization_gpu_pct=29.0), CTX)
    assert got.summary == "no power capping"


def test_power_cap_busy_but_idle_reason_is_idle():
    got = power_throttle(_one(throttle_reasons=["SwPowerCap", "GpuIdle"], power_draw_w=700.0,
                              utilization_gpu_pct=90.0), CTX)
    assert got.summary == "no power capping"


def test_power_cap_unknown_draw_is_not_low():
    got = power_throttle(_one(throttle_reasons=["SwPowerCap"], power_draw_w=None), CTX)
    assert got.summary == "no power capping"


def test_power_throttle_not_reported_skips():
    assert power_throttle(_one(throttle_reasons=None), CTX).summary == \
        "skipped: throttle_reasons not reported for any GPU"


# --- gpu.power_limit -----------------------------------------------------------------------

def test_power_limit_below_90_percent_warns_at_90_it_does_not():
    # 90% of the 700 W default is 630 W.
    got = power_limit(_one(power_limit_w=629.0), CTX)
    assert (got.status, got.summary) == ("warn", f"power limit lowered: {G0}: 629 W of default 700 W")
    assert got.fix == "sudo nvidia-smi -i 0 -pl 700"
    got = power_limit(_one(power_limit_w=630.0), CTX)
    assert (got.status, got.summary) == ("ok", "power limits at default (630 W)")


def test_power_limit_lists_each_limit_once():
    f = _two(kw1={"power_limit_w": 650.0})
    assert power_limit(f, CTX).summary == "power limits at default (650 W, 700 W)"


def test_power_limit_without_a_default_is_not_lowered():
    assert power_limit(_one(power_limit_w=100.0, power_default_limit_w=None), CTX).status == "ok"


def test_power_limit_not_reported_skips():
    assert power_limit(_one(power_limit_w=None), CTX).summary == "skipped: power_limit_w not reported for any GPU"


# --- gpu.memory_in_use ---------------------------------------------------------------------

def test_memory_10_percent_of_the_card_is_held_just_under_is_free():
    # 10% of 81559 MiB is 8155.9 MiB.
    got = memory_in_use(_one(memory_used_mib=8156.0), CTX)
    assert (got.status, got.summary) == (
        "warn", f"GPU memory held while the GPU is idle: {G0}: 8.0 GiB of 79.6 GiB used")
    got = memory_in_use(_one(memory_used_mib=8155.0), CTX)
    assert (got.status, got.summary) == ("ok", "GPU memory free (under 10% or 1 GiB used)")


def test_memory_1_gib_on_a_small_card_is_held_just_under_is_free():
    # An 8 GiB card: 10% is 819.2 MiB, so the 1 GiB floor decides.
    got = memory_in_use(_one(memory_total_mib=8192.0, memory_used_mib=1024.0), CTX)
    assert got.status == "warn"
    got = memory_in_use(_one(memory_total_mib=8192.0, memory_used_mib=1023.0), CTX)
    assert got.status == "ok"


def test_memory_names_up_to_three_compute_processes():
    procs = [GpuProcess(10 + i, "python", 2048.0) for i in range(4)]
    procs.insert(0, GpuProcess(5, "Xorg", 512.0, kind="graphics"))
    got = memory_in_use(_one(memory_used_mib=9000.0, processes=procs), CTX)
    assert got.summary == (f"GPU memory held while the GPU is idle: {G0}: 8.8 GiB of 79.6 GiB used by "
                           "pid 10 python 2.0 GiB, pid 11 python 2.0 GiB, pid 12 python 2.0 GiB")


def test_memory_process_without_a_name():
    got = memory_in_use(_one(memory_used_mib=9000.0, processes=[GpuProcess(7, None, 8192.0)]), CTX)
    assert got.summary.endswith("used by pid 7 8.0 GiB")


def test_memory_on_a_busy_gpu_is_a_running_job():
    got = memory_in_use(_one(memory_used_mib=60000.0, utilization_gpu_pct=95.0, throttle_reasons=[]), CTX)
    assert (got.status, got.summary) == ("ok", f"in use by a running job: {G0}: 58.6 GiB of 79.6 GiB used")


def test_memory_idle_beats_busy():
    f = _two(kw0={"memory_used_mib": 60000.0, "utilization_gpu_pct": 95.0, "throttle_reasons": []},
             kw1={"memory_used_mib": 60000.0})
    got = memory_in_use(f, CTX)
    assert (got.status, got.summary) == ("warn", f"GPU memory held while the GPU is idle: {G1}: 58.6 GiB of 79.6 GiB used")


def test_memory_unknown_total_is_not_judged():
    assert memory_in_use(_one(memory_used_mib=60000.0, memory_total_mib=None), CTX).status == "ok"


def test_memory_not_reported_skips():
    assert memory_in_use(_one(memory_used_mib=None), CTX).summary == \
        "skipped: memory_used_mib not reported for any GPU"


# --- gpu.compute_mode ----------------------------------------------------------------------

def test_compute_mode_prohibited_fails():
    got = compute_mode(_one(compute_mode="Prohibited"), CTX)
    assert (got.status, got.summary) == ("fail", f"GPU not usable by a new process: {G0}: Prohibited")
    assert got.fix == "sudo nvidia-smi -i 0 -c DEFAULT   # or pick a free GPU"


def test_compute_mode_exclusive_with_a_compute_process_fails():
    got = compute_mode(_one(compute_mode="Exclusive_Process", processes=[GpuProcess(9, "python")]), CTX)
    assert (got.status, got.summary) == (
        "fail", f"GPU not usable by a new process: {G0}: Exclusive_Process with a process on it")


def test_compute_mode_exclusive_free_or_with_graphics_only_warns():
    got = compute_mode(_one(compute_mode="Exclusive_Process"), CTX)
    assert (got.status, got.summary) == ("warn", f"exclusive-process mode on {G0}")
    assert got.fix == "sudo nvidia-smi -i 0 -c DEFAULT"
    got = compute_mode(_one(compute_mode="Exclusive_Process",
                            processes=[GpuProcess(5, "Xorg", kind="graphics")]), CTX)
    assert got.status == "warn"


def test_compute_mode_default_is_ok():
    got = compute_mode(healthy(), CTX)
    assert (got.status, got.summary) == ("ok", "compute mode Default")


def test_compute_mode_lost_gpu_is_not_judged():
    assert compute_mode(_two(kw1={"lost": True, "compute_mode": "Prohibited"}), CTX).status == "ok"


def test_compute_mode_not_reported_skips():
    assert compute_mode(_one(compute_mode=None), CTX).summary == "skipped: compute_mode not reported for any GPU"


# --- gpu.mig -------------------------------------------------------------------------------

def test_mig_pending_change_warns_first():
    got = mig(_one(mig_mode_current=True, mig_mode_pending=False), CTX)
    assert (got.status, got.summary) == ("warn", f"MIG mode change pending on {G0}")


def test_mig_on_warns_with_the_disable_command():
    got = mig(_two(kw1={"mig_mode_current": True, "mig_mode_pending": True}), CTX)
    assert (got.status, got.summary) == ("warn", f"MIG enabled on {G1}")
    assert got.fix.endswith("sudo nvidia-smi -i 1 -mig 0 && sudo nvidia-smi -r")


def test_mig_pending_unknown_is_not_a_change():
    got = mig(_one(mig_mode_current=False, mig_mode_pending=None), CTX)
    assert (got.status, got.summary) == ("ok", "MIG off")


def test_mig_off_is_ok():
    assert mig(healthy(), CTX).summary == "MIG off"


def test_mig_not_reported_skips():
    got = mig(_one(mig_mode_current=None, mig_mode_pending=None), CTX)
    assert got.summary == "skipped: mig_mode_current not reported for any GPU"


# --- gpu.display ---------------------------------------------------------------------------

def test_display_on_one_of_two_warns():
    got = display(_two(kw0={"display_active": True}), CTX)
    assert (got.status, got.summary) == ("warn", f"a display or graphics processes on {G0}")


def test_display_graphics_process_counts_compute_does_not():
    f = _two(kw1={"processes": [GpuProcess(5, "Xorg", kind="graphics")]})
    assert display(f, CTX).summary == f"a display or graphics processes on {G1}"
    f = _two(kw1={"processes": [GpuProcess(5, "python")]})
    assert display(f, CTX).summary == "no display or graphics processes on the GPUs"


def test_display_on_a_single_gpu_is_expected():
    got = display(_one(display_active=True), CTX)
    assert (got.status, got.summary) == (
        "ok", f"{G0} also drives the display (expected on a single-GPU desktop; it costs some memory)")


def test_display_a_lost_second_gpu_leaves_a_single_gpu():
    got = display(_two(kw0={"display_active": True}, kw1={"lost": True}), CTX)
    assert got.status == "ok"


def test_display_state_unknown_skips():
    f = _one(display_active=None, processes=None)
    assert display(f, CTX).summary == "skipped: display state not reported"
    f.not_collected = {"display_active": "not in a collect_env paste"}
    assert display(f, CTX).summary == "skipped: not in a collect_env paste"


def test_display_processes_alone_are_enough_to_judge():
    assert display(_one(display_active=None, processes=[]), CTX).summary == \
        "no display or graphics processes on the GPUs"


def test_display_no_gpu_facts_skips():
    assert display(Facts(), CTX).summary == "skipped: no GPU facts"


# --- edges read off the code's conditions --------------------------------------------------

def test_retired_all_gpus_lost_is_a_plain_skip_not_the_ampere_one():
    f = _two(kw0={"lost": True}, kw1={"lost": True})
    assert retired_pages(f, CTX).summary == "skipped: retired_pages_pending not reported for any GPU"


def test_power_cap_unknown_limit_is_not_low():
    got = power_throttle(_one(throttle_reasons=["SwPowerCap"], power_draw_w=100.0, power_limit_w=None), CTX)
    assert got.summary == "no power capping"


def test_mig_pending_with_unknown_current_is_not_a_change():
    f = _two(kw0={"mig_mode_current": None, "mig_mode_pending": True})
    assert mig(f, CTX).summary == "MIG off"


def test_retired_pending_reported_without_dbe_counter_is_judged():
    # pending is reported, the double-bit counter is not: judge the counts that are there
    # (20 single-bit pages: under the total limit of 63, and no double-bit count to warn on;
    # 63 single-bit pages reach the total limit)
    assert retired_pages(_pages(20, None), CTX).summary == (
        f"no pending page retirement; {V0}: 20 retired")
    assert retired_pages(_pages(63, None), CTX).status == "fail"


def test_remap_unknown_uncorrectable_count_is_not_a_failure():
    got = row_remap(_one(remapped_rows_uncorrectable=None), CTX)
    assert (got.status, got.summary) == ("ok", "no pending or failed row remaps")


def test_power_cap_exactly_70_percent_is_not_low():
    # 70% of 1000 W is exactly 700 W: at it is not "below", 1 W under is.
    got = power_throttle(_one(throttle_reasons=["SwPowerCap"], power_draw_w=700.0, power_limit_w=1000.0), CTX)
    assert got.summary == "no power capping"
    got = power_throttle(_one(throttle_reasons=["SwPowerCap"], power_draw_w=699.0, power_limit_w=1000.0), CTX)
    assert got.status == "warn"


def test_power_checks_with_one_gpu_not_reporting():
    f = _two(kw0={"throttle_reasons": None, "power_limit_w": None},
             kw1={"throttle_reasons": ["SwPowerCap"], "power_draw_w": 600.0})
    assert power_throttle(f, CTX).summary == "no power capping"
    assert power_limit(f, CTX).summary == "power limits at default (700 W)"


def test_power_limit_zero_is_not_listed():
    assert power_limit(_one(power_limit_w=0.0), CTX).summary == "power limits at default"


def test_memory_exactly_10_percent_is_held():
    # 10% of 20480 MiB is exactly 2048 MiB (over the 1 GiB floor): at the line counts as held.
    assert memory_in_use(_one(memory_total_mib=20480.0, memory_used_mib=2048.0), CTX).status == "warn"


def test_memory_one_gpu_not_reporting_is_skipped_not_a_crash():
    f = _two(kw0={"memory_used_mib": None}, kw1={"memory_used_mib": 60000.0})
    assert memory_in_use(f, CTX).summary == f"GPU memory held while the GPU is idle: {G1}: 58.6 GiB of 79.6 GiB used"


def test_compute_mode_one_gpu_not_reporting_and_unknown_processes():
    f = _two(kw0={"compute_mode": None}, kw1={"compute_mode": "Exclusive_Process", "processes": None})
    assert compute_mode(f, CTX).summary == f"exclusive-process mode on {G1}"


def test_display_active_with_processes_unknown_is_judged():
    got = display(_one(display_active=True, processes=None), CTX)
    assert got.summary.startswith(f"{G0} also drives the display")
