"""The catalog loader: validation messages, overlays, derived prices (rigcheck.catalog)."""

from __future__ import annotations

import csv
import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rigcheck import catalog as cat
from rigcheck.catalog import CatalogError, load_catalog

FIXTURE = Path(__file__).parent / "fixtures" / "catalog_small"
BUNDLED = Path(__file__).resolve().parents[1] / "catalog"
BUNDLED_FILES = ("gpus", "cpus", "motherboards", "memory", "storage", "psus", "cases", "rates")
TODAY = date(2026, 2, 1)


@pytest.fixture
def base(tmp_path: Path) -> Path:
    folder = tmp_path / "cat"
    shutil.copytree(FIXTURE, folder)
    return folder


def read(folder: Path, kind: str) -> list[dict[str, str]]:
    with open(folder / f"{kind}.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write(folder: Path, kind: str, rows: list[dict[str, str]], header: list[str] | None = None):
    folder.mkdir(parents=True, exist_ok=True)
    header = header or list(rows[0])
    with open(folder / f"{kind}.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def set_cell(folder: Path, kind: str, key: str, column: str, value: str) -> None:
    rows = read(folder, kind)
    key_col = "currency" if kind == "rates" else "id"
    hits = [r for r in rows if r[key_col] == key]
    assert hits, f"no row {key} in {kind}"
    hits[0][column] = value
    write(folder, kind, rows)


def load(folder: Path, **kw):
    return load_catalog(base=folder, today=TODAY, **kw)


# ----- the fixture itself -----------------------------------------------------------------------

def test_fixture_loads_sorted_with_derived_inr():
    catalog = load(FIXTURE)
    assert [g.id for g in catalog.gpus] == sorted(g.id for g in catalog.gpus)
    assert len(catalog.gpus) == 5 and len(catalog.cpus) == 3 and len(catalog.motherboards) == 3
    assert len(catalog.memory) == 3 and len(catalog.storage) == 2
    assert len(catalog.psus) == 2 and len(catalog.cases) == 2
    gpus = {g.id: g for g in catalog.gpus}
    derived = gpus["rtx-4060-ti-16gb"].price
    assert derived.kind == "derived" and derived.inr == pytest.approx(499 * 88.0)
    quoted = gpus["rtx-4090"].price
    assert (quoted.kind, quoted.inr, quoted.usd) == ("street", 185000.0, 1599.0)
    assert gpus["tesla-k40"].tensor_fp16_tflops is None
    assert gpus["tesla-k40"].tensor_accumulate == ""
    board = {b.id: b for b in catalog.motherboards}["trx50-ws"]
    assert board.x16_slot_positions == (1, 3, 5) and board.x16_slot_lanes == (16, 16, 16)
    assert {c.id: c for c in catalog.cases}["mid-tower-atx"].form_factors == ("ATX", "mATX", "ITX")
    assert catalog.rate("usd").inr_per_unit == 88.0
    assert cat.rate_table(catalog) == {"INR": 1.0, "EUR": 100.0, "USD": 88.0}


def test_rate_override_rederives_only_derived_prices():
    catalog = load(FIXTURE, rates={"USD": 90.0})
    gpus = {g.id: g for g in catalog.gpus}
    assert gpus["rtx-4060-ti-16gb"].price.inr == pytest.approx(499 * 90.0)
    assert gpus["rtx-4090"].price.inr == 185000.0  # a quoted INR price never moves
    usd = catalog.rate("USD")
    assert usd.inr_per_unit == 90.0 and usd.date == TODAY and "--rate" in usd.source


@pytest.mark.parametrize("bad", [{"INR": 2.0}, {"USD": 0.0}, {"USD": -3.0}])
def test_rate_override_rejects_nonsense(bad):
    with pytest.raises(CatalogError, match="--rate"):
        load(FIXTURE, rates=bad)


def test_derived_kind_with_inr_given_is_rederived_from_usd(base):
    set_cell(base, "gpus", "rtx-4090", "price_kind", "derived")
    gpu = {g.id: g for g in load(base, rates={"USD": 100.0}).gpus}["rtx-4090"]
    assert gpu.price.kind == "derived" and gpu.price.inr == pytest.approx(159900.0)


# ----- one broken cell, one exact message -------------------------------------------------------

LINE = {"rtx-3060-12gb": 2, "rtx-4090": 3, "tesla-k40": 6, "b650-atx": 2, "ryzen-5-7600": 2,
        "mid-tower-atx": 2, "USD": 2, "ddr4-2x16-3200": 3}


@pytest.mark.parametrize(
    ("kind", "key", "column", "value", "why"),
    [
        ("gpus", "rtx-4090", "vram_gb", "abc", "'abc' is not a number"),
        ("gpus", "rtx-4090", "vram_gb", "nan", "'nan' is not a number"),
        ("gpus", "rtx-4090", "vram_gb", "24GB", "'24GB' is not a number"),
        ("gpus", "rtx-4090", "vram_gb", "0.5", "below the plausible minimum 1"),
        ("gpus", "rtx-4090", "tdp_w", "4500", "above the plausible maximum 1500"),
        ("gpus", "rtx-4090", "cuda_cores", "12.5", "is not a whole number"),
        ("gpus", "rtx-4090", "nvlink", "yes", "is not true or false"),
        ("gpus", "rtx-4090", "form", "gaming", "is not one of: consumer, workstation"),
        ("gpus", "rtx-4090", "architecture", "Lovelace", "is not one of"),
        ("gpus", "rtx-4090", "compute_capability", "8", "is not a compute capability"),
        ("gpus", "rtx-4090", "price_date", "2026-13-01", "is not a date (YYYY-MM-DD)"),
        ("gpus", "rtx-4090", "price_date", "15/01/2026", "is not a date"),
        ("gpus", "rtx-4090", "price_date", "2026-03-01", "is in the future"),
        ("gpus", "rtx-4090", "price_kind", "quote", "is not one of: street, msrp"),
        ("gpus", "rtx-4090", "price_inr", "-5", "below the plausible minimum"),
        ("gpus", "rtx-4090", "name", "", "value is missing"),
        ("gpus", "rtx-4090", "source", "", "value is missing"),
        ("gpus", "rtx-4090", "id", "RTX 4090", "is not an id"),
        ("gpus", "tesla-k40", "tensor_bf16_tflops", "10", "must be empty for compute capab"),
        ("gpus", "tesla-k40", "tensor_fp16_tflops", "10", "must be empty for compute capab"),
        ("gpus", "rtx-4090", "tensor_accumulate", "", "value is missing (fp32 or fp16)"),
        ("cpus", "ryzen-5-7600", "threads", "4", "fewer than cores"),
        ("cpus", "ryzen-5-7600", "boost_ghz", "3.0", "below base_ghz"),
        ("cpus", "ryzen-5-7600", "avx512", "1", "is not true or false"),
        ("motherboards", "b650-atx", "x16_slot_lanes", "16", "has 1 item(s) but"),
        ("motherboards", "b650-atx", "x16_slot_positions", "4;1", "not strictly increasing"),
        ("motherboards", "b650-atx", "x16_slot_lanes", "16;3", "'3' is not one of"),
        ("motherboards", "b650-atx", "x16_slot_positions", "1;x", "'x' is not a whole number"),
        ("cases", "mid-tower-atx", "form_factors", "ATX;;mATX", "has an empty item"),
        ("cases", "mid-tower-atx", "form_factors", "ATX;BTX", "'BTX' is not one of"),
        ("rates", "USD", "inr_per_unit", "x", "'x' is not a number"),
    ],
)
def test_each_broken_cell_names_file_line_and_column(base, kind, key, column, value, why):
    set_cell(base, kind, key, column, value)
    with pytest.raises(CatalogError) as info:
        load(base)
    message = str(info.value)
    assert message.startswith(f"{base}/{kind}.csv line {LINE[key]}, column {column}: ")
    assert why in message
    assert "\n" not in message


def test_row_without_any_price(base):
    set_cell(base, "gpus", "rtx-3060-12gb", "price_inr", "")
    with pytest.raises(CatalogError, match=r"gpus.csv line 2, column price_inr: give price_inr"):
        load(base)


def test_blank_lines_do_not_shift_line_numbers(base):
    text = (base / "gpus.csv").read_text(encoding="utf-8").splitlines()
    text.insert(2, "")  # a blank line 3; rtx-4090 moves to line 4
    (base / "gpus.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    set_cell_raw = (base / "gpus.csv").read_text(encoding="utf-8").replace(",24,GDDR6X,", ",abc,GDDR6X,")
    (base / "gpus.csv").write_text(set_cell_raw, encoding="utf-8")
    with pytest.raises(CatalogError, match=r"gpus.csv line 4, column vram_gb: 'abc'"):
        load(base)


def test_duplicate_id(base):
    rows = read(base, "psus")
    write(base, "psus", [*rows, dict(rows[0])])
    with pytest.raises(CatalogError, match=r"psus.csv line 4, column id: 'psu-650-gold' already on line 2"):
        load(base)


def test_unknown_column_is_an_error_but_x_columns_are_notes(base):
    rows = read(base, "storage")
    write(base, "storage", [{**r, "x_shop": "amazon.in"} for r in rows])
    assert len(load(base).storage) == 2
    write(base, "storage", [{**r, "capacity_tb": "1"} for r in rows])
    with pytest.raises(CatalogError, match=r"storage.csv line 1: unknown column\(s\) capacity_tb"):
        load(base)


def test_missing_column_and_missing_file(base):
    rows = [{k: v for k, v in r.items() if k != "watts"} for r in read(base, "psus")]
    write(base, "psus", rows)
    with pytest.raises(CatalogError, match=r"psus.csv line 1: missing column\(s\) watts"):
        load(base)
    (base / "psus.csv").unlink()
    with pytest.raises(CatalogError, match=r"psus.csv: file is missing"):
        load(base)


def test_malformed_and_empty_csv(base):
    with open(base / "cases.csv", "a", encoding="utf-8") as fh:
        fh.write("x,y,ATX,300,7,1,,2026-01-01,street,s,n,desktop,false,2,EXTRA,MORE\n")
    with pytest.raises(CatalogError, match=r"cases.csv line 4: 16 cells but the header has 14"):
        load(base)
    (base / "cases.csv").write_text("", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"cases.csv: file is empty"):
        load(base)


def test_extra_cells_in_the_first_row_are_an_error_not_dropped(base, tmp_path):
    # pandas only warned here (ParserWarning on stderr) and silently dropped the extra cells.
    overlay = tmp_path / "shop"
    overlay.mkdir()
    (overlay / "gpus.csv").write_text("id,price_inr,price_date,price_kind,source\n"
                                      "rtx-4090,180000,2026-01-01,street,shop,200000\n")
    with pytest.raises(CatalogError, match=r"shop/gpus.csv line 2: 6 cells but the header has 5 "
                                           r"columns"):
        load(base, overlays=[overlay])


def test_unterminated_quote_is_named(base):
    with open(base / "cases.csv", "a", encoding="utf-8") as fh:
        fh.write('x,"y\n')
    with pytest.raises(CatalogError, match=r"cases.csv line 4: not valid CSV \(unexpected end"):
        load(base)


@pytest.mark.parametrize("header, why", [
    ("id,id,price_inr,price_date,price_kind,source", r"column\(s\) id appear twice"),
    ("id,,price_inr,price_date,price_kind,source", r"column 2 has no name"),
])
def test_bad_header_names_the_problem(base, tmp_path, header, why):
    overlay = tmp_path / "shop"
    overlay.mkdir()
    (overlay / "gpus.csv").write_text(header + "\nrtx-4090,x,180000,2026-01-01,street,shop\n")
    with pytest.raises(CatalogError, match=r"shop/gpus.csv line 1: " + why):
        load(base, overlays=[overlay])


def test_bom_crlf_and_spaces_after_commas_are_fine(base, tmp_path):
    overlay = tmp_path / "shop"
    overlay.mkdir()
    (overlay / "gpus.csv").write_bytes(
        b"\xef\xbb\xbfid, price_inr, price_date, price_kind, source\r\n"
        b'rtx-4090, 180000, 2026-01-30, street, "shop, Nehru Place"\r\n\r\n')
    gpu = {g.id: g for g in load(base, overlays=[overlay]).gpus}["rtx-4090"]
    assert gpu.price.inr == 180000 and gpu.price.source == "shop, Nehru Place"


def test_a_folder_or_broken_link_in_place_of_a_csv_is_an_error(base, tmp_path):
    # An overlay skips files it lacks, but a gpus.csv that exists and cannot be read is a mistake
    # the user must hear about, not a silently ignored price list.
    overlay = tmp_path / "shop"
    (overlay / "gpus.csv").mkdir(parents=True)
    with pytest.raises(CatalogError, match=r"shop/gpus.csv: cannot read it \(.*directory"):
        load(base, overlays=[overlay])
    (overlay / "gpus.csv").rmdir()
    (overlay / "gpus.csv").symlink_to(overlay / "gone.csv")
    with pytest.raises(CatalogError, match=r"shop/gpus.csv: cannot read it"):
        load(base, overlays=[overlay])


def test_inr_row_in_rates_is_an_error(base):
    rows = read(base, "rates")
    write(base, "rates", [*rows, {**rows[0], "currency": "INR", "inr_per_unit": "2"}])
    with pytest.raises(CatalogError, match=r"rates.csv line \d, column currency: INR is the base"):
        load(base)


def test_not_utf8(base):
    (base / "cases.csv").write_bytes((base / "cases.csv").read_bytes().replace(b"Lian", b"L\xe9an"))
    with pytest.raises(CatalogError, match=r"cases.csv: not UTF-8 .*at byte 1\d\d.*CSV UTF-8"):
        load(base)


def test_utf16_csv_says_how_to_save_it(base):
    # Excel's "Unicode Text" and PowerShell 5's `>` write UTF-16 with a byte-order mark.
    text = (base / "cases.csv").read_text(encoding="utf-8")
    (base / "cases.csv").write_bytes(text.encode("utf-16"))
    with pytest.raises(CatalogError, match=r"cases.csv: UTF-16 text; save it as CSV UTF-8"):
        load(base)


def test_board_socket_without_cpu(base):
    set_cell(base, "motherboards", "b650-atx", "socket", "AM4")
    with pytest.raises(CatalogError,
                       match=r"motherboards.csv line 2, column socket: no CPU in cpus.csv has socket 'AM4'"):
        load(base)


def test_cpu_socket_without_board(base):
    rows = read(base, "cpus")
    write(base, "cpus", [*rows, {**rows[0], "id": "ryzen-5-5600", "socket": "AM4"}])
    with pytest.raises(CatalogError,
                       match=r"cpus.csv line 5, column socket: no motherboard .* socket 'AM4'"):
        load(base)


def test_board_memory_type_without_kit(base):
    set_cell(base, "memory", "ddr4-2x16-3200", "memory_type", "DDR5")
    with pytest.raises(CatalogError,
                       match=r"motherboards.csv line 3, column memory_type: no kit .* 'DDR4'"):
        load(base)


def test_usd_only_price_needs_a_usd_rate(base):
    write(base, "rates", [r for r in read(base, "rates") if r["currency"] != "USD"])
    with pytest.raises(CatalogError, match=r"line \d, column price_usd: deriving INR needs a USD"):
        load(base)
    assert load(base, rates={"USD": 80.0}).rate("USD").inr_per_unit == 80.0


# ----- overlays ---------------------------------------------------------------------------------

def test_overlay_replaces_and_adds_rows(base, tmp_path):
    overlay = tmp_path / "shop"
    rows = read(base, "gpus")
    replaced = {**next(r for r in rows if r["id"] == "rtx-4090"), "vram_gb": "48", "name": "4090 48GB"}
    added = {**rows[0], "id": "rtx-3060-8gb", "vram_gb": "8"}
    write(overlay, "gpus", [replaced, added])
    catalog = load(base, overlays=[overlay])
    gpus = {g.id: g for g in catalog.gpus}
    assert len(gpus) == 6
    assert gpus["rtx-4090"].vram_gb == 48 and gpus["rtx-4090"].name == "4090 48GB"
    assert gpus["rtx-3060-8gb"].vram_gb == 8
    assert [g.id for g in catalog.gpus] == sorted(gpus)
    assert catalog.sources == (str(base), str(overlay))


def test_overlay_price_row_changes_only_the_price(base, tmp_path):
    overlay = tmp_path / "shop"
    write(overlay, "gpus", [{"id": "rtx-4090", "name": "ZOTAC RTX 4090 Trinity",
                             "price_inr": "210000", "price_date": "2026-01-30",
                             "price_kind": "street", "source": "shop list 2026-01-30"}])
    before = {g.id: g for g in load(base).gpus}["rtx-4090"]
    after = {g.id: g for g in load(base, overlays=[overlay]).gpus}["rtx-4090"]
    assert after.price.inr == 210000 and after.price.usd is None
    assert after.price.date == date(2026, 1, 30) and after.price.source == "shop list 2026-01-30"
    assert after.name == before.name  # the part keeps its catalog identity
    assert after.vram_gb == before.vram_gb and after.tdp_w == before.tdp_w


def test_overlay_price_row_usd_only_is_derived_and_validated(base, tmp_path):
    overlay = tmp_path / "shop"
    write(overlay, "cpus", [{"id": "ryzen-5-7600", "price_usd": "200", "price_date": "2026-01-30",
                             "price_kind": "street", "source": "newegg"}])
    cpu = {c.id: c for c in load(base, overlays=[overlay]).cpus}["ryzen-5-7600"]
    assert cpu.price.kind == "derived" and cpu.price.inr == pytest.approx(200 * 88.0)
    write(overlay, "cpus", [{"id": "ryzen-5-7600", "price_usd": "abc", "price_date": "2026-01-30",
                             "price_kind": "street", "source": "newegg"}])
    with pytest.raises(CatalogError, match=r"shop/cpus.csv line 2, column price_usd: 'abc'"):
        load(base, overlays=[overlay])


def test_overlay_price_row_for_unknown_id(base, tmp_path):
    overlay = tmp_path / "shop"
    write(overlay, "gpus", [{"id": "rtx-9090", "price_inr": "1", "price_date": "2026-01-30",
                             "price_kind": "street", "source": "s"}])
    with pytest.raises(CatalogError, match=r"line 2, column id: 'rtx-9090' is not in the catalog"):
        load(base, overlays=[overlay])


def test_overlay_partial_new_row_is_an_error(base, tmp_path):
    overlay = tmp_path / "shop"
    write(overlay, "gpus", [{"id": "rtx-9090", "vram_gb": "64", "price_inr": "1",
                             "price_date": "2026-01-30", "price_kind": "street", "source": "s"}])
    with pytest.raises(CatalogError, match=r"shop/gpus.csv line 2, column name: value is missing"):
        load(base, overlays=[overlay])


def test_overlay_rates_and_order(base, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    write(first, "rates", [{"currency": "USD", "inr_per_unit": "90", "date": "2026-01-20",
                            "source": "RBI"}])
    write(second, "rates", [{"currency": "USD", "inr_per_unit": "95", "date": "2026-01-25",
                             "source": "RBI"}])
    price = {g.id: g for g in load(base, overlays=[first, second]).gpus}["rtx-4060-ti-16gb"].price
    assert price.inr == pytest.approx(499 * 95.0)
    # --rate wins over every rates.csv
    price = {g.id: g for g in load(base, overlays=[first], rates={"USD": 85}).gpus}[
        "rtx-4060-ti-16gb"].price
    assert price.inr == pytest.approx(499 * 85.0)


def test_overlay_cross_file_rules_hold_after_merge(base, tmp_path):
    overlay = tmp_path / "shop"
    board = {**read(base, "motherboards")[0], "id": "x670e", "socket": "AM4"}
    write(overlay, "motherboards", [board])
    with pytest.raises(CatalogError, match=r"shop/motherboards.csv line 2, column socket"):
        load(base, overlays=[overlay])


def test_overlay_must_be_a_folder(base, tmp_path):
    with pytest.raises(CatalogError, match="not a folder"):
        load(base, overlays=[tmp_path / "nope"])
    with pytest.raises(CatalogError, match="not a folder"):
        load(tmp_path / "nope")


def test_missing_bundled_folder_is_a_catalog_error(monkeypatch):
    def missing():
        raise FileNotFoundError("rigcheck's bundled 'catalog' folder is missing")

    monkeypatch.setattr(cat.paths, "catalog_dir", missing)
    with pytest.raises(CatalogError, match="bundled 'catalog' folder is missing"):
        load_catalog()


# ----- helpers ----------------------------------------------------------------------------------

def test_ages_and_stale_parts():
    catalog = load(FIXTURE)
    assert cat.catalog_age_days(catalog, date(2026, 2, 14)) == 30
    stale = cat.stale_parts(catalog.gpus, date(2026, 2, 14))
    assert [g.id for g in stale] == ["tesla-k40"]
    assert len(cat.stale_parts(catalog.gpus, date(2026, 8, 1))) == 5


def test_gpu_ratios_and_part_to_dict_are_json_ready():
    catalog = load(FIXTURE)
    gpus = {g.id: g for g in catalog.gpus}
    ratios = cat.gpu_ratios(gpus["rtx-3060-12gb"])
    assert ratios["inr_per_vram_gb"] == pytest.approx(28000 / 12, abs=0.01)
    assert ratios["inr_per_tensor_tflop"] == pytest.approx(28000 / 51, abs=0.01)
    assert cat.gpu_ratios(gpus["tesla-k40"])["inr_per_tensor_tflop"] is None
    for part in cat.all_parts(catalog) + catalog.rates:
        data = json.loads(json.dumps(cat.part_to_dict(part)))
        assert "price" not in data
    kit = cat.part_to_dict(catalog.memory[0])
    assert kit["capacity_gb"] == catalog.memory[0].capacity_gb
    gpu = cat.part_to_dict(gpus["rtx-4060-ti-16gb"])
    assert gpu["price_kind"] == "derived" and gpu["price_date"] == "2026-01-15"
    assert gpu["price_usd"] == 499.0 and gpu["vram_gb"] == 16


def test_importing_the_module_does_not_import_pandas():
    import subprocess
    import sys

    code = "import sys, rigcheck.catalog, rigcheck.money; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


# ----- the bundled catalog ----------------------------------------------------------------------

@pytest.mark.skipif(not all((BUNDLED / f"{name}.csv").is_file() for name in BUNDLED_FILES),
                    reason="the bundled catalog/*.csv files are not all written yet")
def test_bundled_catalog_loads_with_issue_minimums():
    catalog = load_catalog()
    counts = {kind: len(getattr(catalog, kind)) for kind in cat.KINDS}
    minimums = {"gpus": 35, "cpus": 20, "motherboards": 15, "memory": 10, "storage": 10,
                "psus": 10, "cases": 6}
    assert all(counts[k] >= n for k, n in minimums.items()), counts
    assert catalog.rate("USD") is not None
    assert all(p.price.inr > 0 for p in cat.all_parts(catalog))


def test_line_numbers_count_quoted_multiline_cells(base):
    rows = read(base, "psus")
    rows[0]["notes"] = "first line\nsecond line"
    rows[1]["watts"] = "abc"
    write(base, "psus", rows)
    with pytest.raises(CatalogError, match=r"psus.csv line 4, column watts: 'abc'"):
        load(base)


def test_errors_blame_the_file_that_set_the_value(base, tmp_path):
    # A price row in an overlay updates the price; a spec problem still points at the bundled row
    # and a price problem at the overlay row.
    overlay = tmp_path / "shop"
    write(overlay, "gpus", [{"id": "rtx-4090", "price_usd": "1700", "price_date": "2026-01-30",
                             "price_kind": "street", "source": "shop"}])
    write(base, "rates", [r for r in read(base, "rates") if r["currency"] != "USD"])
    set_cell(base, "gpus", "rtx-4060-ti-16gb", "price_inr", "40000")
    set_cell(base, "gpus", "tesla-k40", "price_inr", "10000")
    set_cell(base, "cpus", "threadripper-7960x", "price_inr", "150000")
    set_cell(base, "motherboards", "trx50-ws", "price_inr", "80000")
    with pytest.raises(CatalogError, match=r"shop/gpus.csv line 2, column price_usd: deriving"):
        load(base, overlays=[overlay])


NUMERIC_GPU_COLUMNS = [c.name for c in cat.SCHEMA["gpus"] if c.kind in ("int", "float")]


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(column=st.sampled_from(NUMERIC_GPU_COLUMNS),
       junk=st.text(alphabet="abcdefghijklmnopqrstuvwxyzGBW%$,_ ", min_size=1).filter(str.strip),
       row=st.sampled_from(["rtx-3060-12gb", "rtx-4090", "a100-80gb-pcie"]))
def test_any_non_number_in_a_numeric_column_is_named(base, column, junk, row):
    set_cell(base, "gpus", row, column, junk)
    with pytest.raises(CatalogError) as info:
        load(base)
    line = {"rtx-3060-12gb": 2, "rtx-4090": 3, "a100-80gb-pcie": 5}[row]
    assert str(info.value).startswith(f"{base}/gpus.csv line {line}, column {column}: ")
    shutil.copy(FIXTURE / "gpus.csv", base / "gpus.csv")


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(vram=st.floats(min_value=1, max_value=300, allow_nan=False),
       tdp=st.integers(min_value=10, max_value=1500))
def test_numbers_in_range_round_trip(base, vram, tdp):
    set_cell(base, "gpus", "rtx-4090", "vram_gb", repr(vram))
    set_cell(base, "gpus", "rtx-4090", "tdp_w", str(tdp))
    gpu = {g.id: g for g in load(base).gpus}["rtx-4090"]
    assert gpu.vram_gb == vram and gpu.tdp_w == tdp


def test_price_basis_is_loaded_and_a_shop_price_row_resets_it(base, tmp_path):
    # A recalled (unsourced) price must reach the user as such, not look like a quote.
    rows = read(base, "psus")
    write(base, "psus", [{**r, "price_basis": "recalled"} for r in rows])
    psu = load(base).psus[0]
    assert psu.price.basis == "recalled"
    assert cat.part_to_dict(psu)["price_basis"] == "recalled"
    set_cell(base, "psus", rows[0]["id"], "price_basis", "guess")
    with pytest.raises(CatalogError, match=r"column price_basis: 'guess' is not one of"):
        load(base)
    set_cell(base, "psus", rows[0]["id"], "price_basis", "recalled")
    overlay = tmp_path / "shop"
    write(overlay, "psus", [{"id": rows[0]["id"], "price_inr": "7000", "price_date": "2026-01-30",
                             "price_kind": "street", "source": "shop"}])
    shop = {p.id: p for p in load(base, overlays=[overlay]).psus}[rows[0]["id"]]
    assert shop.price.inr == 7000 and shop.price.basis == ""


def test_bundled_catalog_carries_price_basis():
    catalog = load_catalog(today=date(2026, 11, 25))
    bases = {p.price.basis for p in cat.all_parts(catalog)}
    assert bases <= {"quote", "msrp", "seed", "recalled", "estimate"} and "recalled" in bases


@pytest.mark.parametrize(("kind", "key", "column", "value", "why"), [
    ("gpus", "rtx-4090", "id", "RTX 4090", "is not an id: use lowercase letters, digits, '.', '_' "
                                           "and '-' (e.g. rtx-4090)"),
    ("gpus", "rtx-4090", "compute_capability", "8", "is not a compute capability like 8.9"),
    ("rates", "USD", "currency", "US$", "is not a three-letter currency code like USD"),
])
def test_pattern_errors_say_what_is_expected_in_words(base, kind, key, column, value, why):
    set_cell(base, kind, key, column, value)
    with pytest.raises(CatalogError, match=re.escape(f"'{value}' {why}")):
        load(base)


def test_lowercase_currency_code_in_rates_is_accepted(base):
    set_cell(base, "rates", "USD", "currency", "usd")
    assert load(base).rate("USD") is not None


def test_same_currency_twice_in_any_case_is_a_duplicate(base):
    rows = read(base, "rates")
    write(base, "rates", [*rows, {**rows[0], "currency": rows[0]["currency"].lower()}])
    with pytest.raises(CatalogError, match=r"rates.csv line \d, column currency: .* already on"):
        load(base)


def test_header_after_blank_lines_is_named_on_its_own_line(base, tmp_path):
    overlay = tmp_path / "shop"
    overlay.mkdir()
    (overlay / "gpus.csv").write_text("\n\nid,prize_inr\nrtx-4090,1\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"shop/gpus.csv line 3: unknown column\(s\) prize_inr"):
        load(base, overlays=[overlay])


@pytest.mark.parametrize(("name", "hint"), [
    ("gpu.csv", "did you mean gpus.csv"), ("GPUs.csv", "did you mean gpus.csv"),
    ("prices.csv", "expected gpus.csv, cpus.csv"),
])
def test_overlay_csv_with_an_unknown_name_is_an_error_not_ignored(base, tmp_path, name, hint):
    # A shop list saved as gpu.csv was silently skipped: the recommendation used old prices.
    overlay = tmp_path / "shop"
    overlay.mkdir()
    (overlay / name).write_text("id,price_inr,price_date,price_kind,source\n"
                                "rtx-4090,150000,2026-01-30,street,shop\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=rf"shop/{name}: not a catalog file; {hint}"):
        load(base, overlays=[overlay])


def test_overlay_folder_without_csv_files_is_an_error(base, tmp_path):
    overlay = tmp_path / "shop"
    overlay.mkdir()
    (overlay / "notes.txt").write_text("prices from Nehru Place", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"shop: no catalog CSV files in it \(expected any of "
                                           r"gpus.csv"):
        load(base, overlays=[overlay])


def test_tomorrows_date_is_allowed_for_time_zones(base):
    # A shop list dated today in India (UTC+5:30) is "tomorrow" to a UTC container before 05:30
    # UTC; one day of slack keeps that from being an error. Two days ahead still is one.
    set_cell(base, "psus", "psu-650-gold", "price_date", "2026-02-02")
    assert {p.id: p for p in load(base).psus}["psu-650-gold"].price.date == date(2026, 2, 2)
    set_cell(base, "psus", "psu-650-gold", "price_date", "2026-02-03")
    with pytest.raises(CatalogError, match=r"'2026-02-03' is in the future \(today is 2026-02-01"):
        load(base)
