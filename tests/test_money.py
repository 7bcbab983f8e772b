"""Budget parsing, rate parsing and money formatting (rigcheck.money)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rigcheck import money
from rigcheck.money import (
    MAX_BUDGET_INR,
    BudgetError,
    MoneyError,
    format_inr,
    format_lakh,
    format_money,
    group_indian,
    parse_budget,
    parse_rate,
)

RATES = {"USD": 88.0, "EUR": 100.0}


@pytest.mark.parametrize(
    ("text", "amount_inr", "amount", "currency"),
    [
        ("125000INR", 125000, 125000, "INR"),
        ("125000 INR", 125000, 125000, "INR"),
        ("₹1,25,000", 125000, 125000, "INR"),
        ("Rs 125000", 125000, 125000, "INR"),
        ("Rs. 1,25,000", 125000, 125000, "INR"),
        ("rs.1,25,000/-", 125000, 125000, "INR"),
        ("INR 125000", 125000, 125000, "INR"),
        ("1.25 lakh", 125000, 125000, "INR"),
        ("1.25L", 125000, 125000, "INR"),
        ("5lakh", 500000, 500000, "INR"),
        ("5 lakhs", 500000, 500000, "INR"),
        ("2 crore", 20_000_000, 20_000_000, "INR"),
        ("2cr", 20_000_000, 20_000_000, "INR"),
        ("125000", 125000, 125000, "INR"),
        ("125,000", 125000, 125000, "INR"),
        ("  125000  ", 125000, 125000, "INR"),
        ("$1500", 132000, 1500, "USD"),
        ("1500USD", 132000, 1500, "USD"),
        ("USD 1500", 132000, 1500, "USD"),
        ("1.5k USD", 132000, 1500, "USD"),
        ("$1.5k", 132000, 1500, "USD"),
        ("$1,500", 132000, 1500, "USD"),
        ("€1400", 140000, 1400, "EUR"),
        ("1400 EUR", 140000, 1400, "EUR"),
        ("1400 euro", 140000, 1400, "EUR"),
    ],
)
def test_parse_budget_accepts_what_people_type(text, amount_inr, amount, currency):
    budget = parse_budget(text, RATES)
    assert budget.amount_inr == pytest.approx(amount_inr)
    assert budget.amount == pytest.approx(amount)
    assert budget.currency == currency
    assert budget.text == text


@pytest.mark.parametrize(
    "text",
    ["abc", "-5", "0", "0.0", "12XYZ", "1.2.3", "", "   ", "nan", "inf", "-inf", "1e5",
     "1,2,3", "12,34", "₹", "lakh", "$-5", "₹100 USD", "5 lakh lakh", "10000000000",
     "2000 crore", "0.1"],
)
def test_parse_budget_rejects_with_one_line_listing_accepted_forms(text):
    with pytest.raises(BudgetError) as info:
        parse_budget(text, RATES)
    message = str(info.value)
    assert "\n" not in message
    assert repr(text) in message
    assert "1.25 lakh" in message and "$1500" in message


def test_negative_budget_says_it_must_be_positive():
    with pytest.raises(BudgetError, match="more than zero"):
        parse_budget("-5", RATES)


def test_absurd_budget_is_rejected_but_the_limit_itself_is_fine():
    assert parse_budget("100 crore", RATES).amount_inr == MAX_BUDGET_INR
    with pytest.raises(BudgetError, match="typo"):
        parse_budget("101 crore", RATES)


def test_currency_without_rate_names_the_currency():
    with pytest.raises(BudgetError, match=r"no exchange rate for SGD.*--rate SGD="):
        parse_budget("1500 SGD", RATES)
    with pytest.raises(BudgetError, match="no exchange rate for USD"):
        parse_budget("$1500", {})
    assert parse_budget("1500 SGD", {**RATES, "SGD": 66.0}).amount_inr == pytest.approx(99000)


def test_rate_override_changes_conversion():
    assert parse_budget("$1000", {"USD": 90.5}).amount_inr == pytest.approx(90500)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("USD=88.5", ("USD", 88.5)), ("eur=100", ("EUR", 100.0)), (" GBP = 111.2 ", ("GBP", 111.2))],
)
def test_parse_rate(text, expected):
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["USD", "USD=", "USD=abc", "USD=-1", "USD=0", "=88", "US=88",
                                  "INR=1", "USD=nan", "USD=1e9", "USD:88"])
def test_parse_rate_rejects(text):
    with pytest.raises(MoneyError) as info:
        parse_rate(text)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("amount", "text"),
    [(0, "₹0"), (5, "₹5"), (999, "₹999"), (1000, "₹1,000"), (99999, "₹99,999"),
     (125000, "₹1,25,000"), (1234567, "₹12,34,567"), (123456789, "₹12,34,56,789"),
     (125000.4, "₹1,25,000"), (125000.5, "₹1,25,001"), (0.5, "₹1"), (-1500, "-₹1,500")],
)
def test_format_inr_indian_grouping(amount, text):
    assert format_inr(amount) == text


def test_format_lakh_short_forms():
    assert format_lakh(125000) == "₹1.25 L"
    assert format_lakh(500000) == "₹5 L"
    assert format_lakh(150000) == "₹1.5 L"
    assert format_lakh(25_000_000) == "₹2.5 Cr"
    assert format_lakh(99_999) == "₹99,999"


@pytest.mark.parametrize(("amount", "text"), [
    (9_999_999.9, "₹1 Cr"),      # 99.99999 L rounds to 100 L: that is a crore
    (9_999_600, "₹1 Cr"),
    (9_994_999, "₹99.95 L"),
    (99_999.6, "₹1 L"),          # whole rupees first: ₹1,00,000 is a lakh
    (-9_999_999.9, "-₹1 Cr"),
])
def test_format_lakh_rounding_moves_to_the_next_unit(amount, text):
    assert format_lakh(amount) == text


@pytest.mark.parametrize(("text", "amount_inr"), [
    ("₹१,२५,०००", 125000),       # Devanagari digits, as typed on an Indian-language keyboard
    ("१.२५ लाख", None),         # the Hindi word for lakh is not understood (one-line error)
    ("１２５０００", 125000),     # full-width digits (Japanese/Chinese IME)
])
def test_parse_budget_unicode_digits(text, amount_inr):
    if amount_inr is None:
        with pytest.raises(BudgetError, match="is not an amount of money"):
            parse_budget(text, RATES)
    else:
        assert parse_budget(text, RATES).amount_inr == amount_inr


def test_format_money_other_currencies():
    assert format_money(120200, "USD", {"USD": 88.0}) == "$1,366"
    assert format_money(125000, "EUR", RATES) == "€1,250"
    assert format_money(125000, "inr", RATES) == "₹1,25,000"
    assert format_money(99000, "SGD", {"SGD": 66.0}) == "SGD 1,500"
    with pytest.raises(MoneyError, match="GBP"):
        format_money(1000, "GBP", RATES)


@given(st.integers(min_value=1, max_value=MAX_BUDGET_INR))
def test_format_inr_round_trips_through_parse_budget(value):
    text = format_inr(value)
    assert parse_budget(text, RATES).amount_inr == value
    # Western grouping of the same number parses to the same value.
    assert parse_budget(f"{value:,}", RATES).amount_inr == value


@given(st.integers(min_value=0, max_value=10**15))
def test_group_indian_digits_unchanged_and_groups_well_formed(value):
    text = group_indian(value)
    assert int(text.replace(",", "")) == value
    groups = text.split(",")
    assert len(groups[-1]) == (3 if value >= 1000 else len(str(value)))
    assert all(len(g) == 2 for g in groups[1:-1])
    assert 1 <= len(groups[0]) <= (2 if value >= 1000 else 3)


@given(st.integers(min_value=1, max_value=1_000_000))
def test_format_money_usd_round_trips(dollars):
    rates = {"USD": 88.0}
    text = format_money(dollars * 88.0, "USD", rates)
    assert parse_budget(text, rates).amount == dollars


# A bare number takes the --currency given (issue 12): `--budget 1500 --currency USD` is $1,500.
@pytest.mark.parametrize("text, default, currency, inr", [
    ("1500", "USD", "USD", 1500 * 90.0),
    ("1500", "usd", "USD", 1500 * 90.0),
    ("1500", "INR", "INR", 1500.0),
    ("₹1500", "USD", "INR", 1500.0),          # a symbol in the text wins
    ("1500 EUR", "USD", "EUR", 1500 * 100.0),
    ("1.25 lakh", "USD", "INR", 125000.0),    # lakh and crore are rupees
    ("1.5k", "USD", "USD", 1500 * 90.0),
])
def test_bare_budget_number_takes_the_default_currency(text, default, currency, inr):
    from rigcheck.money import parse_budget as pb

    b = pb(text, {"USD": 90.0, "EUR": 100.0}, default_currency=default)
    assert b.currency == currency and b.amount_inr == pytest.approx(inr)


# ----- landed cost ------------------------------------------------------------------------------

@pytest.mark.parametrize("bcd, sws, igst, margin, expected", [
    (0, 0, 0, 0, 1.0),
    (0, 10, 18, 0, 1.18),            # no duty: the surcharge on it is nothing
    (10, 10, 18, 0, 1.11 * 1.18),    # 10% BCD + 10% of it as SWS = 11%, then GST on top
    (20, 10, 18, 15, 1.22 * 1.15 * 1.18),
    (0, 0, 28, 25, 1.25 * 1.28),
])
def test_landed_multiplier_by_hand(bcd, sws, igst, margin, expected):
    assert money.landed_multiplier(bcd, sws, igst, margin) == pytest.approx(expected)


@pytest.mark.parametrize("bad", [(-1, 0, 0, 0), (0, -0.1, 0, 0), (0, 0, float("nan"), 0),
                                 (0, 0, 0, -5)])
def test_landed_multiplier_rejects_negative_or_nan(bad):
    with pytest.raises(money.MoneyError, match="landed factor"):
        money.landed_multiplier(*bad)


def test_landed_multiplier_accepts_zero_exactly():
    assert money.landed_multiplier(0.0, 0.0, 0.0, 0.0) == 1.0


def test_a_bare_number_takes_the_default_currency():
    rates = {"USD": 90.0}
    assert money.parse_budget("1500", rates, default_currency="USD").amount_inr == 135000
    assert money.parse_budget("₹1500", rates, default_currency="USD").amount_inr == 1500
    assert money.parse_budget("1500", rates).amount_inr == 1500


# ----- boundaries the mutation run found unpinned -------------------------------------------------

@pytest.mark.parametrize("text, inr", [("1 crore", 10_000_000), ("1.5k", 1_500),
                                       ("2 thousand", 2_000), ("2m", 2_000_000),
                                       ("2mn", 2_000_000), ("2 million", 2_000_000),
                                       ("$500 USD", 45_000)])
def test_multipliers_exactly(text, inr):
    assert money.parse_budget(text, {"USD": 90.0}).amount_inr == inr


@pytest.mark.parametrize("text, why", [("-500", "must be more than zero"),
                                       ("₹-500", "must be more than zero"),
                                       ("0", "must be more than zero"),
                                       ("abc 500", "is not an amount"),
                                       ("$500 EUR", "names two currencies")])
def test_budget_errors_exactly(text, why):
    with pytest.raises(money.BudgetError, match=why):
        money.parse_budget(text, {"USD": 90.0, "EUR": 100.0})


def test_an_empty_default_currency_is_inr():
    assert money.parse_budget("500", {}, default_currency="").amount_inr == 500


def test_budget_is_frozen():
    b = money.parse_budget("500", {})
    with pytest.raises(AttributeError):
        b.amount_inr = 1  # type: ignore[misc]


@pytest.mark.parametrize("text, ok", [("USD=0.5", True), ("USD=100000", True),
                                      ("USD=100000.5", False), ("USD=0", False)])
def test_rate_bounds(text, ok):
    if ok:
        assert money.parse_rate(text)[1] == float(text.split("=")[1])
    else:
        with pytest.raises(money.MoneyError, match="above 0 and at most 100000"):
            money.parse_rate(text)


def test_negative_and_zero_amounts_print_right():
    assert money.group_indian(-1234567) == "-12,34,567"
    assert money.format_amount(-1500, "USD") == "-$1,500"
    assert money.format_amount(0, "USD") == "$0"
    assert money.format_amount(0.4, "EUR") == "€0"
