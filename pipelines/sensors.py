"""File sensors, one per landing source.

The cursor remembers each ready file's size and mtime; a tick with new or changed files asks
for one ingest run of that source (all its new files), keyed by those signatures so the same
files never trigger twice. In-flight names (.part, .tmp, dot-files) are not ready.
"""


import hashlib
import json

import dagster as dg

from assets.ingest.assets import staging_key
from assets.ingest.contract import SOURCES, Source
from assets.ingest.files import discover
from assets.settings import load_settings

SENSOR_INTERVAL_SECONDS = 5


def new_files(source: Source, cursor: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """(signatures of every ready file, those that are new or changed since the cursor)."""
    landing_dir = load_settings().landing_dir
    signatures = {
        f.relative_path: "{}:{}".format(*f.stat_signature()) for f in discover(landing_dir, source)
    }
    seen = json.loads(cursor) if cursor else {}
    return signatures, {p: s for p, s in signatures.items() if seen.get(p) != s}


def build_landing_sensor(source: Source) -> dg.SensorDefinition:
    @dg.sensor(
        name=f"{source.name}_landing",
        target=[staging_key(source)],
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Ingests new files in landing/{source.folder}/ "
        f"({', '.join(source.patterns)}) as they appear.",
    )
    def landing_sensor(context: dg.SensorEvaluationContext):
        signatures, fresh = new_files(source, context.cursor)
        if not fresh:
            return dg.SkipReason(f"no new {source.name} files")
        run_key = hashlib.sha256(json.dumps(sorted(fresh.items())).encode()).hexdigest()
        context.update_cursor(json.dumps(signatures))
        return dg.RunRequest(
            run_key=f"{source.name}:{run_key}",
            tags={"mentorpulse/source": source.name, "mentorpulse/files": str(len(fresh))},
        )

    return landing_sensor


LANDING_SENSORS = [build_landing_sensor(source) for source in SOURCES.values()]
