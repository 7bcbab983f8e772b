"""``rigcheck estimate`` through typer's CliRunner, on the bundled catalog and a temporary
recipe folder (so the tests do not depend on which recipes are bundled)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rigcheck.ui.app import app
from rigcheck.ui.estimate_cmd import human_duration

RESNET50 = """
name = "ResNet-50 on ImageNet-1k"
model = "resnet50"
family = "cnn"
input_shape = [3, 224, 224]
batch_size = 224
precision = "fp32"
optimizer = "sgd-momentum"
dataset = "ImageNet-1k"
dataset_samples = 1281167
bytes_per_sample = 110000
epochs = 90
params = 25557032
trainable_params = 25557032
fwd_flops_per_sample = 8.18e9
train_flops_per_sample = 24.3e9
activation_bytes_per_sample = 86.3e6
"""

runner = CliRunner()


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data folder: the user's own bench history must not change these tests."""
    folder = tmp_path / "data"
    monkeypatch.setenv("RIGCHECK_DATA_DIR", str(folder))
    return folder


@pytest.fixture()
def recipes(tmp_path: Path) -> Path:
    folder = tmp_path / "recipes"
    folder.mkdir()
    (folder / "resnet50-imagenet.toml").write_text(RESNET50, encoding="utf-8")
    return folder


def run(*args: str):
    return runner.invoke(app, ["estimate", *args])


def test_json_has_the_documented_keys_and_matches_the_published_3090_figure(recipes):
    res = run("--gpu", "RTX 3090", "--target", "resnet50-imagenet", "--recipes", str(recipes), "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    for key in ("samples_per_s", "step_s", "memory_gb", "fits", "epoch_s", "train_s", "gpu",
                "recipe", "precision", "batch_size", "n_gpus", "max_batch_that_fits", "model"):
        assert key in data
    assert data["gpu"]["id"] == "rtx-3090"
    assert data["recipe"]["id"] == "resnet50-imagenet"
    assert data["precision"] == "fp32 (TF32 convs)"
    assert data["batch_size"] == 224 and data["n_gpus"] == 1 and data["fits"] is True
    # Lambda's RTX 3090 ResNet-50 fp32 runs at batch 224: 471 img/s (PyTorch 1.7), 513 (1.13).
    assert 0.8 * 471 <= data["samples_per_s"] <= 1.2 * 513
    assert data["epoch_s"] == pytest.approx(1281167 / data["samples_per_s"])
    assert data["train_s"] == pytest.approx(90 * data["epoch_s"])


def test_human_output_names_gpu_precision_times_and_source(recipes):
    res = run("--gpu", "3090", "--target", "resnet50-imagenet", "--recipes", str(recipes))
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "rtx-3090" in out and "fp32 (TF32 convs)" in out
    assert "samples/s" in out and "days" in out and "fits" in out
    assert "calibration.csv" in out and "936.2 GB/s" in out


def test_batch_that_does_not_fit_names_the_largest_that_does(recipes):
    res = run("--gpu", "rtx 3090", "--target", "resnet50-imagenet", "--recipes", str(recipes),
              "--batch", "1024", "--json")
    data = json.loads(res.stdout)
    assert res.exit_code == 0
    assert data["fits"] is False
    assert 0 < data["max_batch_that_fits"] < 1024
    assert any("largest batch that fits" in n for n in data["notes"])


def test_multi_gpu_reports_scaling(recipes):
    res = run("--gpu", "4090", "--target", "resnet50-imagenet", "--recipes", str(recipes),
              "--precision", "amp", "--gpus", "4", "--json")
    data = json.loads(res.stdout)
    one = json.loads(run("--gpu", "4090", "--target", "resnet50-imagenet", "--recipes",
                         str(recipes), "--precision", "amp", "--json").stdout)
    assert data["n_gpus"] == 4 and 0.5 < data["scaling_efficiency"] < 1.0
    assert data["samples_per_s"] == pytest.approx(4 * one["samples_per_s"] * data["scaling_efficiency"])
    human = run("--gpu", "4090", "--target", "resnet50-imagenet", "--recipes", str(recipes),
                "--gpus", "2", "--nodes", "2")
    assert human.exit_code == 0 and "efficiency over 4 GPUs" in human.stdout


def test_ambiguous_gpu_lists_candidates_and_exits_2(recipes):
    res = run("--gpu", "A100", "--target", "resnet50-imagenet", "--recipes", str(recipes))
    assert res.exit_code == 2
    assert "ambiguous" in res.output and res.output.count("a100-") >= 2
    assert "Traceback" not in res.output


def test_unknown_gpu_and_recipe_exit_2(recipes):
    res = run("--gpu", "Voodoo 5", "--target", "resnet50-imagenet", "--recipes", str(recipes))
    assert res.exit_code == 2 and "no GPU matches" in res.output
    res = run("--gpu", "4090", "--target", "gpt-17", "--recipes", str(recipes))
    assert res.exit_code == 2 and "resnet50-imagenet" in res.output


