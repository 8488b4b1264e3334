"""The interval a published wording allows: "80%" -> [79.5, 80.5], "8 of 10" -> [75, 85], "over half" -> (50, 100].

Each row of data/published/findings.csv names its rule in ``target_rule`` and stores the interval the rule gives
in ``target_low`` / ``target_high`` (tests/test_findings.py checks they agree). The rules, and why each reads a
wording as it does, are documented in data/published/README.md. An end is closed unless the wording excludes it
(``open_ends``: "over 7 of 10" is (70, 80], "nearly 3 of 10" is [25, 30)); a missing end (``above:1``, "more often")
is None.
"""

from __future__ import annotations

from fractions import Fraction

from .errors import FindingError

# Unit fractions people round "one in N" to: N is a round number, so its neighbours are the round numbers beside it.
ROUND_DENOMINATORS = (2, 3, 4, 5, 10, 15, 20, 25, 30, 40, 50, 100)
SIMPLE_DENOMINATOR = 5  # "two of three" is read against the fractions with denominators up to 5


def interval(rule: str, value: float | None,
             parts: tuple[tuple[float, float], tuple[float, float]] | None = None) -> tuple[float | None, float | None]:
    """(low, high) for ``value`` stated in the wording that ``rule`` names. A ``quotient`` is derived from two
    published figures, so it needs their intervals, ``parts`` = ((numerator low, high), (denominator low, high))."""
    name, _, arg = rule.partition(":")
    if name == "none":
        return (None, None)
    if name == "exact":
        return (value, value)
    if name == "round":  # a numeral rounded to its last stated digit: half a step either side
        step = float(arg)
        return (value - step / 2, value + step / 2)
    if name == "tenths":  # "8 of 10": a share rounded to the nearest tenth
        return (value - 5, value + 5)
    if name == "tenths-difference":  # "8 of 10 vs 7 of 10": the difference of two such shares
        return (value - 10, value + 10)
    if name == "tenths-gap":  # "8 of 10, against 7 of 10": as tenths-difference, and the first is the larger
        return (max(0.0, value - 10), value + 10)
    if name == "over-tenths":  # "over 7 of 10": above it, below the next tenth (else the writer says "8 of 10")
        return (value, value + 10)
    if name == "nearly-tenths":  # "nearly 3 of 10": below it, above the half-way point to the tenth before
        return (value - 5, value)
    if name == "over":  # "over half": anything above
        return (value, 100.0)
    if name == "above":  # "more often": a ratio above ``arg``, no upper bound
        return (float(arg), None)
    if name == "little-above":  # "lidt mere tilbøjelige", a little more inclined: above 1, below half as much again
        return (float(arg), float(arg) * 1.5)
    if name == "top":  # "især A og B": named among the first ``arg``, jointly
        return (1.0, float(arg))
    if name == "quotient":  # "256 mio. of 3,8 mia.": A/B in percent, as far as the rounding of A and B allows
        if parts is None:
            raise FindingError(f"target rule {rule!r} needs the intervals of the two figures it divides")
        (num_low, num_high), (den_low, den_high) = parts
        return (100 * num_low / den_high, 100 * num_high / den_low)
    if name == "fraction":  # "two of three": closer to k/n than to any neighbouring fraction with a small denominator
        return _between_neighbours(Fraction(arg), _fractions_up_to(SIMPLE_DENOMINATOR))
    if name == "one-in":  # "one in 20": closer to 1/20 than to 1/15 or 1/25
        return _between_neighbours(Fraction(1, int(arg)), sorted({Fraction(1, d) for d in ROUND_DENOMINATORS}))
    raise FindingError(f"unknown target rule {rule!r}; see data/published/README.md for the rules")


def quotient_parts(rule: str) -> tuple[str, str] | None:
    """The two findings a ``quotient:A/B`` rule divides, (A, B); None for any other rule."""
    name, _, arg = rule.partition(":")
    return tuple(arg.split("/", 1)) if name == "quotient" else None


def _fractions_up_to(denominator: int) -> list[Fraction]:
    return sorted({Fraction(k, d) for d in range(1, denominator + 1) for k in range(0, d + 1)})


def _between_neighbours(share: Fraction, ladder: list[Fraction]) -> tuple[float, float]:
    if share not in ladder:
        ladder = sorted({*ladder, share})
    i = ladder.index(share)
    low = (ladder[i - 1] + share) / 2 if i > 0 else share
    high = (ladder[i + 1] + share) / 2 if i + 1 < len(ladder) else share
    return (round(100 * float(low), 2), round(100 * float(high), 2))


# The ends a wording excludes: "over 7 of 10" is not 70, "nearly 3 of 10" not 30, a gap stated as 8 against 7 of 10
# is not 0, "a little more" is not equal.
OPEN_ENDS = {"over-tenths": (True, False), "nearly-tenths": (False, True), "over": (True, False),
             "above": (True, False), "little-above": (True, False), "tenths-gap": (True, False)}


def open_ends(rule: str) -> tuple[bool, bool]:
    """(low end excluded, high end excluded) for the interval ``rule`` gives."""
    return OPEN_ENDS.get(rule.partition(":")[0], (False, False))


def contains(low: float | None, high: float | None, value: float, rule: str = "") -> bool:
    """Whether ``value`` lies in the interval, its ends closed unless ``rule`` excludes them."""
    low_open, high_open = open_ends(rule)
    above = low is None or (value > low + 1e-9 if low_open else value >= low - 1e-9)
    below = high is None or (value < high - 1e-9 if high_open else value <= high + 1e-9)
    return bool(above and below)


def overlaps(low: float | None, high: float | None, ci: tuple[float, float]) -> bool:
    return bool((high is None or ci[0] <= high + 1e-9) and (low is None or ci[1] >= low - 1e-9))
