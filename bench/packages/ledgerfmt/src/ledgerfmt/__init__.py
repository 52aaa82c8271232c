"""ledgerfmt: exact money amounts and plain-text ledgers."""

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Iterable, Tuple, Union

__version__ = "0.4.0"
_CENT = Decimal("0.01")


class Money:
    """An amount rounded to cents with banker's rounding."""

    __slots__ = ("amount", "currency")

    def __init__(self, amount: Union[str, int, Decimal], currency: str = "EUR"):
        self.amount = Decimal(str(amount)).quantize(_CENT, rounding=ROUND_HALF_EVEN)
        self.currency = currency

    def __add__(self, other: "Money") -> "Money":
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money) and (self.amount, self.currency) == (other.amount, other.currency)

    def __repr__(self) -> str:
        return f"Money('{self.amount}', '{self.currency}')"

    def __str__(self) -> str:
        sign = "-" if self.amount < 0 else ""
        return f"{sign}{abs(self.amount):,.2f} {self.currency}"


def total(entries: Iterable[Tuple[str, Money]], currency: str = "EUR") -> Money:
    result = Money(0, currency)
    for _label, money in entries:
        result = result + money
    return result


def format_ledger(entries: Iterable[Tuple[str, Money]], width: int = 40) -> str:
    entries = list(entries)
    currency = entries[0][1].currency if entries else "EUR"
    lines = []
    for label, money in entries:
        amount = str(money)
        lines.append(f"{label[: width - len(amount) - 1]:<{width - len(amount)}}{amount}")
    lines.append("-" * width)
    amount = str(total(entries, currency))
    lines.append(f"{'TOTAL':<{width - len(amount)}}{amount}")
    return "\n".join(lines)
