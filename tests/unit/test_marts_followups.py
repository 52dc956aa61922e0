"""marts.followup_outcomes, hand-computed (docs/metrics.md#follow-up-outcomes).

D = 2024-06-30; program P unless said; every pair matched 2024-01-01.
  a: quiet (last meeting 2024-03-01), contacted 2024-04-10, met 2024-04-20   -> contacted, met
  b: quiet, contacted 2024-04-10 and again 2024-05-01 (first counts), no meeting -> contacted, not
  c: met 2024-04-05 (not quiet on 2024-04-10), contacted 2024-04-10          -> in neither
  d: quiet, never contacted, met 2024-05-05 (within 30 days of 2024-04-10)   -> comparison, met
  e: quiet, never contacted, no meeting                                      -> comparison, not
  f: quiet, contacted only 2024-06-15, whose 30 days are not over by D: not contacted;
     comparison on 2024-04-10 (its contact is more than 30 days later), no meeting
                                                                             -> comparison, not
  g: ended 2024-04-01, never contacted                                       -> in neither
  q: program Q, quiet, never contacted: no pair of Q was contacted           -> in neither
"""

from __future__ import annotations

import pytest

from tests.unit.marts_harness import MartsHarness


@pytest.fixture(scope="module")
def wh() -> MartsHarness:
    wh = MartsHarness(as_of="2024-06-30")
    for match in "abcdefg":
        wh.add_match(match, "2024-01-01", ended_on="2024-04-01" if match == "g" else None)
        wh.add_meeting(match, "2024-03-01")
    wh.add_match("q", "2024-01-01", program="Q")
    wh.add_meeting("a", "2024-04-20")
    wh.add_meeting("c", "2024-04-05")
    wh.add_meeting("d", "2024-05-05")
    wh.add_meeting("e", "2024-05-20", status="cancelled")
    followups = [
        ("f1", "a", "2024-04-10"),
        ("f2", "b", "2024-04-10"),
        ("f3", "b", "2024-05-01"),
        ("f4", "c", "2024-04-10"),
        ("f5", "f", "2024-06-15"),
    ]
    wh.insert(
        "followups",
        [
            {
                "followup_id": i,
                "match_id": m,
                "contacted_on": d,
                "channel": "email",
                "outcome": "reached",
            }
            for i, m, d in followups
        ],
    )
    wh.run()
    return wh


def test_contacted_pairs_beside_comparable_pairs_not_contacted(wh):
    row = wh.one("followup_outcomes", program="P")
    assert (row["contacted_pairs"], row["contacted_met_again"]) == (2, 1)
    assert (row["comparison_pairs"], row["comparison_met_again"]) == (3, 1)
    assert row["contacted_rate"] == pytest.approx(0.5)
    assert row["comparison_rate"] == pytest.approx(1 / 3)
    assert row["rate_difference"] == pytest.approx(0.5 - 1 / 3)
    total = wh.one("followup_outcomes", program="(all)")
    assert total["contacted_pairs"] == 2 and total["comparison_pairs"] == 3
    assert wh.rows("followup_outcomes", program="Q") == []
