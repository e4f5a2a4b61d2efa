"""Survey statistics: rates, confidence intervals, verdicts against targets, roll-ups.

Pure functions over numpy and pandas; no Streamlit, no database.
"""

from .proportion import METHODS, proportion_ci
from .rates import add_indicator_rates, add_item_rates, verdicts
from .rollup import LEVELS, RoundResults, roll_up, round_results
from .sample_size import extra_interviews_needed, required_sample_size

__all__ = [
    "METHODS",
    "proportion_ci",
    "add_item_rates",
    "add_indicator_rates",
    "verdicts",
    "extra_interviews_needed",
    "required_sample_size",
    "LEVELS",
    "RoundResults",
    "roll_up",
    "round_results",
]
