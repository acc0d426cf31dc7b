"""Units of the prescription inputs, and the unit names a ``when`` expression may use (pint).

Every numeric input has a declared unit (see :data:`~addiction_index.prescriptions.INPUTS`).
A ``when`` expression may compare with plain numbers, read in the input's declared unit
(``resting_hr >= 90``: 90 bpm), or write units explicitly (``resting_hr >= 90 * bpm``,
``age >= 50 * years``, ``adherence < 70 * percent``). An expression that names any unit is
evaluated with the inputs as pint quantities, so a unit mismatch such as ``age > 100 * bpm`` or
a bare number next to a quantity (``age >= 50 * years and resting_hr > 90``) fails; the
load-time probe evaluates every expression and so refuses such a rule set with its file, line
and key. An expression that names no unit is evaluated with plain numbers, as before.

Scores (index, craving and their changes) have their own dimension, ``points``, so that
``index > 60 * percent`` is a mismatch rather than a silent comparison with 0.6.
"""

from __future__ import annotations

import math
import numbers
import operator
import threading
from functools import cache
from typing import Any

import pint

__all__ = ["ARITHMETIC", "UNIT_NAMES", "quantity", "registry", "unit_names"]

# name usable in a `when` expression -> pint unit it stands for (one of that unit).
UNIT_NAMES: dict[str, str] = {
    "bpm": "bpm",
    "ms": "millisecond",
    "minutes": "minute",
    "days": "day",
    "weeks": "week",
    "years": "year",
    "points": "points",
    "percent": "percent",
    "count": "count",
}


_REGISTRY: pint.UnitRegistry | None = None
_REGISTRY_LOCK = threading.Lock()


def registry() -> pint.UnitRegistry:
    """The package's unit registry: pint's defaults plus bpm, points and count.

    One per process, built once under a lock: rule sets are loaded from several threads at once
    in the web server (one per starting session), and quantities of two registries do not mix.
    """
    global _REGISTRY
    if _REGISTRY is None:
        with _REGISTRY_LOCK:
            if _REGISTRY is None:
                # "point" (pint: the typographic 1/72 inch) and "count" are deliberately redefined
                # as the 0-100 score point and a plain count; without on_redefinition pint logs a
                # warning each time.
                ureg = pint.UnitRegistry(on_redefinition="ignore")
                ureg.define("bpm = 1 / minute = beats_per_minute")
                ureg.define("points = [score] = point")  # 0-100 scores: index, craving, changes
                ureg.define("count = [] ")  # sessions: a plain number
                _REGISTRY = ureg
    return _REGISTRY


def quantity(value: float, unit: str) -> Any:
    """``value`` in ``unit`` as a pint quantity (units as in :data:`UNIT_NAMES`)."""
    return registry().Quantity(value, unit)


@cache  # safe: every thread builds the same names from the one registry
def unit_names() -> dict[str, Any]:
    """The unit names bound in expressions: each is one of its unit (``60 * bpm``)."""
    return {name: quantity(1, unit) for name, unit in UNIT_NAMES.items()}


def _is_quantity(value: Any) -> bool:
    return isinstance(value, registry().Quantity)


def _has_units(value: Any) -> bool:
    return _is_quantity(value) and not value.dimensionless


def _plain_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _arith(op: Any, symbol: str) -> Any:
    """Arithmetic on numbers and quantities only (no string or list repetition)."""

    def apply(a: Any, b: Any) -> Any:
        for side in (a, b):
            if not (_plain_number(side) or _is_quantity(side)):
                raise TypeError(f"'{symbol}' needs numbers, got {side!r}")
        return op(a, b)

    return apply


def _equality(op: Any) -> Any:
    """== and != refuse a quantity with units against a bare number (pint says False)."""

    def apply(a: Any, b: Any) -> Any:
        if (_has_units(a) and _plain_number(b)) or (_has_units(b) and _plain_number(a)):
            unit = a.units if _is_quantity(a) else b.units
            raise TypeError(
                f"compare a quantity in {unit} with a number with units, not a bare one"
            )
        return op(a, b)

    return apply


def _ordering(op: Any) -> Any:
    """Comparisons that convert units first and treat values within 1e-9 as equal.

    ``0.7 < 70 * percent`` is False (pint alone gives 0.7 < 0.7000000000000001).
    """

    def apply(a: Any, b: Any) -> Any:
        if not (_is_quantity(a) or _is_quantity(b)):
            return op(a, b)
        if _is_quantity(a) and _is_quantity(b):
            b = b.to(a.units)  # DimensionalityError on a unit mismatch
            x, y = a.magnitude, b.magnitude
        elif _has_units(a) or _has_units(b):
            unit = a.units if _has_units(a) else b.units
            raise TypeError(f"Cannot compare a quantity in {unit} with a number without a unit")
        else:  # a dimensionless quantity and a number
            x = a.to("dimensionless").magnitude if _is_quantity(a) else a
            y = b.to("dimensionless").magnitude if _is_quantity(b) else b
        if (
            _plain_number(x)
            and _plain_number(y)
            and math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
        ):
            y = x
        return op(x, y)

    return apply


ARITHMETIC = {
    "Add": _arith(operator.add, "+"),
    "Sub": _arith(operator.sub, "-"),
    "Mult": _arith(operator.mul, "*"),
    "Div": _arith(operator.truediv, "/"),
    "Eq": _equality(_ordering(operator.eq)),
    "NotEq": _equality(_ordering(operator.ne)),
    "Lt": _ordering(operator.lt),
    "LtE": _ordering(operator.le),
    "Gt": _ordering(operator.gt),
    "GtE": _ordering(operator.ge),
}
