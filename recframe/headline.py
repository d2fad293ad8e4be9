"""The answer first: per headline metric, the winner (model and k), the models tied with
it, and every other model's paired difference from it with its confidence interval.

The headline metrics are the selection metrics when configurations were chosen on
validation data, else the first rating and the first ranking metric. "Tied" means the
paired per-user test against the winner (the leaderboard's, Holm-corrected) did not
reject: the same pairs as the interval of the difference, so the two always agree in
spirit, unlike the fold intervals beside each mean, which ignore the pairing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from recframe.board_text import arrow, interval_text, k_text, p_text, shown_k, slug, value_text
from recframe.leaderboard import Leaderboard, MetricInfo
from recframe.significance import TEST_NAMES
from recframe.tables import Table

REASONS = {"unavailable": "cannot produce it", "failed": "its cells failed"}


@dataclass(frozen=True)
class Standing:
    """One model's place in a headline; ``difference`` is model minus winner (per-user
    paired mean), NaN with its interval and p when the test could not run."""

    model: str
    k: str
    value: float
    difference: float
    ci_low: float
    ci_high: float
    p_holm: float
    tied: bool

    @property
    def tested(self) -> bool:
        return not math.isnan(self.p_holm)

    def k_label(self) -> str:
        return f"k={self.k}" if self.k not in ("", "–") else ""


@dataclass(frozen=True)
class Headline:
    metric: MetricInfo
    winner: Standing
    others: list[Standing]
    #: (model, reason) of models not ranked by this metric
    excluded: list[tuple[str, str]]
    test: str
    alpha: float

    @property
    def tied(self) -> list[Standing]:
        return [s for s in self.others if s.tied]

    def verdict(self, standing: Standing) -> str:
        """``best``, ``tied``, ``worse``, ``better per user`` (the paired mean can disagree
        with the fold means) or ``untested``."""
        if standing is self.winner:
            return "best"
        if not standing.tested:
            return "untested"
        if standing.tied:
            return "tied"
        worse = standing.difference < 0 if self.metric.higher_is_better else standing.difference > 0
        return "worse" if worse else "better per user"

    def sentence(self) -> str:
        """One line: the winner, who is tied with it, and what the others are."""
        winner = self.winner
        k = f" ({winner.k_label()})" if winner.k_label() else ""
        text = f"By {self.metric.label} {arrow(self.metric)}: {winner.model}{k} is best, {value_text(winner.value)}"
        if not self.others:
            return f"{text} (the only model ranked).{self.excluded_text()}"
        tied = [s.model for s in self.tied]
        untested = [s.model for s in self.others if not s.tested]
        worse = [s.model for s in self.others if self.verdict(s) == "worse"]
        parts = [f"tied with it: {', '.join(tied)}" if tied else "no model is tied with it"]
        if worse:
            parts.append(f"significantly worse: {'all others' if len(worse) == len(self.others) else ', '.join(worse)}")
        if untested:
            parts.append(f"not tested (no per-user values): {', '.join(untested)}")
        return f"{text}; {'; '.join(parts)}.{self.excluded_text()}"

    def excluded_text(self) -> str:
        """`` Not ranked: a, b (cannot produce it).``, grouped by reason; empty when none."""
        reasons: dict[str, list[str]] = {}
        for model, reason in self.excluded:
            reasons.setdefault(reason, []).append(model)
        listed = "; ".join(f"{', '.join(models)} ({reason})" for reason, models in reasons.items())
        return f" Not ranked: {listed}." if listed else ""

    def note(self) -> str:
        """How to read the headline's columns."""
        return (
            f"Δ: mean per-user difference from the best (model − best) with its 95% t-interval; tied: "
            f"{TEST_NAMES.get(self.test, self.test)} test on the same per-user pairs, Holm-corrected, not significant "
            f"at α = {self.alpha:g}. The ± beside each value is the 95% t-interval over folds, which ignores the "
            "pairing and is wider."
        )


def headline_metrics(board: Leaderboard) -> list[MetricInfo]:
    """The selection metrics (validation selection), else the first rating and first ranking metric."""
    if board.selection == "validation" and not board.choices.empty:
        scored = set(board.choices.loc[board.choices["validation"].notna(), "metric"])
        chosen = [m for m in board.metrics if m.label in scored]
        if chosen:
            return chosen
    picked = [next((m for m in board.metrics if m.kind == kind), None) for kind in ("rating", "ranking")]
    found = [m for m in picked if m is not None]
    return found or board.metrics[:1]


def headlines(board: Leaderboard) -> list[Headline]:
    """One headline per headline metric that has a ranked model."""
    found = []
    for metric in headline_metrics(board):
        headline = _headline(board, metric)
        if headline is not None:
            found.append(headline)
    return found


def _headline(board: Leaderboard, metric: MetricInfo) -> Headline | None:
    rows = board.best[board.best["metric"] == metric.label]
    ranked = rows[rows["rank"].notna()]
    if ranked.empty:
        return None
    tests = board.comparisons
    tests = tests[(tests["metric"] == metric.label) & (tests["reference"] == "best")].set_index("model")
    standings: list[Standing] = []
    for row in ranked.to_dict("records"):
        k = shown_k(board, row["model"], metric.label, row["k"])
        if not standings:
            standings.append(Standing(row["model"], k, float(row["mean"]), 0.0, 0.0, 0.0, math.nan, True))
            continue
        test = tests.loc[row["model"]] if row["model"] in tests.index else None
        if test is None:
            nan = math.nan
            standings.append(Standing(row["model"], k, float(row["mean"]), nan, nan, nan, nan, False))
            continue
        tied = not pd.isna(test["significant"]) and not bool(test["significant"])
        standings.append(
            Standing(
                row["model"], k, float(row["mean"]), float(test["mean_difference"]),
                float(test.get("ci_low", math.nan)), float(test.get("ci_high", math.nan)),
                float(test["p_holm"]), tied,
            )
        )  # fmt: skip
    missing = rows[rows["rank"].isna()]
    excluded = [(model, reason) for model, reason in board.excluded if metric.kind == "rating"]
    excluded += [
        (model, REASONS.get(status, status))
        for model, status in zip(missing["model"], missing["status"], strict=True)
        if status != "excluded"
    ]
    return Headline(metric, standings[0], standings[1:], excluded, board.spec.test, board.spec.alpha)


def difference_text(standing: Standing) -> str:
    """``+0.0012 [-0.0010, +0.0034]``; ``–`` when untested."""
    return interval_text(standing.difference, standing.ci_low, standing.ci_high)


def headline_table(headline: Headline) -> Table:
    """The headline as a table: model, k, value, Δ vs best [95% CI], p (Holm), verdict, for
    the ranked models (the sentence names the others)."""
    metric = headline.metric
    standings = [headline.winner, *headline.others]
    frame = pd.DataFrame(
        {
            "model": [s.model for s in standings],
            "k": [k_text(s.k) if s.k else "–" for s in standings],
            f"{metric.label} {arrow(metric)}": [value_text(s.value) for s in standings],
            "Δ vs best [95% CI]": ["–" if s is headline.winner else difference_text(s) for s in standings],
            "p (Holm)": ["–" if s is headline.winner else p_text(s.p_holm) for s in standings],
            "verdict": [headline.verdict(s) for s in standings],
        }
    )
    bold = {(0, "model"), (0, f"{metric.label} {arrow(metric)}")}
    bold |= {(i, "verdict") for i, s in enumerate(standings) if s.tied}
    return Table(
        f"headline-{slug(metric.label)}", f"{metric.label} {arrow(metric)}: the answer", headline.note(), frame, bold
    )
