"""The report's "What the factors of <model> mean": the best-ranked factor model's factors,
each end with its label (``recframe.factor_labels``) and its first titles.

A run's cells are fitted on folds and thrown away, so the section costs one more fit:
the model ``recframe explain`` would show (the best-ranked factor model by the first
headline metric, at its chosen k) on the whole preprocessed dataset. Whether it is
fitted is the ``leaderboard: {factor_labels: ...}`` setting: ``never``; ``always``;
``auto`` (the default) when the dataset has item features and that model's cells took
at most ``AUTO_FIT_SECONDS`` each to fit in the run (the whole data costs about as much
again). The section is stored as ``factor_labels.json`` in the results directory, so
``recframe leaderboard`` rewriting one run's directory keeps it without fitting again.
"""

from __future__ import annotations

import dataclasses
import html
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recframe import explain
from recframe.config import ExperimentConfig
from recframe.errors import InputError, clip
from recframe.factor_labels import model_labels
from recframe.leaderboard import Leaderboard
from recframe.merge import ResultSet
from recframe.paths import is_regular_file
from recframe.prepare import load_preprocessed
from recframe.tables import Table, to_html, to_markdown
from recframe.winner import first

AUTO_FIT_SECONDS = 30.0
TITLES = 3
#: factors shown open in report.html; the others are in a closed section
OPEN_FACTORS = 10
FILE = "factor_labels.json"
KEY = "factor-labels"


@dataclass(frozen=True)
class FactorSection:
    """The section's heading, its table and how the labels were computed."""

    model: str
    k: int | None
    table: Table

    @property
    def title(self) -> str:
        k = "" if self.k is None else f" (k={self.k})"
        return f"What the factors of {self.model}{k} mean"

    def html(self) -> str:
        """The table, its first ``OPEN_FACTORS`` factors open and the others in a closed section."""
        table = dataclasses.replace(self.table, title="Each factor's label and first titles")
        frame = table.frame
        first = frame["factor"] < OPEN_FACTORS
        if first.all():
            return to_html(table)
        rest = dataclasses.replace(table, title="", caption="", frame=frame[~first].reset_index(drop=True))
        more = f"Factors {OPEN_FACTORS} to {frame['factor'].max()}"
        return (
            to_html(dataclasses.replace(table, frame=frame[first].reset_index(drop=True)))
            + f"<details><summary>{html.escape(more)}</summary>{to_html(rest)}</details>"
        )

    def markdown(self) -> str:
        return to_markdown(self.table, level=2)

    def to_json(self) -> str:
        table = self.table
        frame = table.frame.to_dict(orient="split", index=False)
        record = {"model": self.model, "k": self.k, "caption": table.caption, "frame": frame}
        return json.dumps(record, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> FactorSection:
        record = json.loads(text)
        frame = pd.DataFrame(record["frame"]["data"], columns=record["frame"]["columns"])
        return cls(record["model"], record["k"], _table(record["model"], record["k"], frame, record["caption"]))


def _table(model: str, k: int | None, frame: pd.DataFrame, caption: str) -> Table:
    title = FactorSection(model, k, Table(KEY, "", "", frame)).title
    return Table(KEY, title, caption, frame, text_columns=("end", "label", "top titles"))


def section(config: ExperimentConfig, result: ResultSet, board: Leaderboard) -> tuple[FactorSection | None, str | None]:
    """(the section, None), or (None, why there is none: a note for the user, or None
    when there is nothing to say: ``never``, no factor model, no item features)."""
    policy = config.leaderboard.factor_labels
    variants = {variant.label: variant for variant in config.variants}
    factors = [v for v in variants.values() if explain.unsuitable(config, v, "factors") is None]
    # a grid variant's label names it on the board; with validation selection, its entry's name
    best = first(board, {*(v.label for v in factors), *(v.entry for v in factors)}.__contains__)
    if policy == "never" or best is None or best.model not in variants:
        return None, None
    cells = result.table[(result.table["model"] == best.model) & (result.table["k"].fillna(-1) == (best.k or -1))]
    seconds = float(np.nanmedian(cells["fit_seconds"])) if cells["fit_seconds"].notna().any() else 0.0
    data = load_preprocessed(config)[0]  # loaded once: for the features, then for the fit
    if data.feature_matrix() is None:
        return None, None  # nothing to label them with
    if policy == "auto" and seconds > AUTO_FIT_SECONDS:
        return None, (
            f"no factor labels in the report: fitting {best.model} took {seconds:.0f} s per cell "
            f"(more than {AUTO_FIT_SECONDS:.0f} s); set leaderboard: {{factor_labels: always}} to fit it once anyway"
        )
    overall = first(board)
    rank = "first" if overall is not None and overall.model == best.model else "the best-ranked factor model"
    chosen = f" (k={best.k} chosen on {best.folds})" if best.folds else ""
    try:  # the preprocessed data, as recframe explain has it, and one fit
        trained = explain.train(config, best.model, best.k, require="factors", data=data)
        return labelled(trained, f"{best.model} is {rank} by {best.metric}{chosen}. "), None
    except InputError as error:  # a plugin's failure too (PluginError)
        return None, f"no factor labels in the report: {error}"
    except Exception as error:  # an optional section never costs the run its results
        return None, f"no factor labels in the report: {type(error).__name__}: {clip(str(error), 160)}"


def labelled(trained: explain.TrainedModel, why: str = "") -> FactorSection | None:
    """The section of a model fitted on the whole dataset, its caption opening with ``why``
    it was picked; None without item features."""
    labels = model_labels(trained.model, trained.data)
    if labels is None:
        return None
    data = trained.data
    ids = data.item_vocab.id_of(np.arange(data.n_items))
    known = data.item_titles
    titles = ids.astype(str) if known is None else known[~known.index.duplicated()].reindex(ids).fillna("").astype(str)
    titles = np.asarray(titles)
    rows = []
    signed = len(labels.sides) > 1
    for (factor, side), top in labels.tops.items():
        shown = top[:TITLES]
        names = [str(t) for t in titles[shown]]
        end = {"positive": "+", "negative": "−"}[side] if signed else ""
        rows.append({"factor": factor, "end": end, "label": labels.text(factor, side), "top titles": "; ".join(names)})
    frame = pd.DataFrame(rows)
    if not signed:
        frame = frame.drop(columns="end")
    caption = (
        f"{why}{trained.describe()}, once, after the run. Each factor's "
        + ("two ends (+: largest loadings, −: most negative) are" if signed else "end is")
        + f" labelled by the item features over-represented among its top {labels.n_top} of the "
        f"{labels.eligible:,} items with at least {labels.min_ratings} ratings: a genre by its lift (its share "
        "among the top items over its share among all of them) and hypergeometric p, a numeric feature by the "
        "top items' mean against all items' and a Mann-Whitney p; p Holm-corrected over every factor, end and "
        f"feature; at most 3 features with p < {labels.alpha:g} shown. The titles are each end's first "
        f"{TITLES} of those items; recframe explain lists more of them."
    )
    return FactorSection(trained.label, trained.k, _table(trained.label, trained.k, frame, caption))


def read(directory: Path) -> FactorSection | None:
    """The section a run stored in ``directory``, if any."""
    path = directory / FILE
    return FactorSection.from_json(path.read_text()) if is_regular_file(path) else None
