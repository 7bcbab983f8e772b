"""`rigcheck catalog import FILE`: a shop's CSV and PCPartPicker exports -> an overlay of price
rows that recommend and catalog use; bad files are one line, exit 2, nothing overwritten."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rigcheck import catalog_import as imp
from rigcheck.catalog import load_catalog
from rigcheck.ui.app import app

LISTS = Path(__file__).parent / "fixtures" / "price_lists"
runner = CliRunner()


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("RIGCHECK_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def cli(*args):
    return runner.invoke(app, ["catalog", *args])


def by_line(matches):
    return {m.line.number: m for m in matches}


def test_shop_csv_lines_match_catalog_ids(catalog):
    lines = imp.parse_file(LISTS / "shop.csv")
    # the offer price, not the MRP sticker; the last row has no offer price and is skipped
    assert [(line.number, line.price, line.currency) for line in lines] == [
        (2, 58499.0, "INR"), (3, 17999.0, "INR"), (4, 7650.0, "INR"), (5, 44999.0, "INR"),
        (6, 2899.0, "INR")]
    m = by_line(imp.match_all(lines, catalog))
    assert (m[2].kind, m[2].part_id) == ("gpus", "rtx-5070")
    assert (m[3].kind, m[3].part_id) == ("cpus", "ryzen-5-7600")
    assert (m[4].kind, m[4].part_id) == ("cases", "corsair-4000d-airflow")
    # "RTX 5060 Ti" without its memory size: 8 GB or 16 GB?
    assert set(m[5].candidates) == {"rtx-5060-ti-8gb", "rtx-5060-ti-16gb"}
    assert m[6].part_id == ""                               # a CPU cooler: not a catalog kind



@pytest.mark.parametrize("name, want", [
    # the line says "Ti": the plain RTX 5060 (GeForce RTX 5060 8 GB) is not what it may be
    ("Zotac Gaming RTX 5060 Ti", {"rtx-5060-ti-8gb", "rtx-5060-ti-16gb"}),
    # no suffix word: every 5060 card is a candidate
    ("Zotac Gaming RTX 5060", {"rtx-5060", "rtx-5060-ti-8gb", "rtx-5060-ti-16gb"}),
    # a suffix no 5060 card has ("Super") narrows nothing rather than leaving no candidate
    ("Zotac Gaming RTX 5060 Super", {"rtx-5060", "rtx-5060-ti-8gb", "rtx-5060-ti-16gb"}),
])
def test_a_suffix_word_narrows_the_candidates(catalog, name, want):
    m = imp.match_line(imp.Line(1, name, 40000.0, "INR", "gpus"), catalog)
    assert m.part_id == "" and set(m.candidates) == want

def test_pcpartpicker_markdown_export(catalog):
    lines = imp.parse_file(LISTS / "pcpartpicker.txt")
    # the fan has a price but no catalog kind; the PSU has no price; the total is not a part
    assert [(line.number, line.price) for line in lines] == [
        (5, 17490.0), (6, 12499.0), (7, 49990.0), (8, 799.0)]
    m = by_line(imp.match_all(lines, catalog))
    assert m[5].part_id == "ryzen-5-7600" and m[5].line.shop == "Amazon India"
    assert m[6].part_id == "gigabyte-b650m-gaming-wifi"
    assert m[7].part_id == "rtx-5060-ti-16gb"
    assert m[8].part_id == ""


def test_pcpartpicker_text_export_in_dollars(catalog):
    lines = imp.parse_file(LISTS / "pcpartpicker_text.txt")
    assert [(line.currency, line.price) for line in lines] == [
        ("USD", 189.99), ("USD", 549.99), ("USD", 389.99), ("USD", 94.99)]
    ids = [m.part_id for m in imp.match_all(lines, catalog)]
    assert ids[0] == "ryzen-5-7600" and ids[1] == "rtx-5070" and ids[3] == "corsair-4000d-airflow"


def test_import_writes_an_overlay_that_recommend_and_catalog_use(data_dir):
    result = cli("import", str(LISTS / "pcpartpicker.txt"), "--date", "2026-11-30", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {m["id"] for m in report["matched"]} == {"ryzen-5-7600", "gigabyte-b650m-gaming-wifi",
                                                    "rtx-5060-ti-16gb"}
    assert [u["line"] for u in report["unmatched"]] == [8]
    shown = json.loads(cli("gpus", "--filter", "name~5060 Ti 16", "--json").stdout)
    item = shown["items"][0]
    assert item["price_inr"] == 49990 and item["price_date"] == "2026-11-30"
    assert item["price_basis"] == "quote" and "pcpartpicker.txt line 7" in item["source"]
    assert any("catalog-overlay" in s for s in shown["sources"])
    rec = runner.invoke(app, ["recommend", "--budget", "5lakh", "--allow-unsourced", "--json"])
    assert rec.exit_code == 0 and any("catalog-overlay" in s
                                      for s in json.loads(rec.stdout)["catalog"]["sources"])
    gone = cli("import", "--remove")
    assert gone.exit_code == 0 and "Removed" in gone.output
    again = json.loads(cli("gpus", "--filter", "name~5060 Ti 16", "--json").stdout)
    assert again["items"][0]["price_inr"] != 49990
    assert cli("import", "--remove").output.startswith("No imported prices")


def test_a_second_import_keeps_the_first_ones_other_rows(data_dir):
    assert cli("import", str(LISTS / "pcpartpicker.txt")).exit_code == 0
    assert cli("import", str(LISTS / "shop.csv")).exit_code == 0
    overlay = data_dir / "catalog-overlay"
    gpus = (overlay / "gpus.csv").read_text()
    assert "rtx-5060-ti-16gb" in gpus and "rtx-5070" in gpus
    assert "gigabyte-b650m-gaming-wifi" in (overlay / "motherboards.csv").read_text()


@pytest.mark.parametrize("content, why", [
    ("", "no priced line found"),
    ("just some words\nand more\n", "no priced line found"),
    ("name,colour\nRTX 5070,black\n", "line 1: no price column"),
    ("item,price\nGeForce RTX 5070,lots\n", "line 2, column price: 'lots' is not a price"),
    ("item,price\nNothing Like A Part,500\n", "none of its 1 priced line"),
])
def test_bad_files_are_one_line_and_overwrite_nothing(tmp_path, data_dir, content, why):
    assert cli("import", str(LISTS / "pcpartpicker.txt")).exit_code == 0
    before = (data_dir / "catalog-overlay" / "gpus.csv").read_text()
    bad = tmp_path / "bad.csv"
    bad.write_text(content, encoding="utf-8")
    result = cli("import", str(bad))
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and why in lines[0], result.output
    assert (data_dir / "catalog-overlay" / "gpus.csv").read_text() == before


def test_unreadable_and_non_utf8_files(tmp_path):
    assert "cannot read it" in cli("import", str(tmp_path / "missing.csv")).output
    latin = tmp_path / "latin.csv"
    latin.write_bytes("item,price\nCaf\xe9 RTX 5070,58000\n".encode("latin-1"))
    result = cli("import", str(latin))
    assert result.exit_code == 2 and "not UTF-8" in result.output


def test_import_needs_a_file_and_others_take_none():
    assert cli("import").exit_code == 2
    assert cli("gpus", "extra.csv").exit_code == 2


@pytest.mark.parametrize("text, expected", [
    ("₹58,499", (58499.0, "INR")), ("Rs. 58,499.00", (58499.0, "INR")),
    ("58499", (58499.0, "INR")), ("$549.99", (549.99, "USD")),
    ("Purchased For $150.00", (150.0, "USD")),
])
def test_prices(text, expected):
    assert imp.parse_price(text, "x") == expected


def test_the_more_specific_name_wins(catalog):
    line = imp.Line(1, "Zotac GeForce RTX 4070 SUPER Twin Edge 12GB", 60000, "INR", "gpus")
    assert imp.match_line(line, catalog).part_id == "rtx-4070-super"
    plain = imp.Line(1, "Zotac GeForce RTX 4070 Twin Edge 12GB", 55000, "INR", "gpus")
    assert imp.match_line(plain, catalog).part_id == "rtx-4070"


def test_an_id_column_is_taken_as_is(catalog):
    assert imp.match_line(imp.Line(1, "whatever", 1, "INR", None, part_id="rtx-5090"),
                          catalog).part_id == "rtx-5090"
    assert "not in the catalog" in imp.match_line(
        imp.Line(1, "x", 1, "INR", None, part_id="rtx-9090"), catalog).why


def test_two_lines_for_one_part_keep_the_cheaper(catalog):
    lines = [imp.Line(1, "GeForce RTX 5070 12GB", 60000, "INR", "gpus"),
             imp.Line(2, "GeForce RTX 5070 12GB", 57000, "INR", "gpus")]
    m = imp.match_all(lines, catalog)
    assert m[1].part_id == "rtx-5070" and m[0].part_id == "" and "cheaper" in m[0].why
    rows = imp.overlay_rows(m, date(2026, 11, 30), "x.csv")
    assert rows["gpus"][0]["price_inr"] == "57000"


# ---- complete systems (catalog/systems.csv) in a reseller's price list -------------------------

RESELLER = ("Category,Product,Offer Price\n"
            "GPU Server,tiny corp tinybox pro v2 8x RTX 5090 5U,\"₹72,50,000\"\n"
            "Workstation,Tinybox green v2 (4x RTX PRO 6000),\"₹86,00,000\"\n"
            "Graphics Card,Zotac Gaming RTX 5090 Solid,\"₹2,45,000\"\n")


def test_a_resellers_system_lines_match_the_bundled_systems(tmp_path, catalog):
    path = tmp_path / "reseller.csv"
    path.write_text(RESELLER, encoding="utf-8")
    got = by_line(imp.match_all(imp.parse_file(path), catalog))
    assert (got[2].kind, got[2].part_id) == ("systems", "tinybox-pro-v2")
    # "RTX PRO 6000" carries the pro v2's model word "pro" too; the line's model number 6000 is
    # in the green v2's full name (its cards), not in the pro v2's (8 x RTX 5090)
    assert (got[3].kind, got[3].part_id) == ("systems", "tinybox-green-v2-blackwell")
    assert (got[4].kind, got[4].part_id) == ("gpus", "rtx-5090")      # a card stays a card


def test_a_system_line_without_a_type_still_matches(catalog):
    line = imp.Line(2, "TinyBox Pro V2", 7_250_000.0, "INR", None)
    m = imp.match_line(line, catalog)
    # model words pro + v2 (2) beat the green v2's v2 (1)
    assert (m.kind, m.part_id) == ("systems", "tinybox-pro-v2")


def test_an_imported_system_quote_reprices_it_for_recommend(tmp_path, data_dir):
    path = tmp_path / "reseller.csv"
    path.write_text(RESELLER, encoding="utf-8")
    result = cli("import", str(path), "--date", "2026-11-30", "--json")
    assert result.exit_code == 0, result.output
    assert (data_dir / "catalog-overlay" / "systems.csv").is_file()
    rec = runner.invoke(app, ["recommend", "--budget", "2crore", "--gpus", "8", "--class",
                              "server", "--json"])
    assert rec.exit_code == 0, rec.output
    best = json.loads(rec.stdout)["builds"][0]
    assert best["complete_system"]["id"] == "tinybox-pro-v2"
    # the reseller's rupee quote, as quoted: no conversion, no landed estimate
    assert best["total_inr"] == 72_50_000
    system = best["complete_system"]
    assert system["price_basis"] == "quote" and "reseller.csv line 2" in system["price_source"]


def test_a_maker_part_number_the_catalog_lacks_does_not_empty_the_match(catalog):
    # "ZT-D40700E" is a number no catalog name has: the narrowing by the line's numbers finds no
    # part with all of them, so it narrows nothing, and the model words (4070) still decide
    line = imp.Line(2, "Zotac Gaming RTX 4070 Twin Edge ZT-D40700E-10M", 60_000.0, "INR", "gpus")
    m = imp.match_line(line, catalog)
    assert (m.kind, m.part_id, m.candidates) == ("gpus", "rtx-4070", ())
