"""Fleet doctor over a fake fleet with planted outliers."""

from __future__ import annotations

import json

import pytest

from rigcheck.facts import Facts, GpuFacts, to_json
from rigcheck.fleet import NodeFacts, compare
from rigcheck.fleet.load import load_facts_dir


def node_facts(driver="550.54.15", torch="2.4.1+cu121", nccl="2.20.5", gpus=8, width=16,
               gpu_name="NVIDIA H100 80GB HBM3", nccl_env=None, iommu=False) -> Facts:
    f = Facts()
    f.nvml.available = True
    f.nvml.driver_version = driver
    f.nvml.cuda_driver_version = "12.4"
    f.nvml.gpus = [GpuFacts(index=i, name=gpu_name, memory_total_mib=81559, pcie_gen_max=5,
                            pcie_width_max=width if i == 2 else 16) for i in range(gpus)]
    f.torch.version = torch
    f.torch.cuda_build = "12.1"
    f.torch.nccl_version = nccl
    f.torch.cudnn_version = 90100
    f.python.env = dict({"NCCL_IB_DISABLE": "0"} if nccl_env is None else nccl_env)
    f.host.iommu = iommu
    f.host.kernel = "5.15.0-105-generic"
    return f


def by_id(findings):
    return {f.id: f for f in findings}


def test_uniform_fleet_is_clean():
    nodes = [NodeFacts(f"node{i}", node_facts(), bench={"gemm-bf16": 700.0 + i}) for i in range(4)]
    findings = by_id(compare(nodes))
    bad = [f for f in findings.values() if f.status in ("warn", "fail")]
    assert bad == []
    assert findings["fleet.driver"].status == "ok"
    assert "550.54.15" in findings["fleet.driver"].summary
    assert findings["fleet.clock_skew"].status == "skip"


def test_planted_outliers_are_named():
    nodes = [NodeFacts(f"node{i}", node_facts(), bench={"gemm-bf16": 700.0}) for i in range(3)]
    nodes.append(NodeFacts("node3", node_facts(driver="535.161.08", width=4, gpus=7,
                                               nccl_env={"NCCL_IB_DISABLE": "1"}),
                           bench={"gemm-bf16": 520.0}))
    findings = by_id(compare(nodes))
    drv = findings["fleet.driver"]
    assert drv.status == "warn" and drv.nodes == ("node3",)
    assert "550.54.15 on 3 node(s), but 535.161.08 on node3" in drv.summary
    assert findings["fleet.gpu_count"].status == "fail"
    assert findings["fleet.gpu_count"].nodes == ("node3",)
    link = findings["fleet.pcie_link"]
    assert link.status == "warn" and "node3 GPU 2 at Gen5 x4" in link.summary
    assert findings["fleet.nccl_env"].nodes == ("node3",)
    gemm = findings["fleet.bench.gemm-bf16"]
    assert gemm.status == "warn" and gemm.nodes == ("node3",) and "-26%" in gemm.summary


def test_torch_and_nccl_mismatch_fail():
    nodes = [NodeFacts("a", node_facts()), NodeFacts("b", node_facts()),
             NodeFacts("c", node_facts(torch="2.3.0+cu118", nccl="2.18.1"))]
    findings = by_id(compare(nodes))
    assert findings["fleet.torch"].status == "fail"
    assert findings["fleet.nccl"].status == "fail"
    assert findings["fleet.torch"].nodes == ("c",)


def test_missing_ranks_fail_and_report_goes_on():
    findings = by_id(compare([NodeFacts("a", node_facts())], missing=["rank 1 (node b)"]))
    assert findings["fleet.missing"].status == "fail"
    assert "rank 1 (node b)" in findings["fleet.missing"].summary
    assert findings["fleet.driver"].status == "ok"


def test_clock_skew():
    nodes = [NodeFacts("a", node_facts(), clock_offset_s=0.0),
             NodeFacts("b", node_facts(), clock_offset_s=0.2),
             NodeFacts("c", node_facts(), clock_offset_s=-4.5)]
    skew = by_id(compare(nodes))["fleet.clock_skew"]
    assert skew.status == "warn" and skew.nodes == ("c",) and "-4.5 s" in skew.summary


