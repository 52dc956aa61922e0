"""Great Expectations suites, one per source, generated from the contract.

The row rules (validation.py) decide what is quarantined; the suite is an independent gate
over what was loaded: if a loaded batch fails it, a rule is missing and the check says which.
GX 1.x has no Polars/DuckDB datasource, so batches are validated as pandas frames. GX takes
seconds to import, so it is imported only when there is something to validate.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import polars as pl

from assets.ingest.contract import Source

logging.getLogger("great_expectations").setLevel(logging.ERROR)


@dataclass(frozen=True)
class ValidationOutcome:
    success: bool
    rows: int
    evaluated: int
    failed: list[dict]

    @classmethod
    def combined(cls, outcomes: list[ValidationOutcome]) -> ValidationOutcome:
        return cls(
            all(o.success for o in outcomes),
            sum(o.rows for o in outcomes),
            sum(o.evaluated for o in outcomes),
            [failure for o in outcomes for failure in o.failed],
        )

    def as_metadata(self) -> dict:
        return {
            "rows_validated": self.rows,
            "expectations_evaluated": self.evaluated,
            "expectations_failed": len(self.failed),
            "failed_expectations": self.failed,
        }


def expectations_for(source: Source) -> list:
    from great_expectations import expectations as gxe

    found = []
    for column in source.columns:
        name = column.name
        found.append(gxe.ExpectColumnToExist(column=name))
        if column.required:
            found.append(gxe.ExpectColumnValuesToNotBeNull(column=name))
        if column.allowed:
            found.append(
                gxe.ExpectColumnValuesToBeInSet(column=name, value_set=list(column.allowed))
            )
        if column.minimum is not None or column.maximum is not None:
            found.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=name,
                    min_value=column.minimum,
                    max_value=column.maximum,
                    strict_min=column.minimum_exclusive,
                )
            )
        plausible = column.plausible_bounds
        if column.type == "number" and plausible is not None:
            found.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=name, min_value=plausible.minimum, max_value=plausible.maximum
                )
            )
        if column.max_length is not None:
            found.append(
                gxe.ExpectColumnValueLengthsToBeBetween(
                    column=name, min_value=1, max_value=column.max_length
                )
            )
    return found


@functools.cache
def _batch_definition(source_name: str):
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    data_source = context.data_sources.add_pandas(f"mentorpulse_{source_name}")
    asset = data_source.add_dataframe_asset(source_name)
    return asset.add_batch_definition_whole_dataframe("loaded_rows")


@functools.cache
def suite_for(source: Source):
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=f"{source.name}_contract")
    for expectation in expectations_for(source):
        suite.add_expectation(expectation)
    return suite


def _as_gx_sees_it(source: Source, frame: pl.DataFrame) -> pl.DataFrame:
    """A list column whose only expectations are existence and non-null is handed to GX as
    its text (as CSV writes it): the same outcome, and GX's pandas engine is about four times
    slower on a frame holding lists (1.2 s per 300,000 rows and validation)."""
    plain_lists = [
        c.name
        for c in source.columns
        if c.type == "string_list"
        and isinstance(frame.schema.get(c.name), pl.List)
        and not (c.allowed or c.max_length is not None)
        and c.minimum is None
        and c.maximum is None
    ]
    return frame.with_columns(pl.col(plain_lists).list.join(";")) if plain_lists else frame


def validate_batch(source: Source, frame: pl.DataFrame, label: str = "") -> ValidationOutcome:
    """Validate loaded rows (contract columns) against the source's suite; `label` (e.g. the
    file) is named in each failure."""
    if frame.height == 0:
        return ValidationOutcome(True, 0, 0, [])
    batch = _batch_definition(source.name).get_batch(
        batch_parameters={"dataframe": _as_gx_sees_it(source, frame).to_pandas()}
    )
    result = batch.validate(suite_for(source), result_format="SUMMARY")
    failed = [
        {
            "batch": label,
            "expectation": r.expectation_config.type,
            "column": r.expectation_config.kwargs.get("column"),
            "unexpected_count": r.result.get("unexpected_count"),
            "partial_unexpected_list": [
                str(v) for v in r.result.get("partial_unexpected_list", [])
            ][:5],
        }
        for r in result.results
        if not r.success
    ]
    return ValidationOutcome(
        bool(result.success), frame.height, int(result.statistics["evaluated_expectations"]), failed
    )
