"""Money as Decimal + ISO 4217 currency.

Floats cannot represent cents exactly, and an integration that is a cent out is an integration
finance stops trusting; so every amount in ledgerlink is a `Money`, and mixing currencies is an error
rather than a silent conversion.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# Minor units per ISO 4217; currencies not listed use 2. Kept small on purpose: a currency that is
# not in ISO_CURRENCIES is rejected, which is what "unknown currency" means to finance.
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3}
ISO_CURRENCIES = frozenset(
    """AED AUD BHD BRL BWP CAD CHF CNY CZK DKK EGP EUR GBP GHS HKD HUF IDR ILS INR JPY KES KRW KWD
    LSL MUR MWK MXN MZN NAD NGN NOK NZD OMR PHP PKR PLN QAR RUB SAR SEK SGD SZL THB TND TRY TZS UGX
    USD ZAR ZMW""".split()
)


# No invoice, line or payment of a small business comes near a thousand trillion; a value that does
# is a typo or an attack. Refusing it keeps every amount's minor units inside the 64-bit integers
# that gates and stores compare, and Decimal arithmetic far from its 28-digit precision limit.
MAX_AMOUNT = Decimal(10) ** 15


class MoneyError(ValueError):
    """Raised for an amount or currency that cannot be money (NaN, text, unknown currency...)."""


def shown(value: object, limit: int = 40) -> str:
    """A value as an error message may quote it: its first `limit` characters, repr-escaped (so a
    newline or a control character cannot split or hijack the line a person reads)."""
    text = str(value)
    return repr(text[:limit]) + ("…" if len(text) > limit else "")


def to_decimal(value: object, what: str = "amount") -> Decimal:
    """Parse a vendor value (str, int, Decimal) into a finite Decimal; floats are refused."""
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError(f"{what} must not be a float or bool (got {shown(value)})")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, str)):
        text = str(value).strip().replace(" ", "")
        if not text:
            raise MoneyError(f"{what} is empty")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise MoneyError(f"{what} is not a number (got {shown(value)})") from None
    else:
        raise MoneyError(f"{what} has an unsupported type {type(value).__name__}")
    if not result.is_finite():
        raise MoneyError(f"{what} is not a finite number (got {shown(value)})")
    return result


def to_amount(value: object, what: str = "amount") -> Decimal:
    """`to_decimal`, also refusing a magnitude of MAX_AMOUNT or more (a typo or an attack, never money)."""
    result = to_decimal(value, what)
    if abs(result) >= MAX_AMOUNT:
        raise MoneyError(f"{what} has 16 or more digits before the decimal point, too many for money "
                         f"(got {shown(value)})")
    return result


def check_currency(code: object) -> str:
    """Return the upper-case ISO code, or raise MoneyError naming the bad value."""
    if not isinstance(code, str) or code.strip().upper() not in ISO_CURRENCIES:
        raise MoneyError(f"unknown currency {str(code)[:12]!r}")
    return code.strip().upper()


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)


def to_minor_units(amount: Decimal, currency: str | None, rounding: str = ROUND_HALF_UP) -> int:
    """Exact integer minor units (half-up) of any amount, even in a currency that is not (yet)
    known to be valid: gates and reconciliation compare cents, and judge the currency separately.
    An amount that is not finite or not below MAX_AMOUNT raises MoneyError."""
    if not amount.is_finite():
        raise MoneyError(f"{shown(amount)} is not a finite number")
    if abs(amount) >= MAX_AMOUNT:
        raise MoneyError(f"{shown(amount)} has 16 or more digits before the decimal point, too many for money")
    return int(amount.scaleb(minor_units(currency or "")).quantize(Decimal(1), rounding=rounding))


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_decimal(self.amount))
        object.__setattr__(self, "currency", check_currency(self.currency))

    @classmethod
    def of(cls, amount: object, currency: object) -> "Money":
        return cls(to_decimal(amount), check_currency(currency))

    @classmethod
    def zero(cls, currency: str) -> "Money":
        return cls(Decimal(0), currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> "Money":
        return cls(Decimal(minor).scaleb(-minor_units(check_currency(currency))), currency)

    def rounded(self) -> "Money":
        """Round half-up to the currency's minor unit, as accounting systems round line totals."""
        quantum = Decimal(1).scaleb(-minor_units(self.currency))
        return Money(self.amount.quantize(quantum, rounding=ROUND_HALF_UP), self.currency)

    def to_minor(self) -> int:
        """Exact integer minor units (cents) of the rounded amount."""
        return int(self.rounded().amount.scaleb(minor_units(self.currency)))

    def _same(self, other: "Money") -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: object) -> "Money":
        return Money(self.amount * to_decimal(factor, "factor"), self.currency)

    def __neg__(self) -> "Money":
        return Money(-self.amount, self.currency)

    def __lt__(self, other: "Money") -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: "Money") -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __str__(self) -> str:
        return f"{self.currency} {self.rounded().amount:,.{minor_units(self.currency)}f}"