def test_facts_dir_with_broken_file_and_bench(tmp_path):
    for i in range(3):
        (tmp_path / f"gpu{i:02d}.json").write_text(to_json(node_facts()))
    (tmp_path / "gpu03.json").write_text(to_json(node_facts(driver="535.104.05")))
    (tmp_path / "gpu04.json").write_text(to_json(node_facts())[:120])      # truncated
    (tmp_path / "gpu00.bench.json").write_text(json.dumps(
        {"results": [{"name": "gemm-bf16", "value": 700, "unit": "TFLOP/s"}]}))
    (tmp_path / "gpu01.bench.json").write_text(json.dumps(
        {"results": [{"name": "gemm-bf16", "value": 400, "unit": "TFLOP/s"}]}))
    (tmp_path / "gpu02.bench.json").write_text(json.dumps(
        {"results": [{"name": "gemm-bf16", "value": 710, "unit": "TFLOP/s"}]}))
    nodes, missing, bench_problems = load_facts_dir(tmp_path)
    assert bench_problems == []
    assert [n.node for n in nodes] == ["gpu00", "gpu01", "gpu02", "gpu03"]
    assert len(missing) == 1 and missing[0].startswith("gpu04 (")
    findings = by_id(compare(nodes, missing))
    assert findings["fleet.driver"].nodes == ("gpu03",)
    assert findings["fleet.bench.gemm-bf16"].nodes == ("gpu01",)
    assert findings["fleet.missing"].status == "fail"


def test_facts_dir_errors(tmp_path):
    from rigcheck.facts import FactsError
    with pytest.raises(FactsError, match="no facts files"):
        load_facts_dir(tmp_path)
    with pytest.raises(FactsError, match="not a folder"):
        load_facts_dir(tmp_path / "nope")


def test_no_nccl_variables_is_a_value_not_unknown():
    nodes = [NodeFacts("a", node_facts(nccl_env={})), NodeFacts("b", node_facts(nccl_env={})),
             NodeFacts("c", node_facts(nccl_env={"NCCL_P2P_DISABLE": "1"}))]
    env = by_id(compare(nodes))["fleet.nccl_env"]
    assert env.status == "warn" and env.nodes == ("c",)
    assert "none on 2 node(s)" in env.summary and "NCCL_P2P_DISABLE=1 on c" in env.summary


def test_a_node_whose_nvml_failed_fails_the_fleet():
    broken = node_facts()
    broken.nvml.available = False
    broken.nvml.error = "NVML_ERROR_LIB_RM_VERSION_MISMATCH"
    broken.nvml.gpus = []
    nodes = [NodeFacts("a", node_facts()), NodeFacts("b", node_facts()), NodeFacts("c", broken)]
    findings = by_id(compare(nodes))
    assert findings["fleet.nvml"].status == "fail"
    assert "c (NVML_ERROR_LIB_RM_VERSION_MISMATCH)" in findings["fleet.nvml"].summary


def test_cpu_only_fleet_skips_gpu_comparisons():
    def cpu():
        f = node_facts()
        f.nvml.available = False
        f.nvml.gpus = []
        return f
    findings = by_id(compare([NodeFacts("a", cpu()), NodeFacts("b", cpu())]))
    assert findings["fleet.nvml"].status == "skip"
    assert findings["fleet.gpu_model"].status == "skip"


def test_bad_bench_file_is_a_warning_not_a_missing_node(tmp_path):
    for node in ("a", "b"):
        (tmp_path / f"{node}.json").write_text(to_json(node_facts()))
    (tmp_path / "a.bench.json").write_text("[]")
    (tmp_path / "b.bench.json").write_text(json.dumps({"results": [{"name": ["x"], "value": 1}]}))
    nodes, missing, bench_problems = load_facts_dir(tmp_path)
    assert [n.node for n in nodes] == ["a", "b"] and missing == []
    assert len(bench_problems) == 1 and bench_problems[0].startswith("a (a.bench.json: not a")
    findings = by_id(compare(nodes, missing, bench_problems))
    assert findings["fleet.bench_errors"].status == "warn"
    assert "fleet.missing" not in findings


def test_same_stem_files_are_two_nodes(tmp_path):
    (tmp_path / "a.json").write_text(to_json(node_facts()))
    (tmp_path / "a.txt").write_text(to_json(node_facts(driver="535.104.05")))
    nodes, _, _ = load_facts_dir(tmp_path)
    assert sorted(n.node for n in nodes) == ["a.json", "a.txt"]


def test_a_lost_gpu_counts_as_missing():
    lost = node_facts()
    lost.nvml.gpus[3] = GpuFacts(index=3, lost=True)
    findings = by_id(compare([NodeFacts("a", node_facts()), NodeFacts("b", node_facts()),
                              NodeFacts("c", lost)]))
    assert findings["fleet.gpu_count"].status == "fail"
    assert findings["fleet.gpu_count"].nodes == ("c",)
    assert "7 on c" in findings["fleet.gpu_count"].summary