@pytest.mark.parametrize("args, text", [
    (["--precision", "int4"], "--precision"),
    (["--batch", "0"], "--batch"),
    (["--gpus", "0"], "--gpus"),
    (["--gpus", "2", "--interconnect", "smoke-signals"], "--interconnect"),
])
def test_bad_options_exit_2_with_one_line(recipes, args, text):
    res = run("--gpu", "4090", "--target", "resnet50-imagenet", "--recipes", str(recipes), *args)
    assert res.exit_code == 2
    assert text in res.output and "Traceback" not in res.output


def test_bf16_on_a_pre_ampere_card_says_so(recipes):
    res = run("--gpu", "V100 PCIe", "--target", "resnet50-imagenet", "--recipes", str(recipes),
              "--precision", "bf16", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert "fp16" in data["precision"] and data["precision_requested"] == "bf16"
    assert any("bf16 needs" in n for n in data["notes"])


@pytest.mark.parametrize("seconds, text", [
    (5, "5 s"), (45, "45 s"), (600, "10.0 min"), (51120, "14.2 h"), (267840, "3.1 days"),
])
def test_human_duration(seconds, text):
    assert human_duration(seconds) == text


def test_catalog_overlay_adds_a_gpu(recipes, tmp_path):
    fixture = Path(__file__).parent / "fixtures" / "catalog_small" / "gpus.csv"
    header, row = fixture.read_text(encoding="utf-8").splitlines()[:2]
    assert row.startswith("rtx-3060-12gb,")
    shop = tmp_path / "shop"
    shop.mkdir()
    (shop / "gpus.csv").write_text(
        header + "\n" + row.replace("rtx-3060-12gb,GeForce RTX 3060 12 GB", "lab-card,Lab Card 12 GB", 1) + "\n",
        encoding="utf-8")
    res = run("--gpu", "lab card", "--target", "resnet50-imagenet", "--recipes", str(recipes),
              "--catalog", str(shop), "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["gpu"]["id"] == "lab-card" and data["gpu"]["vram_gb"] == 12
    assert data["fits"] is False   # ResNet-50 fp32 at batch 224 needs ~21 GB


# --- refinement by saved bench runs -------------------------------------------------------------

def _train(name: str, value: float, expected: float, verdict: str = "ok", batch: int = 224):
    from rigcheck.runs.results import Figure
    return Figure(name=name, value=value, unit="samples/s", expected=expected, verdict=verdict,
                  params={"batch_size": batch, "recipe_batch_size": 224, "precision": "fp32"})


def _save(data_dir: Path, figures, gpus=("NVIDIA GeForce RTX 4090",), device="cuda:0",
          at="2026-11-20T10:01:02+00:00") -> Path:
    """A run saved the way rigcheck bench saves it (JSON + SQLite under the data folder)."""
    from rigcheck.runs.history import save_run
    from rigcheck.runs.results import BenchRun, Machine
    run_ = BenchRun(machine=Machine(fingerprint="abc123", gpus=list(gpus), device=device),
                    mode="full", started_at=at, results=list(figures))
    path, problem = save_run(run_, base=data_dir)
    assert problem is None
    return path


def _4090(recipes, *extra):
    return run("--gpu", "4090", "--target", "resnet50-imagenet", "--recipes", str(recipes), *extra)


def _model_rate(recipes, gpu="4090") -> float:
    """Today's model's samples/s for the test recipe at its batch (224) on ``gpu``."""
    return json.loads(run("--gpu", gpu, "--target", "resnet50-imagenet", "--recipes", str(recipes),
                          "--json", "--no-refine").stdout)["samples_per_s"]


def test_json_adds_refined_figures_from_the_bench_run_on_the_same_gpu(recipes, data_dir):
    # "lab-*" recipes are unknown here, so their recorded model figure is used; resnet50 is known,
    # so today's model re-predicts it (the recorded 1 samples/s must not count).
    path = _save(data_dir, [_train("train-resnet50-imagenet", 0.87 * _model_rate(recipes), 1.0),
                            _train("train-lab-a", 9000, 10000),
                            _train("train-lab-b", 800, 1000),
                            _train("train-lab-c", 10, 1000, verdict="noisy: CV 14%"),
                            _train("train-lab-d", 100, 1000, batch=8)])
    plain = json.loads(_4090(recipes, "--json", "--no-refine").stdout)
    res = _4090(recipes, "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    # The model's own figures stay at the top level, unchanged.
    assert data["samples_per_s"] == plain["samples_per_s"] and data["train_s"] == plain["train_s"]
    assert plain["refined"] is None and plain["refine_note"] == "--no-refine"
    ref = data["refined"]
    assert ref["factor"] == pytest.approx(0.87) and ref["figures"] == 3
    assert ref["samples_per_s"] == pytest.approx(0.87 * data["samples_per_s"])
    assert ref["train_s"] == pytest.approx(data["train_s"] / 0.87)
    assert ref["source_run"] == str(path) and ref["measured_at"].startswith("2026-11-20")
    assert len(ref["ignored"]) == 2 and data["refine_note"] == ""
    assert [u["expected_source"] for u in ref["used"]] == ["model now", "recorded by the run",
                                                          "recorded by the run"]
    assert ref["explanation"] == ("scaled by 0.87: median of 3 training figures measured by "
                                  "rigcheck bench on 2026-11-20 on your NVIDIA GeForce RTX 4090")


def test_human_output_shows_model_and_refined_figures_no_refine_only_the_model(recipes, data_dir):
    _save(data_dir, [_train("train-resnet50-imagenet", 0.87 * _model_rate(recipes), 500)])
    both = _4090(recipes)
    assert both.exit_code == 0, both.output
    assert "throughput" in both.stdout and "refined" in both.stdout
    assert "scaled by 0.87: 1 training figure (train-resnet50-imagenet)" in both.stdout
    only = _4090(recipes, "--no-refine")
    assert only.exit_code == 0 and "refined" not in only.stdout and "scaled by" not in only.stdout
    verbose = _4090(recipes, "-v")
    assert "by the model (model now): x0.87" in verbose.stdout


def test_runs_on_another_gpu_or_on_the_cpu_do_not_refine(recipes, data_dir):
    _save(data_dir, [_train("train-lab-a", 435, 500)], gpus=("NVIDIA GeForce RTX 3090",))
    _save(data_dir, [_train("train-lab-a", 5, 500)], device="cpu",
          at="2026-11-21T10:01:02+00:00")
    data = json.loads(_4090(recipes, "--json").stdout)
    assert data["refined"] is None and "no saved rigcheck bench run timed" in data["refine_note"]
    three = json.loads(run("--gpu", "3090", "--target", "resnet50-imagenet", "--recipes",
                           str(recipes), "--json").stdout)
    assert three["refined"]["factor"] == pytest.approx(0.87)


def test_the_latest_run_on_the_gpu_is_used(recipes, data_dir):
    _save(data_dir, [_train("train-lab-a", 500, 1000)], at="2026-10-01T00:00:00+00:00")
    _save(data_dir, [_train("train-lab-a", 1100, 1000)], at="2026-11-22T00:00:00+00:00")
    data = json.loads(_4090(recipes, "--json").stdout)
    assert data["refined"]["factor"] == pytest.approx(1.1)
    assert data["refined"]["measured_at"].startswith("2026-11-22")


def test_corrupt_or_missing_history_is_no_refinement_not_a_crash(recipes, data_dir):
    quiet = _4090(recipes)
    assert quiet.exit_code == 0 and "refined" not in quiet.stdout   # silent without -v
    loud = _4090(recipes, "-v")
    assert loud.exit_code == 0 and "no saved rigcheck bench runs" in loud.stdout
    runs_dir = data_dir / "bench" / "runs"
    runs_dir.mkdir(parents=True)
    (runs_dir / "2026-11-23T000000Z-x.json").write_text("{not json", encoding="utf-8")
    (runs_dir / "2026-11-24T000000Z-y.json").write_text('{"schema": 99}', encoding="utf-8")
    (runs_dir / "2026-11-25T000000Z-z.json").write_bytes(b"\xff\xfe\x00")
    (runs_dir / "2026-11-26T000000Z-w.json").write_text(
        '{"schema": 1, "machine": {"gpus": "NVIDIA GeForce RTX 4090", "device": "cuda:0"}, '
        '"results": [{"name": "train-x", "value": "fast", "unit": "samples/s"}]}', encoding="utf-8")
    res = _4090(recipes, "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["refined"] is None and "unreadable" in data["refine_note"]
    human = _4090(recipes)
    assert human.exit_code == 0 and "Traceback" not in human.output


def test_multi_gpu_estimates_are_not_refined(recipes, data_dir):
    _save(data_dir, [_train("train-lab-a", 435, 500)])
    data = json.loads(_4090(recipes, "--gpus", "2", "--json").stdout)
    assert data["refined"] is None and "one GPU" in data["refine_note"]


def test_markup_like_text_in_a_saved_run_is_printed_as_is(recipes, data_dir):
    _save(data_dir, [_train("train-lab-a", 435, 500),
                     _train("train-lab-b", 1, 500, verdict="noisy: [/] [bold]CV 30%")])
    res = _4090(recipes, "-v")
    assert res.exit_code == 0, res.output
    assert "left out: train-lab-b: noisy: [/] [bold]CV 30%" in res.stdout
