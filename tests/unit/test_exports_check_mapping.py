"""`mentorpulse check-mapping MAPPING EXPORT` on the example exports and on broken mappings:
what it reports, that it writes nothing, and that doing what it says makes the export pass."""

from __future__ import annotations

import shutil

import pytest

from assets.settings import load_settings
from pipelines.cli import main
from tests.unit.exports_pipeline import EXPORTS, ROSTER, ingest, land, rows

SURVEYS = EXPORTS / "surveys"
SURVEYMONKEY = ("closing_2026-03_surveymonkey.toml", "closing_2026-03_surveymonkey.csv")
QUALTRICS = ("checkin_2026-03_qualtrics.toml", "checkin_2026-03_qualtrics.csv")
GOOGLE = ("checkin_2026-03_mentors_google.yaml", "checkin_2026-03_mentors_google.csv")


@pytest.fixture
def program(settings, monkeypatch):
    """D = 2026-03-31; the roster landed and ingested, as before an export is added."""
    monkeypatch.setenv("MENTORPULSE_AS_OF", "2026-03-31")
    settings = load_settings()
    land(settings, *ROSTER)
    ingest(settings)
    return settings


def check(capsys, mapping, export) -> tuple[int, str]:
    code = main(["check-mapping", str(mapping), str(export)])
    return code, capsys.readouterr().out


def draft(tmp_path, name: str, old: str = "", new: str = ""):
    """A copy of an example mapping, outside landing/, with one setting changed."""
    path = tmp_path / "drafts" / name
    path.parent.mkdir(exist_ok=True)
    text = (SURVEYS / "mappings" / name).read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


def edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_a_mapping_that_would_load_clean_exits_0_and_writes_nothing(program, capsys):
    files_before = rows(program, "SELECT * FROM ingest.files ORDER BY path")
    code, out = check(
        capsys, SURVEYS / "mappings" / SURVEYMONKEY[0], SURVEYS / "exports" / SURVEYMONKEY[1]
    )
    assert code == 0, out
    assert "would be loaded: read 3, loaded 3, duplicate 0, quarantined 0" in out
    assert (
        'satisfaction <- "How satisfied are you with the mentoring program overall?" (3 answer(s))'
        in out
    )
    assert out.rstrip().endswith("it would load clean")
    assert rows(program, "SELECT * FROM ingest.files ORDER BY path") == files_before
    assert rows(program, "SELECT count(*) AS n FROM staging.responses") == [{"n": 0}]
    assert not (program.landing_dir / "surveys").exists()


def test_quarantined_rows_are_counted_per_rule_with_their_lines_and_the_setting(program, capsys):
    code, out = check(
        capsys, SURVEYS / "mappings" / QUALTRICS[0], SURVEYS / "exports" / QUALTRICS[1]
    )
    assert code == 1
    assert "would be loaded: read 9, loaded 5, duplicate 0, quarantined 4" in out
    assert "unknown columns, not loaded: Q4: Which topics would you like to cover next?" in out
    assert "quarantined dropped:preview: 1 (set aside by design), lines 8" in out
    assert "quarantined unmatched:respondent: 1, lines 17" in out
    assert (
        "problem: 1 row(s) bad_type:guidance: add to [labels] in "
        'surveys/mappings/checkin_2026-03_qualtrics.toml: "Somewhat agree" = <1-5>' in out
    )
    code, out = check(capsys, SURVEYS / "mappings" / GOOGLE[0], SURVEYS / "exports" / GOOGLE[1])
    assert code == 1 and "quarantined unmatched:match: 1, lines 6" in out
    assert "change [match] column" in out


def test_following_its_advice_on_a_wrong_labels_scale_makes_it_pass(program, capsys, tmp_path):
    mapping = draft(tmp_path, SURVEYMONKEY[0], '"Very satisfied" = 5\n', "")
    code, out = check(capsys, mapping, SURVEYS / "exports" / SURVEYMONKEY[1])
    assert code == 1
    assert (
        'add to [labels] in surveys/mappings/closing_2026-03_surveymonkey.toml: "Very satisfied" = <1-5>'
        in out
    )
    edit(mapping, "[labels]\n", '[labels]\n"Very satisfied" = 5\n')
    assert check(capsys, mapping, SURVEYS / "exports" / SURVEYMONKEY[1])[0] == 0


