"""A round's results: a snapshot from ``data.results`` run through ``analysis``, computed once per
snapshot.  It sits here, above both, because storage must not depend on the statistics (and the
statistics know nothing of storage): pages, exports, the command line and the benchmark call this.
"""

from __future__ import annotations

from analysis import RoundResults, round_results
from data.results import RoundSnapshot


def results_for(snapshot: RoundSnapshot, method: str = "wilson", confidence: float = 0.95) -> RoundResults:
    """All levels × indicators × items with intervals and verdicts, computed once per snapshot."""
    key = (method, float(confidence))
    if key not in snapshot.computed:
        snapshot.computed[key] = round_results(snapshot.tally, snapshot.areas, snapshot.targets, method=method,
                                               confidence=confidence)
    return snapshot.computed[key]
