"""The ingest asset's checks as the operator sees them in the run: a file with quarantined
lines is a warning naming file, line and rule."""

from __future__ import annotations

import json

import dagster as dg

from assets.ingest.assets import INGEST_ASSETS
from assets.resources import WarehouseResource
from tests.conftest import write_landing

MEETINGS = next(a for a in INGEST_ASSETS if a.key == dg.AssetKey(["staging", "meetings"]))


def meeting(event_id: str, **extra) -> str:
    record = {
        "event_id": event_id,
        "meeting_id": f"m-{event_id}",
        "match_id": "X1",
        "event_type": "completed",
        "occurred_at": "2026-02-03T18:00:00Z",
        "scheduled_start": "2026-02-03T17:00:00Z",
        "duration_minutes": 45,
        **extra,
    }
    return json.dumps(record)


def checks(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_a_file_with_bad_lines_warns_in_the_run_naming_file_line_and_rule(settings):
    lines = [meeting("ok")] + [meeting(f"bad{n}", channel="zoom") for n in range(5)]
    write_landing(settings, "meetings/meetings_2026-02-20.jsonl", "\n".join(lines) + "\n")
    result = dg.materialize(
        [MEETINGS], resources={"warehouse": WarehouseResource()}, raise_on_error=False
    )
    assert result.success
    found = checks(result)
    warned = found["quarantined_lines"]
    assert not warned.passed and warned.severity == dg.AssetCheckSeverity.WARN
    assert warned.metadata["lines_quarantined"].value == 5
    first = warned.metadata["first_lines"].value
    assert "landing/meetings/meetings_2026-02-20.jsonl line 2: bad_value:channel" in first
    assert "line 6" in first
    assert found["contract_expectations"].passed  # the loaded row itself is fine
    (event,) = result.get_asset_materialization_events()
    assert event.materialization.metadata["dagster/row_count"].value == 1


def test_a_clean_file_passes(settings):
    write_landing(settings, "meetings/meetings_2026-02-20.jsonl", meeting("ok") + "\n")
    result = dg.materialize([MEETINGS], resources={"warehouse": WarehouseResource()})
    assert checks(result)["quarantined_lines"].passed


def test_descriptions_render_as_written():
    from assets.ingest.assets import markdown_text

    assert markdown_text("landing/meetings/*.jsonl <name>") == (
        "landing/meetings/\\*.jsonl &lt;name&gt;"
    )
    assert "\\*.jsonl" in MEETINGS.specs_by_key[MEETINGS.key].description
