"""Publishing counts so that no small one can be worked out again (statistical disclosure control), for the
numbers that leave the service: the KLA pack (/statistik/kla and its CSV).

The rules:

1. **Small counts are hidden.** A count from 1 to 4 is not published (primary suppression): a small number in a
   small place can point to a child. 0 is published as 0, unless rule 3 needs it hidden.
2. **Sums are known.** Published counts are tied by sums anyone can use (`Relation`: a total and its parts): the
   forms of violence add up to the cases (as an outsider would assume), referrals by agency and by outcome are
   two splits of one set, sessions rated = safe to talk + not safe, check-ins sent = answered + not answered.
   Some counts in these sums are never published (all referrals, not safe, not answered); one of them from 1 to
   4 must not be worked out either.
3. **Complementary suppression.** While a hidden count, or a small unpublished one, can be worked out from what
   is shown (by one sum, by several together, or by the bounds: "<5" is 0 to 4, so two hidden parts that must
   add up to 8 are both 4), one more count of a sum it is in is hidden: the smallest one still shown (parts in
   their order, then the total), so a zero goes first. No sum is left with exactly one hidden count. Repeat
   until nothing hidden can be worked out.
4. **What is shown is true.** A hidden count is published as "<5" when it is below 5 (a hidden zero too) and as
   "5+" when it is 5 or more.

Whether a count can be worked out is found by narrowing ranges: each sum narrows each of its counts to what the
others leave, until nothing narrows any more; a hidden count whose range is a single value is given away. For
sums that share at most one count with one another, as the KLA pack's do, that finds exactly what can be worked
out (tests/statistics/test_disclosure.py checks it with a search over every whole number instead).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

SMALL = 5  # from 1 to SMALL - 1 a count is hidden
UNDER = "<5"
OVER = "5+"
_UNBOUNDED = float("inf")


@dataclass(frozen=True)
class Relation:
    """total = sum of parts, which an outsider can use to work a hidden count out."""

    total: str
    parts: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return (*self.parts, self.total)


def is_small(count: int) -> bool:
    return 0 < count < SMALL


def protect(counts: dict[str, int], relations: Iterable[Relation], unpublished: Collection[str] = ()) -> dict[str, str]:
    """Every published count (all of `counts` but `unpublished`) as it may be shown: the number, "<5" or "5+"."""
    relations = list(relations)
    hidden = {name for name, count in counts.items() if name not in unpublished and is_small(count)}
    secret_unpublished = {name for name in unpublished if is_small(counts[name])}
    for _round in range(len(counts) + 1):  # each round hides one more count, or stops
        ranges = _ranges(counts, hidden, unpublished, relations)
        given_away = [name for name in counts if name in hidden | secret_unpublished
                      and ranges[name][0] == ranges[name][1]]
        if not given_away:
            break
        shown = [name for relation in relations if given_away[0] in relation.names for name in relation.names
                 if name not in hidden and name not in unpublished]
        if not shown:
            break  # nothing left to hide in its sums (cannot happen with the pack's sums)
        hidden.add(min(shown, key=lambda name: counts[name]))
    return {name: ((UNDER if count < SMALL else OVER) if name in hidden else str(count))
            for name, count in counts.items() if name not in unpublished}


def _ranges(counts: dict[str, int], hidden: set[str], unpublished: Collection[str],
            relations: list[Relation]) -> dict[str, tuple[float, float]]:
    """What an outsider knows of each count: the published number, 0-4 for "<5", 5 or more for "5+", anything
    for an unpublished one; narrowed by the sums until nothing changes."""
    ranges: dict[str, tuple[float, float]] = {}
    for name, count in counts.items():
        if name in unpublished:
            ranges[name] = (0, _UNBOUNDED)
        elif name in hidden:
            ranges[name] = (0, SMALL - 1) if count < SMALL else (SMALL, _UNBOUNDED)
        else:
            ranges[name] = (count, count)
    for _round in range(1000):  # ranges only shrink; sums that feed each other endlessly are cut short
        changed = False
        for relation in relations:
            for name in relation.names:
                low, high = _narrowed(relation, name, ranges)
                # An empty range means the sum does not hold in these numbers (a case under two forms): an
                # outsider assuming it would be wrong, so it narrows nothing.
                if low <= high and (low, high) != ranges[name]:
                    ranges[name] = (low, high)
                    changed = True
        if not changed:
            break
    return ranges


def _narrowed(relation: Relation, name: str, ranges: dict[str, tuple[float, float]]) -> tuple[float, float]:
    """The range `name` has by this sum alone, within the range it had."""
    low, high = ranges[name]
    if name == relation.total:
        return max(low, sum(ranges[p][0] for p in relation.parts)), min(high, sum(ranges[p][1] for p in relation.parts))
    others = [p for p in relation.parts if p != name]
    total_low, total_high = ranges[relation.total]
    return (max(low, total_low - sum(ranges[p][1] for p in others)),
            min(high, total_high - sum(ranges[p][0] for p in others)))