def test_following_its_advice_on_a_date_format_makes_it_pass(program, capsys, tmp_path):
    mapping = draft(
        tmp_path,
        SURVEYMONKEY[0],
        "[match]",
        '[submitted_at]\nformat = "%Y-%m-%d %H:%M:%S"\n\n[match]',
    )
    code, out = check(capsys, mapping, SURVEYS / "exports" / SURVEYMONKEY[1])
    assert code == 1
    assert "quarantined bad_type:submitted_at: 3, lines 3, 4, 5" in out
    assert (
        "problem: 3 row(s) bad_type:submitted_at: submission times like '03/20/2026 01:41:09 PM' "
        "do not fit [submitted_at] format = '%Y-%m-%d %H:%M:%S' in "
        "surveys/mappings/closing_2026-03_surveymonkey.toml: set [submitted_at] format = "
        "'%m/%d/%Y %I:%M:%S %p' (it reads every row)" in out
    )
    edit(mapping, "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %I:%M:%S %p")
    assert check(capsys, mapping, SURVEYS / "exports" / SURVEYMONKEY[1])[0] == 0


def test_following_its_advice_on_a_wrong_tool_and_column_makes_it_pass(program, capsys, tmp_path):
    mapping = draft(tmp_path, SURVEYMONKEY[0], 'tool = "surveymonkey"', 'tool = "google_forms"')
    edit(mapping, '"Any other comments?"', '"Any comments?"')
    code, out = check(capsys, mapping, SURVEYS / "exports" / SURVEYMONKEY[1])
    assert code == 1 and "would be rejected" in out
    assert 'set tool = "surveymonkey" in surveys/mappings/closing_2026-03_surveymonkey.toml' in out
    assert '[items] "Any comments?" = "comment"' in out
    edit(mapping, 'tool = "google_forms"', 'tool = "surveymonkey"')
    code, out = check(capsys, mapping, SURVEYS / "exports" / SURVEYMONKEY[1])
    assert code == 1 and '[items] "Any comments?" = "comment"' in out  # the one left
    assert "set tool" not in out
    edit(mapping, '"Any comments?"', '"Any other comments?"')
    assert check(capsys, mapping, SURVEYS / "exports" / SURVEYMONKEY[1])[0] == 0


def test_an_export_no_glob_names_and_an_item_never_answered(program, capsys, tmp_path):
    export = tmp_path / "closing_final.csv"
    shutil.copyfile(SURVEYS / "exports" / SURVEYMONKEY[1], export)
    mapping = draft(tmp_path, SURVEYMONKEY[0])
    code, out = check(capsys, mapping, export)
    assert code == 1
    assert (
        "problem: files in surveys/mappings/closing_2026-03_surveymonkey.toml: add a glob that names closing_final.csv"
        in out
    )
    edit(
        mapping,
        'files = "closing_2026-03_surveymonkey*.csv"',
        'files = ["closing_2026-03_surveymonkey*.csv", "closing_final.csv"]',
    )
    # Blank the comments of every response: it would load, but not clean.
    text = export.read_text()
    for comment in ('"Thank you, Ana!"', "Not enough meetings."):
        text = text.replace(comment, "")
    export.write_text(text)
    code, out = check(capsys, mapping, export)
    assert code == 1 and "would be loaded: read 3, loaded 3" in out
    assert (
        'problem: [items] "Any other comments?" = "comment" in '
        "surveys/mappings/closing_2026-03_surveymonkey.toml: the column is empty in every row"
        in out
    )


def test_a_landed_mapping_that_names_the_export_too_is_a_problem(program, capsys, tmp_path):
    land(program, f"surveys/mappings/{SURVEYMONKEY[0]}")
    renamed = tmp_path / "closing_v2.toml"
    shutil.copyfile(SURVEYS / "mappings" / SURVEYMONKEY[0], renamed)
    code, out = check(capsys, renamed, SURVEYS / "exports" / SURVEYMONKEY[1])
    assert code == 1
    assert (
        f"problem: files in surveys/mappings/{SURVEYMONKEY[0]} (landed) names "
        f"{SURVEYMONKEY[1]} too" in out
    )
    # The same mapping, revised under its own name, replaces the landed one: no conflict.
    assert (
        check(
            capsys, SURVEYS / "mappings" / SURVEYMONKEY[0], SURVEYS / "exports" / SURVEYMONKEY[1]
        )[0]
        == 0
    )
