"""Every bound recframe puts on its input, in one place (the README's "Errors and
limits" lists them). Each keeps a mistake or a hostile file from costing unbounded
time or memory; each is far above what a real experiment needs."""

MAX_CONFIG_BYTES = 1 << 20  # an experiment file is a few KB
MAX_CONFIG_DEPTH = 50  # nesting of mappings and lists
MAX_CONFIG_VALUES = 100_000  # values in a config once YAML aliases are expanded
MAX_SEED = 2**32 - 1  # what numpy, scikit-learn, Surprise and implicit accept as a seed
MAX_REPEATS = 1000
MAX_FACTORS = 100_000
MAX_CUTOFF = 100_000  # K of a metric@K
MAX_TIMEOUT_S = 30 * 86_400
MAX_JOBS = 1024  # also the most threads per cell
MAX_MEMORY_BUDGET_MB = 1 << 20
MAX_BATCH_SIZE = 10_000_000
MAX_LISTED = 100_000  # recommend -n, explain --top
MAX_REASON = 500  # characters kept of a failed cell's error
MAX_TRIALS = 10_000  # trials of one model's search
