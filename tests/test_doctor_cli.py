"""``rigcheck doctor`` through typer's CliRunner: exit codes 0/1/2, JSON shape, rendering, crashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rigcheck.doctor import all_checks, registry
from rigcheck.doctor.findings import Outcome
from rigcheck.facts import to_json
from rigcheck.ui.app import app
from tests.doctor_factories import cpu_box, healthy

FIX = Path(__file__).parent / "fixtures"
runner = CliRunner()


def _write(tmp_path: Path, facts, name: str = "f.json") -> Path:
    p = tmp_path / name
    p.write_text(to_json(facts), encoding="utf-8")
    return p


def test_healthy_facts_exit_0_and_say_no_issues(tmp_path):
    r = runner.invoke(app, ["doctor", "--facts", str(_write(tmp_path, healthy()))])
    assert r.exit_code == 0, r.output
    assert "No issues found!" in r.output
    assert "[✓] NVIDIA driver" in r.output


def test_failure_exits_1_and_shows_summary_detail_fix(tmp_path):
    f = healthy()
    f.driver.modules["nouveau"] = True
    r = runner.invoke(app, ["doctor", "--facts", str(_write(tmp_path, f))])
    assert r.exit_code == 1
    assert "[✗] NVIDIA driver" in r.output
    assert "nouveau is loaded" in r.output or "nouveau driver is loaded" in r.output
    assert "fix: printf 'blacklist nouveau" in r.output
    assert "Doctor found issues in 1 category." in r.output


def test_warning_only_exits_0(tmp_path):
    f = healthy()
    f.host.swap_total_gb = 0.0
    r = runner.invoke(app, ["doctor", "--facts", str(_write(tmp_path, f))])
    assert r.exit_code == 0 and "[!] System resources" in r.output


def test_json_lists_every_check_with_stable_keys(tmp_path):
    r = runner.invoke(app, ["doctor", "--facts", str(_write(tmp_path, cpu_box())), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["schema"] == 1
    ids = [f["id"] for f in data["findings"]]
    assert ids == [c.id for c in all_checks()]
    for f in data["findings"]:
        assert {"id", "category", "status", "summary", "detail", "fix"} <= set(f)
        assert f["status"] in ("ok", "warn", "fail", "skip", "crash")
    assert data["summary"]["checks"] == len(ids) and data["summary"]["failed"] is False
    assert data["facts_origin"]["origin"] == "probe"
    skipped = [f for f in data["findings"] if f["status"] == "skip"]
    assert all(f["summary"].startswith("skipped: ") for f in skipped)


def test_verbose_shows_every_check_including_skips(tmp_path):
    r = runner.invoke(app, ["doctor", "--facts", str(_write(tmp_path, cpu_box())), "-v"])
    assert r.exit_code == 0
    for c in all_checks():
        assert c.id in r.output
    assert "skipped: no GPU facts: NVML_ERROR_LIBRARY_NOT_FOUND" in r.output


@pytest.mark.parametrize("content,words", [
    ('{"schema_version": 1, "nvml": {"available": tr', "truncated"),
    ("", "empty"),
    ("hello world, not a facts file", "not a rigcheck facts file"),
])
def test_unreadable_facts_exit_2_one_line(tmp_path, content, words):
    p = tmp_path / "bad.json"
    p.write_text(content, encoding="utf-8")
    r = runner.invoke(app, ["doctor", "--facts", str(p)])
    assert r.exit_code == 2
    assert "Traceback" not in r.output
    assert words in r.output and str(p) in r.output


def test_missing_file_exit_2(tmp_path):
    r = runner.invoke(app, ["doctor", "--facts", str(tmp_path / "nope.json")])
    assert r.exit_code == 2 and "Traceback" not in r.output and "nope.json" in r.output


def test_unknown_target_exit_2(tmp_path):
    r = runner.invoke(app, ["doctor", "--facts", str(_write(tmp_path, healthy())),
                            "--target", "no-such-recipe"])
    assert r.exit_code == 2 and "no-such-recipe" in r.output


def test_unknown_option_exit_2():
    assert runner.invoke(app, ["doctor", "--frobnicate"]).exit_code == 2


@pytest.mark.parametrize("name,code", [("h100_sxm_8x", 0), ("memory_errors", 1), ("rtx4090_pcie_x4_load", 1),
                                       ("this_machine_cpu_only", 0), ("laptop_no_driver", 1)])
def test_recorded_probe_fixtures(name, code):
    r = runner.invoke(app, ["doctor", "--facts", str(FIX / "facts" / f"{name}.json")])
    assert r.exit_code == code, r.output


def test_collect_env_paste_is_diagnosed():
    r = runner.invoke(app, ["doctor", "--json", "--facts",
                            str(FIX / "pastes" / "ce_cpu_only_2x3090_pt211.txt")])
    data = json.loads(r.stdout)
    by = {f["id"]: f for f in data["findings"]}
    assert r.exit_code == 1 and by["torch.cpu_only_on_gpu"]["status"] == "fail"
    assert data["facts_origin"]["origin"] == "collect_env"


def test_a_crashing_check_is_shown_and_the_rest_run(tmp_path, monkeypatch):
    def boom(facts, ctx) -> Outcome:
        raise KeyError("no such field")

    registry.all_checks()  # importing the check modules fills the registry
    chk = registry._REGISTRY["sys.swap"]
    monkeypatch.setitem(registry._REGISTRY, "sys.swap", registry.Check(chk.id, chk.category, chk.title, boom))
    r = runner.invoke(app, ["doctor", "--facts", str(_write(tmp_path, healthy())), "--json"])
    data = json.loads(r.stdout)
    by = {f["id"]: f for f in data["findings"]}
    assert by["sys.swap"]["status"] == "crash" and "KeyError" in by["sys.swap"]["summary"]
    assert by["sys.ram_vs_gpu"]["status"] == "ok" and len(by) == len(all_checks())
    assert r.exit_code == 1
    r2 = runner.invoke(app, ["doctor", "--facts", str(_write(tmp_path, healthy()))])
    assert "[☠] System resources" in r2.output


def test_deep_on_a_facts_file_is_skipped(tmp_path):
    r = runner.invoke(app, ["doctor", "--facts", str(_write(tmp_path, cpu_box())), "--deep", "--json"])
    by = {f["id"]: f for f in json.loads(r.stdout)["findings"]}
    assert by["deep.all"]["status"] == "skip"


@pytest.mark.slow
def test_doctor_on_this_machine_is_readable_and_has_no_false_failures():
    r = runner.invoke(app, ["doctor", "--json"])
    assert "Traceback" not in r.output
    data = json.loads(r.stdout)
    bad = [f for f in data["findings"] if f["status"] in ("fail", "crash")]
    # This build machine has no GPU and a CPU-only torch: nothing may fail.
    import shutil
    if shutil.which("nvidia-smi") is None:
        assert not bad, bad
        by = {f["id"]: f for f in data["findings"]}
        assert by["gpu.ecc_errors"]["status"] == "skip"
    assert r.exit_code in (0, 1)


def test_without_torch_installed(tmp_path):
    from rigcheck.facts import TorchFacts

    f = cpu_box()
    f.torch = TorchFacts(installed=False)
    r = runner.invoke(app, ["doctor", "--facts", str(_write(tmp_path, f)), "--json"])
    by = {x["id"]: x for x in json.loads(r.stdout)["findings"]}
    assert r.exit_code == 0
    assert by["torch.installed"]["status"] == "warn" and "pip install" in by["torch.installed"]["fix"]
    assert by["libs.numpy"]["status"] == "skip"


def test_targets_with_the_performance_model():
    r = runner.invoke(app, ["doctor", "--json", "--facts", str(FIX / "facts" / "rtx3060_consumer.json"),
                            "--target", "resnet50-imagenet", "--target", "lenet5-mnist"])
    by = {f["id"]: f for f in json.loads(r.stdout)["findings"]}
    assert json.loads(r.stdout)["targets"] == ["resnet50-imagenet", "lenet5-mnist"]
    assert "RTX 3060 (12 GB)" in by["ready.recipe_fit"]["summary"]
    assert "lenet5-mnist: ~" in by["ready.recipe_time"]["summary"]


def test_target_gpu_outside_catalog_uses_the_spec_database(tmp_path):
    # H100 SXM5 is not in the buying catalog: the GPU spec database answers (issue 10).
    r = runner.invoke(app, ["doctor", "--json", "--facts", str(FIX / "facts" / "h100_sxm_8x.json"),
                            "--target", "resnet50-imagenet"])
    by = {f["id"]: f for f in json.loads(r.stdout)["findings"]}
    assert by["ready.recipe_fit"]["status"] == "ok"
    assert by["ready.recipe_time"]["status"] == "ok"
    assert "samples/s on 8 GPUs" in by["ready.recipe_time"]["summary"]
    # a GPU neither table knows still says so
    data = json.loads((FIX / "facts" / "h100_sxm_8x.json").read_text())
    for g in data["nvml"]["gpus"]:
        g["name"] = "NVIDIA Mystery 9000"
    odd = tmp_path / "mystery.json"
    odd.write_text(json.dumps(data))
    r = runner.invoke(app, ["doctor", "--json", "--facts", str(odd), "--target", "resnet50-imagenet"])
    by = {f["id"]: f for f in json.loads(r.stdout)["findings"]}
    assert by["ready.recipe_time"]["status"] == "skip"
    assert "not in the GPU spec database" in by["ready.recipe_time"]["summary"]


