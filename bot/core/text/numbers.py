"""Number words in one place: the scale words after a figure ("2.7 billion", "2.7bn") and currency names.

The fact checks (``bot.verify.facts``) and the contradiction rules read amounts with these,
so "$2.7 billion" and "2.7bn dollars" are the same value everywhere.
"""

from __future__ import annotations

SCALES: dict[str, float] = {
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "m": 1e6,
    "mn": 1e6,
    "billion": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "trillion": 1e12,
    "tn": 1e12,
}
CURRENCIES: dict[str, str] = {"$": "USD", "€": "EUR", "£": "GBP", "dollars": "USD", "euros": "EUR", "pounds": "GBP"}
