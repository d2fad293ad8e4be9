"""What a run's numbers depend on besides the config: library versions, the BLAS in use,
the code of the plugins. Recorded in the manifest and part of every cell's cache key, so
a cached cell is reused only where recomputing it would give the same bits."""

from __future__ import annotations

import hashlib
import platform
import sys
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recframe.config import ExperimentConfig
    from recframe.prepare import PreparedData

#: every library whose code computes a number recframe reports
REPORTED_LIBRARIES = (
    "recframe", "numpy", "scipy", "pandas", "scikit-learn", "scikit-surprise", "implicit", "numba",
    "threadpoolctl", "pyarrow", "pluggy", "PyYAML", "dask", "distributed",
)  # fmt: skip


@cache
def library_versions() -> dict[str, str]:
    """Python and every reported library's installed version, plus the BLAS and OpenMP
    builds loaded in this process (name, version, CPU kernel)."""
    versions = {"python": platform.python_version()}
    for name in REPORTED_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    versions.update(native_libraries())
    return versions


def native_libraries() -> dict[str, str]:
    """The BLAS/OpenMP libraries numpy, scipy and the models load, as threadpoolctl sees them."""
    import scipy.linalg  # noqa: F401  (loads scipy's BLAS, which may differ from numpy's)
    import sklearn.utils  # noqa: F401
    from threadpoolctl import threadpool_info

    found = {}
    for info in threadpool_info():
        library = Path(info.get("filepath", "")).name
        described = " ".join(str(info[key]) for key in ("version", "architecture") if info.get(key))
        found[f"{info.get('internal_api')}:{library}"] = described or "unknown version"
    return dict(sorted(found.items()))


@cache  # it reads every installed distribution's metadata: ~0.3 s each time
def _distributions_of_modules() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


@cache
def provider_version(factory: type) -> str:
    """The providing module's distribution version where known, and a hash of its source
    (so editing a plugin file invalidates its cached cells)."""
    module = sys.modules.get(factory.__module__)
    path = getattr(module, "__file__", None)
    source = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16] if path else "unknown"
    top = factory.__module__.split(".")[0]
    distributions = _distributions_of_modules().get(top, [])
    version = f"{distributions[0]} {metadata.version(distributions[0])} " if distributions else ""
    return f"{version}{factory.__module__} sha256:{source}"


def describe_inputs(
    config: ExperimentConfig, prepared: PreparedData, data_print: str, split_print: str
) -> dict[str, Any]:
    """The manifest's account of what a run's numbers came from: the config, the data and
    its folds (with fingerprints), the metrics' definitions, the plugins and every version."""
    data = prepared.data
    return {
        "experiment": config.name,
        "config": config.source,
        "seed": config.seed,
        "dataset": {
            "type": config.dataset.type, "fingerprint": data_print,
            "users": data.n_users, "items": data.n_items, "interactions": len(data),
        },
        "preprocessing": prepared.preprocessing,
        "folds": prepared.folds,
        "cold_start_policy": config.split.cold_start,
        "split": {
            "type": config.split.type, "params": config.split.params, "cold_start": config.split.cold_start,
            "seed": config.seed, "fingerprint": split_print,
        },
        "metrics": [
            {
                "label": m.label, "kind": m.kind, "higher_is_better": m.higher_is_better,
                "definition": " ".join((type(m).__doc__ or "").split()),
            }
            for m in config.metrics
        ],
        "models": [
            {
                "name": entry.name, "type": entry.type,
                "calibrated_ratings": bool(
                    getattr(config.plugins.registry.get("model", entry.type).factory, "calibrated_ratings", True)
                ),
            }
            for entry in config.models
        ],
        "plugins": config.plugins.origins,
        "versions": dict(library_versions()),
    }  # fmt: skip
