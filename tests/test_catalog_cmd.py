"""`rigcheck catalog`: exit codes, JSON shape, filters and sorting (rigcheck.ui.catalog_cmd)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rigcheck import paths
from rigcheck.ui.app import app

FIXTURE = Path(__file__).parent / "fixtures" / "catalog_small"
BUNDLED = Path(__file__).resolve().parents[1] / "catalog"
BUNDLED_FILES = ("gpus", "cpus", "motherboards", "memory", "storage", "psus", "cases", "rates")


@pytest.fixture
def fixture_catalog(monkeypatch):
    monkeypatch.setattr(paths, "catalog_dir", lambda: FIXTURE)


def run(*args: str):
    return CliRunner(env={"COLUMNS": "220"}).invoke(app, ["catalog", *args])


def run_json(*args: str) -> dict:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def ids(data: dict) -> list[str]:
    return [item["id"] for item in data["items"]]


def test_json_shape(fixture_catalog):
    data = run_json("gpus")
    assert set(data) >= {"kind", "currency", "sources", "price_dates", "stale_after_days",
                         "stale_count", "rates", "count", "items"}
    assert data["kind"] == "gpus" and data["currency"] == "INR" and data["count"] == 5
    assert data["price_dates"] == {"oldest": "2013-11-22", "newest": "2026-01-15"}
    assert data["stale_after_days"] == 180 and data["stale_count"] >= 1
    item = next(i for i in data["items"] if i["id"] == "rtx-4060-ti-16gb")
    for key in ("name", "vram_gb", "price_inr", "price_usd", "price_date", "price_kind", "source",
                "inr_per_tensor_tflop", "inr_per_vram_gb", "inr_per_fp32_tflop", "stale",
                "price_display"):
        assert key in item
    assert item["price_kind"] == "derived" and item["price_inr"] == pytest.approx(499 * 88.0)
    assert item["price_display"] == {"currency": "INR", "amount": pytest.approx(43912.0),
                                     "approximate": True}
    # default order: cheapest first
    assert ids(data)[0] == "rtx-3060-12gb"


def test_sort_by_inr_per_vram_gb(fixture_catalog):
    data = run_json("gpus", "--sort", "inr_per_vram_gb")
    values = [i["inr_per_vram_gb"] for i in data["items"]]
    assert values == sorted(values)
    assert ids(data)[0] == "rtx-3060-12gb" and ids(data)[-1] == "tesla-k40"
    assert ids(run_json("gpus", "--sort", "price"))[0] == "rtx-3060-12gb"
    desc = run_json("gpus", "--sort", "inr_per_vram_gb", "--desc", "--limit", "2")
    assert ids(desc) == ["tesla-k40", "a100-80gb-pcie"]


def test_sort_by_tensor_ratio_puts_cards_without_tensor_cores_last(fixture_catalog):
    for extra in ((), ("--desc",)):
        data = run_json("gpus", "--sort", "inr_per_tensor_tflop", *extra)
        assert ids(data)[-1] == "tesla-k40"
    assert ids(run_json("gpus", "--sort", "inr_per_tensor_tflop"))[0] == "rtx-4060-ti-16gb"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("gpus", "--filter", "vram_gb>=16", "--filter", "form=consumer"),
         {"rtx-4060-ti-16gb", "rtx-4090"}),
        (("gpu", "-f", "name~4090"), {"rtx-4090"}),
        (("gpus", "-f", "nvlink=true"), {"a100-80gb-pcie"}),
        (("gpus", "-f", "availability!=legacy", "-f", "price_inr<50000"),
         {"rtx-3060-12gb", "rtx-4060-ti-16gb"}),
        (("gpus", "-f", "price_date<2020-01-01"), {"tesla-k40"}),
        (("gpus", "-f", "price_inr<0.3lakh"), {"rtx-3060-12gb"}),
        (("gpus", "-f", "price_inr>=₹1,85,000", "-f", "price_inr<5L"), {"rtx-4090", "tesla-k40"}),
        (("gpus", "-f", "tensor_bf16_tflops>0"),
         {"rtx-3060-12gb", "rtx-4060-ti-16gb", "rtx-4090", "a100-80gb-pcie"}),
        (("cases", "-f", "form_factors=e-atx"), {"full-tower-eatx"}),
        (("board", "-f", "socket=am5"), {"b650-atx"}),
        (("motherboards", "-f", "x16_slot_positions=5"), {"trx50-ws"}),
        (("memory", "-f", "capacity_gb>=64"), {"ddr5-rdimm-4x32-5600"}),
        (("psu", "-f", "watts>1000"), {"psu-1200-plat"}),
        (("cpus", "-f", "cores>=10", "-f", "vendor=amd"), {"threadripper-7960x"}),
        (("storage", "-f", "kind=hdd"), {"hdd-8tb"}),
        (("gpus", "-f", "vram_gb>500"), set()),
    ],
)
def test_filters(fixture_catalog, args, expected):
    assert set(ids(run_json(*args))) == expected


def test_rates_kind(fixture_catalog):
    data = run_json("rate")
    assert [i["currency"] for i in data["items"]] == ["EUR", "USD"]
    assert data["items"][1] == {"currency": "USD", "inr_per_unit": 88.0, "date": "2026-01-15",
                                "source": "test fixture rate"}


def test_currency_usd_shows_quoted_usd_and_converts_the_rest(fixture_catalog):
    items = {i["id"]: i for i in run_json("gpus", "--currency", "usd")["items"]}
    assert items["rtx-4090"]["price_display"] == {"currency": "USD", "amount": 1599.0,
                                                  "approximate": False}
    shown = items["rtx-3060-12gb"]["price_display"]
    assert shown["approximate"] and shown["amount"] == pytest.approx(28000 / 88, abs=0.01)
    assert items["rtx-3060-12gb"]["price_inr"] == 28000  # INR always present in JSON
    # a derived row's USD figure is the quote its INR came from: shown as is
    assert items["rtx-4060-ti-16gb"]["price_display"] == {"currency": "USD", "amount": 499.0,
                                                          "approximate": False}
    assert items["tesla-k40"]["price_display"]["amount"] == 5499.0


def test_rate_override_and_overlay(fixture_catalog, tmp_path):
    items = {i["id"]: i for i in run_json("gpus", "--rate", "USD=90")["items"]}
    assert items["rtx-4060-ti-16gb"]["price_inr"] == pytest.approx(499 * 90.0)
    shop = tmp_path / "shop"
    shop.mkdir()
    with open(shop / "gpus.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "price_inr", "price_date", "price_kind", "source"])
        writer.writerow(["rtx-4090", "199999", "2026-01-20", "street", "shop list"])
    data = run_json("gpus", "--catalog", str(shop), "-f", "name~4090")
    assert data["items"][0]["price_inr"] == 199999 and data["sources"][-1] == str(shop)


def test_table_marks_derived_prices_and_shows_dates(fixture_catalog):
    result = run("gpus", "--sort", "inr_per_vram_gb")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Price (INR)" in out and "₹28,000" in out and "≈₹43,912" in out
    assert "2026-01-15 derived" in out and "₹/VRAM GB" in out
    assert "prices seen 2013-11-22 to 2026-01-15" in out
    assert "≈ not a shop quote: INR derived from a USD price at ₹88 per USD (rate of 2026-01-15)" \
        in out
    assert "older than 180 days" in result.stderr


def test_table_in_usd(fixture_catalog):
    result = run("gpus", "--currency", "USD", "-f", "name~4090")
    assert result.exit_code == 0, result.output
    assert "$1,599" in result.stdout and "≈$1,599" not in result.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("gpux",), "unknown catalog kind 'gpux'"),
        (("gpus", "--filter", "vram"), "is not COLUMN OP VALUE"),
        (("gpus", "--filter", "vram>=16"), "unknown column 'vram' for gpus"),
        (("gpus", "--filter", "vram_gb>=lots"), "'lots' is not a number"),
        (("gpus", "--filter", "nvlink>1"), "nvlink is true/false"),
        (("gpus", "--sort", "speed"), "unknown column 'speed'"),
        (("gpus", "--limit", "0"), "--limit 0"),
        (("gpus", "--currency", "GBP"), "--currency 'GBP': no rate"),
        (("gpus", "--rate", "USD=abc"), "--rate 'USD=abc'"),
        (("gpus", "--catalog", "/nonexistent/shop"), "not a folder"),
    ],
)
def test_usage_errors_are_one_line_exit_2(fixture_catalog, args, fragment):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_broken_catalog_row_exit_2(fixture_catalog, tmp_path):
    shop = tmp_path / "shop"
    shop.mkdir()
    (shop / "gpus.csv").write_text(
        "id,price_inr,price_date,price_kind,source\nrtx-4090,lots,2026-01-20,street,x\n",
        encoding="utf-8")
    result = run("gpus", "--catalog", str(shop))
    assert result.exit_code == 2
    assert f"{shop}/gpus.csv line 2, column price_inr: 'lots' is not a number" in result.stderr


def test_help_does_not_import_pandas():
    code = ("import sys\nfrom rigcheck.ui.app import app\n"
            "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write(str('pandas' in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stderr.strip().endswith("False"), out.stderr


@pytest.mark.skipif(not all((BUNDLED / f"{name}.csv").is_file() for name in BUNDLED_FILES),
                    reason="the bundled catalog/*.csv files are not all written yet")
def test_bundled_catalog_browses():
    data = run_json("gpus", "--sort", "inr_per_tensor_tflop")
    assert data["count"] >= 35
    assert all(item["price_inr"] > 0 for item in data["items"])


@pytest.mark.parametrize("sort", ["price", "PRICE", "Price_INR", " vram_gb "])
def test_sort_is_case_insensitive_and_price_is_an_alias_in_the_table_too(fixture_catalog, sort):
    # `--sort PRICE` sorted right but the table grew an empty extra "Price" column of "-".
    result = run("gpus", "--sort", sort)
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if "Name" in line)
    assert header.split().count("Price") == 1, header
    assert "Price (INR)" in header


def test_unsourced_and_estimated_prices_are_marked(fixture_catalog, tmp_path):
    shop = tmp_path / "shop"
    shop.mkdir()
    (shop / "gpus.csv").write_text(
        "id,price_inr,price_date,price_kind,source,price_basis\n"
        "rtx-4090,160000,2026-01-20,street,remembered,recalled\n", encoding="utf-8")
    data = run_json("gpus", "--catalog", str(shop), "-f", "id=rtx-4090")
    assert data["items"][0]["price_basis"] == "recalled"
    result = run("gpus", "--catalog", str(shop))
    assert result.exit_code == 0, result.output
    assert "2026-01-20 street ?" in result.stdout
    assert "? unsourced: a price recalled" in result.stdout


def test_query_layer_is_pure_and_usable_without_the_cli():
    from rigcheck import catalog_query as query

    rows = [{"id": "a", "price_inr": 300.0, "vram_gb": 8.0, "form_factors": ["ATX"]},
            {"id": "b", "price_inr": 100.0, "vram_gb": 24.0, "form_factors": ["ATX", "mATX"]},
            {"id": "c", "price_inr": 200.0, "vram_gb": None, "form_factors": ["ITX"]}]
    got = query.select(rows, "gpus", [query.parse_filter("form_factors=atx")], "VRAM_GB", True, None)
    assert [r["id"] for r in got] == ["b", "a"]
    assert [r["id"] for r in query.select(rows, "gpus", [], None, False, 2)] == ["b", "c"]
    assert [r["id"] for r in query.select(rows, "gpus", [query.parse_filter("price_inr<=0.002L")],
                                          "price", False, None)] == ["b", "c"]
    assert query.normalize_kind(" Mobo ") == "motherboards"
