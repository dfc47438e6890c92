"""Price strings and currencies.

Amounts go through ``price-parser`` (it knows ``1 299,00 €``, ``12,5``,
``€49,95``...). Currencies come out as ISO 4217 codes, and only when the text
or the hint says so unambiguously: a bare ``$`` or ``kr`` stays None rather
than being guessed.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

from price_parser import Price

from crawler.extract.text import unescape

try:  # ISO codes known to price-parser; the module is private, so be defensive
    from price_parser._currencies import CURRENCY_CODES as _PRICE_PARSER_CODES
except ImportError:  # pragma: no cover
    _PRICE_PARSER_CODES = []

ISO_CODES = frozenset(_PRICE_PARSER_CODES) | {"EUR", "USD", "GBP", "CHF", "CAD", "AUD", "JPY", "PLN"}

# Symbols and words that name exactly one currency in practice.
_SYMBOLS = {
    "€": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "£": "GBP",
    "￡": "GBP",
    "us$": "USD",
    "us $": "USD",
    "u$s": "USD",
    "a$": "AUD",
    "au$": "AUD",
    "au $": "AUD",
    "ca$": "CAD",
    "cad$": "CAD",
    "can$": "CAD",
    "r$": "BRL",
    "nt$": "TWD",
    "mx$": "MXN",
    "rd$": "DOP",
    "j$": "JMD",
    "mop$": "MOP",
    "tt$": "TTD",
    "nz$": "NZD",
    "hk$": "HKD",
    "s$": "SGD",
    "zł": "PLN",
    "zl": "PLN",
    "kč": "CZK",
    "руб": "RUB",
    "руб.": "RUB",
    "р.": "RUB",
    "р": "RUB",
    "₽": "RUB",
    "грн": "UAH",
    "грн.": "UAH",
    "₴": "UAH",
    "hrn": "UAH",
    "lei": "RON",
    "leu": "RON",
    "ft": "HUF",
    "tl": "TRY",
    "₺": "TRY",
    "₪": "ILS",
    "nis": "ILS",
    "лв": "BGN",
    "лв.": "BGN",
    "₹": "INR",
    "kd": "KWD",
    "rm": "MYR",
    "rp": "IDR",
    "원": "KRW",
    "₩": "KRW",
    "円": "JPY",
    "yen": "JPY",
    "元": "CNY",
    "人民币": "CNY",
    "yuan": "CNY",
    "฿": "THB",
    "บาท": "THB",
    "fr.": "CHF",
    "sfr": "CHF",
    "đ": "VND",
    "₫": "VND",
    "vnđ": "VND",
    "kn": "HRK",
    "₱": "PHP",
    "₦": "NGN",
    "ksh": "KES",
    "kshs": "KES",
}
_PLAIN_DECIMAL = re.compile(r"^\s*\d+(?:\.\d+)?\s*$")


def normalise_currency(value: object) -> str | None:
    """ISO 4217 code for a declared currency (``"pln"``, ``"€"``, ``"EUR"``), else None."""
    if not isinstance(value, str):
        return None
    token = unescape(value).strip()
    if not token:
        return None
    if token.upper() in ISO_CODES and len(token) == 3 and token.isalpha():
        return token.upper()
    return _SYMBOLS.get(token.lower())


def parse_price(
    text: str | float | int | Decimal | None,
    currency_hint: str | None = None,
    decimal_separator: str | None = None,
) -> tuple[Decimal | None, str | None]:
    """Parse a price as written on a page into ``(amount, ISO currency)``.

    Numbers (JSON-LD often declares ``13.4`` as a number) are taken as they
    are; strings go through price-parser. Either part is None when absent.
    """
    if text is None or isinstance(text, bool):
        return None, normalise_currency(currency_hint)
    if isinstance(text, (int, float, Decimal)):
        if isinstance(text, float) and not math.isfinite(text):
            return None, normalise_currency(currency_hint)
        try:
            amount = Decimal(repr(text)) if isinstance(text, float) else Decimal(text)
        except (InvalidOperation, ValueError):
            amount = None
        return amount, normalise_currency(currency_hint)
    if not isinstance(text, str):
        return None, normalise_currency(currency_hint)
    if isinstance(currency_hint, str):
        currency_hint = unescape(currency_hint)
    elif currency_hint is not None:
        currency_hint = None
    try:
        price = Price.fromstring(unescape(text), currency_hint=currency_hint, decimal_separator=decimal_separator)
    except (InvalidOperation, ValueError, TypeError, OverflowError):
        return None, normalise_currency(currency_hint)
    amount = price.amount
    if amount is not None and not amount.is_finite():
        amount = None
    currency = normalise_currency(price.currency) or normalise_currency(currency_hint)
    return amount, currency


def parse_declared_price(value: object, currency_hint: str | None = None) -> tuple[Decimal | None, str | None]:
    """Price from structured data, where ``"1.299"`` means one point three.

    schema.org prices use a dot decimal separator, so a plain decimal string is
    read literally; anything else (``"26,00 €"``) is page text and is parsed.
    """
    if isinstance(value, str) and _PLAIN_DECIMAL.match(value):
        return Decimal(value.strip()), normalise_currency(currency_hint)
    if isinstance(value, (str, int, float, Decimal)) and not isinstance(value, bool):
        return parse_price(value, currency_hint)
    return None, normalise_currency(currency_hint)


def format_amount(amount: Decimal | None) -> str | None:
    """``Decimal`` to a dot-decimal string with at least two decimals (``"12.50"``)."""
    if amount is None or not amount.is_finite() or amount < 0:
        return None
    try:
        exponent = amount.as_tuple().exponent  # (an int: the amount is finite)
        if isinstance(exponent, int) and exponent >= -2:
            amount = amount.quantize(Decimal("0.01"))
    except InvalidOperation:  # more digits than the decimal context holds
        return None
    return format(amount, "f")
