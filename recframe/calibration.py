"""Models whose predictions are not on the ratings' scale (``calibrated_ratings = False``,
e.g. the zero-filled NMF, whose RMSE is about 2.8 on ML-100K) are left out of the rating
metrics' rankings: their rating metrics are marked ``excluded`` in the summary, so no
ranking, test or plot takes them, while their values stay in the files."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from recframe.config import is_model_named

EXCLUDED_REASON = "predictions not on the ratings' scale: calibrated_ratings = False"


def exclude_uncalibrated(
    summary: pd.DataFrame, rating: Collection[str], uncalibrated: Collection[str]
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """``summary`` with the rating metrics of ``uncalibrated`` models marked ``excluded``,
    and those models with the reason."""
    owned = np.array(
        [any(is_model_named(str(label), name) for name in uncalibrated) for label in summary["model"]], bool
    )
    hit = owned & summary["metric"].isin(rating) & (summary["status"] == "ok")
    models = list(dict.fromkeys(summary.loc[hit, "model"]))
    summary = summary.assign(status=summary["status"].mask(hit, "excluded"))
    return summary, [(model, EXCLUDED_REASON) for model in models]
