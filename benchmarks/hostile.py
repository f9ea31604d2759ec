"""The hostile-input campaign: how many inputs each area handles.

    python -m benchmarks.hostile               # every area under tests/hostile/
    python -m benchmarks.hostile fetch files   # some areas
    python -m benchmarks.hostile --detail      # also per kind of input (test function)
    python -m benchmarks.hostile -k "not 4gib" # only cases matching a pytest -k expression
    python -m benchmarks.hostile --list        # the areas there are

An area is a test module ``tests/hostile/test_<area>.py``; each collected case
(every parametrization) is one input or fault with an asserted outcome. A
passing case is *handled* (the input got its right result or a clear one-line
error, nothing forbidden was contacted, nothing else was lost); a failing or
erroring case is *not handled*; skipped cases are counted apart. Adding an area
is adding a module there; nothing here changes. Exit status 1 when any input
is not handled.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
CAMPAIGN = REPO / "tests" / "hostile"
HANDLED, NOT_HANDLED, SKIPPED = "handled", "not handled", "skipped"


def areas() -> list[str]:
    return sorted(path.stem.removeprefix("test_") for path in CAMPAIGN.glob("test_*.py"))


def _area_and_kind(nodeid: str) -> tuple[str, str]:
    module, _, function = nodeid.partition("::")
    kind = function.split("[", 1)[0].removeprefix("test_")
    return Path(module).stem.removeprefix("test_"), kind


class Tally:
    """A pytest plugin that records one outcome per case."""

    def __init__(self) -> None:
        self.outcomes: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: Any) -> None:
        nodeid = str(report.nodeid)
        if report.failed:
            self.outcomes[nodeid] = NOT_HANDLED
        elif report.skipped and report.when in ("setup", "call"):
            self.outcomes.setdefault(nodeid, SKIPPED)
        elif report.when == "call" and report.passed:
            self.outcomes.setdefault(nodeid, HANDLED)

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:  # a module that does not even import: every case in it is unhandled
            self.outcomes[str(report.nodeid) or "collection"] = NOT_HANDLED


def _table(rows: list[tuple[str, Counter[str]]], label: str) -> list[str]:
    width = max([len(label), *(len(name) for name, _ in rows)])
    lines = [f"{label:<{width}}  {'inputs':>6}  {HANDLED:>7}  {NOT_HANDLED:>11}  {SKIPPED:>7}"]
    for name, counts in rows:
        total = sum(counts.values())
        lines.append(
            f"{name:<{width}}  {total:>6}  {counts[HANDLED]:>7}  {counts[NOT_HANDLED]:>11}  {counts[SKIPPED]:>7}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("areas", nargs="*", help=f"areas to run (default: all of {', '.join(areas())})")
    parser.add_argument("--detail", action="store_true", help="also count per kind of input")
    parser.add_argument("-k", dest="keyword", help="only the cases matching this pytest -k expression")
    parser.add_argument("--list", action="store_true", help="list the areas and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(areas()))
        return 0
    unknown = sorted(set(args.areas) - set(areas()))
    if unknown:
        parser.error(f"no such area: {', '.join(unknown)} (there are: {', '.join(areas())})")
    chosen = args.areas or areas()
    paths = [str(CAMPAIGN / f"test_{area}.py") for area in chosen]
    if args.keyword:
        paths += ["-k", args.keyword]

    tally = Tally()
    started = time.perf_counter()
    code = pytest.main(["-q", "-p", "no:cacheprovider", "--rootdir", str(REPO), *paths], [tally])
    seconds = time.perf_counter() - started
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.NO_TESTS_COLLECTED):
        print(f"pytest could not run the campaign (exit code {int(code)})", file=sys.stderr)
        return 2

    by_area: dict[str, Counter[str]] = defaultdict(Counter)
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for nodeid, outcome in tally.outcomes.items():
        area, kind = _area_and_kind(nodeid)
        by_area[area][outcome] += 1
        by_kind[f"{area}: {kind}"][outcome] += 1
    total: Counter[str] = sum(by_area.values(), Counter())

    print()
    print(f"hostile-input campaign ({CAMPAIGN.relative_to(REPO)}), {seconds:.0f} s")
    print("\n".join(_table([*sorted(by_area.items()), ("total", total)], "area")))
    if args.detail:
        print()
        print("\n".join(_table(sorted(by_kind.items()), "kind of input")))
    missed = sorted(nodeid for nodeid, outcome in tally.outcomes.items() if outcome == NOT_HANDLED)
    if missed:
        print("\nnot handled:")
        print("\n".join(f"  {nodeid}" for nodeid in missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
