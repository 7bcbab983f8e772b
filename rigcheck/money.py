"""Budgets and money: parse what people type, print rupees the Indian way.

Pure functions over plain numbers. Exchange rates come in as a mapping currency -> INR per unit
(``rigcheck.catalog.rate_table(catalog)``), so nothing here reads files or the network.

Indian numbering groups the last three digits, then pairs: ₹12,34,56,789. 1 lakh = 1,00,000 and
1 crore = 1,00,00,000 (Reserve Bank of India usage).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

LAKH = 100_000
CRORE = 10_000_000
# Above ₹100 crore nobody is buying one training machine; a figure this size is a typo.
MAX_BUDGET_INR = 100 * CRORE

ACCEPTED = ("use e.g. 125000INR, ₹1,25,000, Rs 125000, 1.25 lakh, 1.25L, 2 crore, $1500, "
            "1500USD, 1.5k USD, €1400 or 1400 EUR")

SYMBOLS = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}

# Words and symbols people put before or after the number -> ISO code.
_CURRENCY_WORDS = {
    "₹": "INR", "rs": "INR", "rs.": "INR", "inr": "INR", "rupee": "INR", "rupees": "INR",
    "$": "USD", "us$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD",
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR",
    "£": "GBP", "gbp": "GBP",
}
# Other ISO 4217 codes we recognise as currencies (so 12XYZ is a typo, but 12SGD asks for a rate).
_ISO_CODES = {"JPY", "CNY", "AUD", "CAD", "SGD", "AED", "CHF", "SEK", "NZD", "HKD", "KRW",
              "SAR", "MYR", "THB", "BDT", "LKR", "NPR", "ZAR", "TWD", "ILS"}
_MULTIPLIERS = {
    "k": 1_000, "thousand": 1_000,
    "l": LAKH, "lakh": LAKH, "lakhs": LAKH, "lac": LAKH, "lacs": LAKH, "lk": LAKH,
    "cr": CRORE, "crore": CRORE, "crores": CRORE,
    "m": 1_000_000, "mn": 1_000_000, "million": 1_000_000,
}
# "1.25 lakh" is rupees whatever --currency says: lakh and crore are Indian units.
_INR_ONLY_MULTIPLIERS = frozenset({"l", "lakh", "lakhs", "lac", "lacs", "lk", "cr", "crore",
                                   "crores"})
_CUR = r"(?:₹|rs\.?|us\$|\$|€|£|[a-z]{3,7})"
_BUDGET = re.compile(
    rf"(?P<pre>{_CUR})?\s*(?P<num>[0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+)\s*"
    r"(?P<mult>k|thousand|lakhs?|lacs?|lk|l|crores?|cr|mn|million|m)?\.?\s*"
    rf"(?P<post>{_CUR})?(?:\s*/-)?"
)
# Commas must group digits the Indian (1,25,000) or the Western (125,000) way.
_GROUPED = re.compile(r"\d{1,3}(,\d{3})+|\d{1,2}(,\d{2})*,\d{3}")


class MoneyError(ValueError):
    """An amount, rate or currency that cannot be used; the message is one line."""


class BudgetError(MoneyError):
    """A budget that cannot be understood."""


@dataclass(frozen=True)
class Budget:
    amount_inr: float    # what the recommender compares against
    amount: float        # in the currency the user typed
    currency: str        # ISO code: "INR", "USD", "EUR"
    text: str            # exactly what was typed, for messages


def _currency(word: str | None) -> str | None:
    if word is None:
        return None
    code = _CURRENCY_WORDS.get(word)
    if code is None and word.upper() in _ISO_CODES:  # pragma: no mutate (equivalent)
        code = word.upper()
    return code


def parse_budget(text: str, rates: Mapping[str, float], default_currency: str = "INR") -> Budget:
    """``'₹1,25,000'``, ``'1.25 lakh'``, ``'$1500'``, ``'1400 EUR'`` ... -> :class:`Budget`.

    ``rates`` maps a currency code to INR per unit. A bare number is in ``default_currency``
    (the ``--currency`` the user gave: ``--budget 1500 --currency USD`` is $1,500); a symbol or
    code in the text wins; lakh and crore are always rupees. Raises
    :class:`BudgetError` with a one-line message saying what is accepted.
    """
    typed = text
    # Any script's decimal digits count (Devanagari १२५०००, full-width １２５０００): the regex
    # below only knows ASCII, and float() would take them anyway.
    ascii_digits = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch
                           for ch in str(text))
    cleaned = " ".join(ascii_digits.strip().lower().split())
    match = _BUDGET.fullmatch(cleaned)

    def bad(why: str = "is not an amount of money") -> BudgetError:
        return BudgetError(f"budget {typed!r} {why}; {ACCEPTED}")

    if cleaned.startswith("-") or cleaned.lstrip("₹$€£rs. ").startswith("-"):
        raise bad("must be more than zero")
    if not cleaned or match is None:  # pragma: no mutate (equivalent)
        raise bad()
    pre, post = _currency(match["pre"]), _currency(match["post"])
    if (match["pre"] and pre is None) or (match["post"] and post is None):
        raise bad()
    if pre and post and pre != post:
        raise bad(f"names two currencies ({pre} and {post})")
    number = match["num"]
    if "," in number:
        whole = number.split(".")[0]
        if not _GROUPED.fullmatch(whole):
            raise bad("has misplaced commas")
        number = number.replace(",", "")
    currency = pre or post or ("INR" if match["mult"] in _INR_ONLY_MULTIPLIERS
                               else default_currency.strip().upper() or "INR")
    amount = float(Decimal(number) * _MULTIPLIERS.get(match["mult"] or "", 1))  # pragma: no mutate
    if amount <= 0:
        raise bad("must be more than zero")
    rate = 1.0 if currency == "INR" else rates.get(currency)
    if rate is None:
        raise BudgetError(f"budget {typed!r}: no exchange rate for {currency}; add one with "
                          f"--rate {currency}=<INR per {currency}> (e.g. --rate USD=88.5)")
    amount_inr = amount * rate
    if amount_inr < 1:
        raise bad("is less than one rupee")
    if amount_inr > MAX_BUDGET_INR:
        raise bad(f"is more than {format_inr(MAX_BUDGET_INR)} ({format_lakh(MAX_BUDGET_INR)}), "
                  "surely a typo")
    return Budget(amount_inr=amount_inr, amount=amount, currency=currency, text=typed)


def parse_rate(text: str) -> tuple[str, float]:
    """``'USD=88.5'`` (INR per one USD) -> ``('USD', 88.5)``; raises :class:`MoneyError`."""
    match = re.fullmatch(r"\s*([A-Za-z]{3})\s*=\s*([0-9]+(?:\.[0-9]+)?)\s*", str(text))
    if match is None:
        raise MoneyError(f"--rate {text!r} is not CUR=INR_PER_UNIT; use e.g. --rate USD=88.5")
    code, value = match[1].upper(), float(match[2])
    if code == "INR":
        raise MoneyError(f"--rate {text!r}: INR is the base currency; give another currency")
    if not 0 < value <= 100_000:
        raise MoneyError(f"--rate {text!r}: INR per {code} must be above 0 and at most 100000")
    return code, value


def _round_whole(amount: float) -> int:
    # Half-up, not Python's banker's rounding: ₹0.5 shows as ₹1 the way a shop rounds.
    return int(Decimal(repr(float(amount))).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def group_indian(whole: int) -> str:
    """``12345678`` -> ``'1,23,45,678'``."""
    digits = str(abs(whole))
    head, tail = digits[:-3], digits[-3:]
    pairs: list[str] = []
    while head:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    return ("-" if whole < 0 else "") + ",".join([*pairs, tail])


def format_inr(amount: float) -> str:
    """Whole rupees with Indian digit grouping: ``125000`` -> ``'₹1,25,000'``."""
    whole = _round_whole(amount)
    sign = "-" if whole < 0 else ""
    return f"{sign}₹{group_indian(abs(whole))}"


def format_lakh(amount_inr: float) -> str:
    """Short form: ``125000`` -> ``'₹1.25 L'``, ``25000000`` -> ``'₹2.5 Cr'``; below a lakh as
    :func:`format_inr`."""
    # Decide the unit on the figure as shown: ₹99,99,999.9 prints as 100.00 lakh, i.e. ₹1 Cr.
    whole = _round_whole(amount_inr)
    if round(abs(whole) / LAKH, 2) >= 100:
        unit, scale = "Cr", CRORE
    elif abs(whole) >= LAKH:
        unit, scale = "L", LAKH
    else:
        return format_inr(amount_inr)
    short = f"{whole / scale:.2f}".rstrip("0").rstrip(".")
    return f"₹{short} {unit}" if not short.startswith("-") else f"-₹{short[1:]} {unit}"


def landed_multiplier(bcd_pct: float, sws_pct: float, igst_pct: float, margin_pct: float
                      ) -> float:
    """What one rupee of foreign price (converted at the rate) costs at an Indian counter.

    Basic customs duty on the assessable value, the social welfare surcharge as a percentage of
    that duty (Finance Act 2018, s. 110), the channel margin on the duty-paid cost, and IGST/GST on
    the whole (GST is charged on the value including duties: IGST Act s. 5 with Customs Tariff Act
    s. 3(7)). ``catalog/README.md`` ("landed.csv") gives the formula and the sources of each rate.
    """
    for name, pct in (("bcd", bcd_pct), ("sws", sws_pct), ("igst", igst_pct),
                      ("margin", margin_pct)):
        if not pct >= 0:
            raise MoneyError(f"landed factor {name} {pct!r}: give a percentage of 0 or more")
    duty = 1.0 + bcd_pct / 100.0 * (1.0 + sws_pct / 100.0)
    return duty * (1.0 + margin_pct / 100.0) * (1.0 + igst_pct / 100.0)


def convert(amount_inr: float, currency: str, rates: Mapping[str, float]) -> float:
    """INR -> ``currency`` with ``rates`` (INR per unit); raises :class:`MoneyError`."""
    code = currency.upper()
    if code == "INR":
        return float(amount_inr)
    rate = rates.get(code)
    if not rate:
        raise MoneyError(f"no exchange rate for {code}; add one with --rate {code}=<INR per "
                         f"{code}>")
    return amount_inr / rate


def format_amount(amount: float, currency: str) -> str:
    """An amount already in ``currency``: INR Indian-grouped, others whole units with Western
    grouping (``'$1,366'``, ``'€1,250'``, ``'SGD 1,600'``)."""
    code = currency.upper()
    if code == "INR":
        return format_inr(amount)
    whole = _round_whole(amount)
    sign = "-" if whole < 0 else ""
    symbol = SYMBOLS.get(code)
    body = f"{abs(whole):,}"
    return f"{sign}{symbol}{body}" if symbol else f"{sign}{code} {body}"


def format_money(amount_inr: float, currency: str, rates: Mapping[str, float]) -> str:
    """An INR amount shown in ``currency`` (see :func:`format_amount`); raises
    :class:`MoneyError` when there is no rate for it."""
    return format_amount(convert(amount_inr, currency, rates), currency)
