"""Cost estimates from the tokens a provider reports.

Prices move: the table holds list prices (US dollars per million input and output tokens) of a
few models as published by their providers, matched by the start of the model's name, and
``--price IN,OUT`` overrides it. A model not in the table (a local one, a new one) gets no
estimate rather than a wrong one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok) / 1e6


# (provider, model name prefix) -> price; the longest matching prefix wins.
LIST_PRICES: dict[tuple[str, str], Price] = {
    ("anthropic", "claude-sonnet"): Price(3.0, 15.0),
    ("anthropic", "claude-3-5-sonnet"): Price(3.0, 15.0),
    ("anthropic", "claude-3-7-sonnet"): Price(3.0, 15.0),
    ("anthropic", "claude-haiku-4"): Price(1.0, 5.0),
    ("anthropic", "claude-3-5-haiku"): Price(0.8, 4.0),
    ("openai-compatible", "gpt-4o-mini"): Price(0.15, 0.6),
    ("openai-compatible", "gpt-4o"): Price(2.5, 10.0),
}


def parse_price(text: str) -> Price:
    """``"3,15"`` -> 3 $ per million input tokens, 15 per million output tokens."""
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 2 or any(not v >= 0 for v in values):
        raise ValueError(
            f"--price must be INPUT,OUTPUT in dollars per million tokens (e.g. 3,15), got {text!r}"
        )
    return Price(values[0], values[1])


def list_price(model: str) -> Price | None:
    """The list price of ``provider:model``, or None when unknown (or a replay)."""
    provider, _, name = model.partition(":")
    best: tuple[int, Price] | None = None
    for (known_provider, prefix), price in LIST_PRICES.items():
        matches = provider == known_provider and name.startswith(prefix)
        if matches and (best is None or len(prefix) > best[0]):
            best = (len(prefix), price)
    return best[1] if best else None
