"""One protocol under several rules in one simulation whose projections share the cells.

Sharing must not change a single weight: each rule's final weights with shared cells equal
those of its own simulation (on Brian2 also with per-case initial weights, which need
``Projection.set``); and sharing happens only where it was measured to be harmless.
"""

import numpy as np
import pytest

from stdp_validation.backends import get_backend, unavailable_reason
from stdp_validation.protocols import get_protocol, rule_variant

RULES = ("pair-additive", "pair-addpot-muldep")


def _run(backend, protocols):
    return {o.rule.label: np.asarray(o.final_weights, dtype=float) for o in backend.run(protocols)}


@pytest.mark.brian2
@pytest.mark.slow
def test_brian2_bounds_under_two_rules_shared_equals_alone():
    if unavailable_reason("brian2"):
        pytest.skip(unavailable_reason("brian2"))
    base = get_protocol("bounds")
    protocols = [base.with_rule(rule_variant(base.rule, label)) for label in RULES]
    assert len({case.initial_weight for case in base.cases}) > 1  # needs Projection.set
    backend = get_backend("brian2")
    assert [len(group) for group in backend.groups([backend.prepare(p) for p in protocols])] == [2]
    shared = _run(backend, protocols)
    for protocol in protocols:
        alone = _run(backend, [protocol])
        np.testing.assert_array_equal(shared[protocol.rule.label], alone[protocol.rule.label])


@pytest.mark.nest
def test_nest_does_not_share_cells_where_projection_set_is_needed():
    base = get_protocol("bounds")
    backend = get_backend("nest")
    protocols = [base.with_rule(rule_variant(base.rule, label)) for label in RULES]
    assert [len(group) for group in backend.groups([backend.prepare(p) for p in protocols])] == [1, 1]
