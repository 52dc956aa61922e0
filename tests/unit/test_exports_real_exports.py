"""Files shaped like the real tools' exports (issue 21): every record loaded or quarantined with
a rule, and every piece of advice works when followed.

Fixtures (tests/fixtures/exports/surveys/): a Microsoft Forms workbook whose sheet has no
`<dimension>` (as Forms writes it; a read-only reader trusting it saw one cell), and a
Qualtrics export of the legacy exporter (two header rows: V1.. field IDs, then the columns'
names and question texts; no ImportId row; Status as a code).
"""

from __future__ import annotations

import io
import os
import re
import zipfile

import pytest

from assets.ingest.exports.mappings import MappingError, mapping_from
from assets.ingest.exports.survey_tools import read_qualtrics, read_surveymonkey
from assets.settings import load_settings
from pipelines.cli import main
from tests.conftest import write_landing
from tests.unit.exports_pipeline import EXPORTS, ROSTER, ingest, land, quarantine, rows

SURVEYS = EXPORTS / "surveys"
FORMS = "surveys/exports/intake_2026-02_msforms.xlsx"
FORMS_MAPPING = "surveys/mappings/intake_2026-02_msforms.toml"
LEGACY = "surveys/exports/checkin_2026-02_qualtrics_legacy.csv"
LEGACY_MAPPING = "surveys/mappings/checkin_2026-02_qualtrics_legacy.toml"


@pytest.fixture
def program(settings, monkeypatch):
    monkeypatch.setenv("MENTORPULSE_AS_OF", "2026-03-31")
    settings = load_settings()
    land(settings, *ROSTER)
    return settings


def with_dimension(data: bytes, element: bytes) -> bytes:
    """The workbook with `element` as its sheet's <dimension> (b"": none)."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(rb"<dimension[^>]*/>", b"", content)
                content = content.replace(b"<sheetViews>", element + b"<sheetViews>", 1)
            target.writestr(item.filename, content)
    return out.getvalue()


# --- 1. Microsoft Forms: every row, whatever the sheet's <dimension> says ---------------------


@pytest.mark.parametrize("dimension", [b"", b'<dimension ref="A1"/>'])
def test_a_forms_workbook_without_a_true_dimension_loads_every_response(program, dimension):
    data = (SURVEYS / "exports" / "intake_2026-02_msforms.xlsx").read_bytes()
    assert b"<dimension" not in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    land(program, FORMS_MAPPING)
    write_landing(program, FORMS, with_dimension(data, dimension))
    result = ingest(program)[FORMS]
    assert (result.status, result.rows_read, result.rows_loaded) == ("loaded", 10, 10)
    (last,) = rows(program, "SELECT respondent_id FROM staging.responses WHERE _line = 11")
    assert last == {"respondent_id": "U15"}  # the sheet's row 11: the tenth response


# --- 2. Qualtrics: header rows told apart from responses by each format's cells ---------------


def test_a_legacy_qualtrics_export_loses_no_response(program):
    land(program, LEGACY, LEGACY_MAPPING)
    result = ingest(program)[LEGACY]
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (15, 15, 0)
    (first,) = rows(
        program,
        "SELECT response_id, respondent_id, match_id, guidance, comment "
        "FROM staging.responses WHERE _line = 3",
    )
    assert first == {
        "response_id": "checkin-2026-02:R_00legacyAxYz",  # the first response, line 3
        "respondent_id": "U11",
        "match_id": "M01",
        "guidance": 5,
        "comment": "Thanks!",
    }


def test_a_legacy_qualtrics_export_of_one_response_loads(program):
    text = (SURVEYS / "exports" / "checkin_2026-02_qualtrics_legacy.csv").read_text()
    one = "".join(text.splitlines(keepends=True)[:3])
    land(program, LEGACY_MAPPING)
    write_landing(program, "surveys/exports/checkin_2026-02_qualtrics_legacy_1.csv", one)
    result = ingest(program)["surveys/exports/checkin_2026-02_qualtrics_legacy_1.csv"]
    assert (result.status, result.rows_read, result.rows_loaded) == ("loaded", 1, 1)


@pytest.mark.parametrize(
    "import_row",
    [
        '"{""ImportId"":""_recordId""}","{""ImportId"":""QID1""}"',  # since 2017
        "\"{'ImportId': '_recordId'}\",\"{'ImportId': 'QID1'}\"",  # older
        "ImportId:_recordId,ImportId:QID1",  # older still
    ],
)
def test_an_import_id_row_of_any_format_is_a_header_and_a_response_never_is(import_row):
    head = "ResponseId,Q1\nResponse ID,How are you?\n"
    table = read_qualtrics(f"{head}{import_row}\nR_1,Agree\n".encode())
    assert table.frame.height == 1 and [c.question for c in table.columns] == [False, True]
    legacy = read_qualtrics(f"{head}R_1,Agree\n".encode())  # no ImportId row: a response
    assert legacy.frame.height == 1 and legacy.frame["c0"].to_list() == ["R_1"]
    assert [c.question for c in legacy.columns] == [False, True]


def test_a_surveymonkey_export_without_its_answers_row_loses_no_response():
    text = (SURVEYS / "exports" / "closing_2026-03_surveymonkey.csv").read_text()
    questions, answers, *responses = text.splitlines()
    assert read_surveymonkey(text.encode()).frame.height == 3
    table = read_surveymonkey("\n".join([questions, *responses]).encode())
    assert table.frame.height == 3 and table.frame["c0"][0] == "118223344556"
    assert table.position("Any other comments?") is not None


# --- 3. keep_statuses; check-mapping says so when nothing would load --------------------------

IMPORTED_MAPPING = """tool = "qualtrics"
files = "imported_*.csv"
survey_id = "checkin-2026-02"
instrument = "checkin"
response_id = "ResponseID"
[respondent]
column = "EmailAddress"
[match]
role = "mentee"
[submitted_at]
column = "EndDate"
[items]
Q1_1 = "guidance"
"""


def imported_export(tmp_path, statuses: tuple[str, ...]):
    """The legacy export with the given Status (by name) on its first rows."""
    lines = (SURVEYS / "exports" / "checkin_2026-02_qualtrics_legacy.csv").read_text().split("\n")
    body = [
        line.replace(",0,2026", f",{status},2026")
        for line, status in zip(lines[2:], statuses, strict=False)
    ]
    path = tmp_path / "imported_1.csv"
    path.write_text("\n".join(lines[:2] + body) + "\n")
    return path


def check(capsys, mapping, export) -> tuple[int, str]:
    code = main(["check-mapping", str(mapping), str(export)])
    return code, capsys.readouterr().out


def test_check_mapping_exits_1_when_nothing_would_load_and_keep_statuses_fixes_it(
    program, capsys, tmp_path
):
    ingest(program)  # the roster
    mapping = tmp_path / "imported.toml"
    mapping.write_text(IMPORTED_MAPPING)
    export = imported_export(tmp_path, ("Imported", "Imported", "Survey Test"))
    code, out = check(capsys, mapping, export)
    assert code == 1, out
    assert "would be loaded: read 3, loaded 0, duplicate 0, quarantined 3" in out
    assert "problem: nothing would load: all 3 row(s) would be quarantined" in out
    assert "it would load clean" not in out
    assert (
        'Qualtrics Status is Imported: only "IP Address" count; to load these, set '
        'keep_statuses = ["IP Address", "Imported"] in surveys/mappings/imported.toml' in out
    )
    # Following it: the imported responses load; the test response stays set aside.
    mapping.write_text('keep_statuses = ["IP Address", "Imported"]\n' + IMPORTED_MAPPING)
    code, out = check(capsys, mapping, export)
    assert code == 0, out
    assert "would be loaded: read 3, loaded 2, duplicate 0, quarantined 1" in out
    assert "quarantined dropped:test: 1 (set aside by design)" in out


def test_kept_statuses_by_code_and_a_wrong_status_named(program):
    land(program, LEGACY_MAPPING)
    mapping = program.landing_dir / LEGACY_MAPPING
    mapping.write_text('keep_statuses = ["IP Address", "Offline"]\n' + mapping.read_text())
    text = (SURVEYS / "exports" / "checkin_2026-02_qualtrics_legacy.csv").read_text()
    lines = text.split("\n")
    lines[2] = lines[2].replace(",0,2026", ",16,2026")  # Offline, as a legacy code
    lines[3] = lines[3].replace(",0,2026", ",4,2026")  # Imported
    write_landing(program, LEGACY, "\n".join(lines))
    ingest(program)
    assert quarantine(program, LEGACY) == {4: "dropped:status"}
    (row,) = rows(program, "SELECT detail FROM ingest.quarantine")
    assert 'Status is Imported: only "IP Address", "Offline" count' in row["detail"]
    raw = {"tool": "qualtrics", "files": "x*.csv", "survey_id": "s", "instrument": "checkin"}
    with pytest.raises(MappingError, match="'Importd' is not a Qualtrics status"):
        mapping_from({**raw, "keep_statuses": ["Importd"]}, "surveys/mappings/x.toml")
    with pytest.raises(MappingError, match='applies to tool = "qualtrics" only'):
        mapping_from(
            {**raw, "tool": "google_forms", "keep_statuses": ["Imported"]},
            "surveys/mappings/x.toml",
        )


def test_check_mapping_exits_1_when_an_item_would_load_no_answer(program, capsys, tmp_path):
    """The one answer to Q1_1 is an imported response's (set aside by design); the live
    response left it blank: the export loads a response, but no guidance answer."""
    ingest(program)
    mapping = tmp_path / "imported.toml"
    mapping.write_text(IMPORTED_MAPPING)
    export = imported_export(tmp_path, ("Imported", "0"))
    lines = export.read_text().split("\n")
    fields = lines[3].split(",")
    fields[11] = ""  # Q1_1 ("Name" holds a comma: one field more)
    lines[3] = ",".join(fields)
    export.write_text("\n".join(lines))
    code, out = check(capsys, mapping, export)
    assert code == 1, out
    assert "would be loaded: read 2, loaded 1" in out
    assert (
        'problem: [items] "Q1_1" = "guidance" in surveys/mappings/imported.toml: no row would '
        "load an answer to it" in out
    )


def test_check_mapping_exits_1_when_the_mapping_maps_no_item(program, capsys, tmp_path):
    ingest(program)
    text = (SURVEYS / "mappings" / "closing_2026-03_surveymonkey.toml").read_text()
    items = text[text.index("[items]") : text.index("[labels]")]
    mapping = tmp_path / "closing_2026-03_surveymonkey.toml"
    mapping.write_text(text.replace(items, ""))
    export = SURVEYS / "exports" / "closing_2026-03_surveymonkey.csv"
    code, out = check(capsys, mapping, export)
    assert code == 1
    assert (
        "problem: [items] in surveys/mappings/closing_2026-03_surveymonkey.toml maps no "
        "question, so no answer would load: the export's unmapped questions, as [items] names "
        'them: "How satisfied are you with the mentoring program overall?"; "Please rate the '
        'following: - The feedback I received was useful"' in out
    )
    mapping.write_text(text)
    assert check(capsys, mapping, export)[0] == 0


# --- 4. date advice that works when followed --------------------------------------------------

TWO_DIGIT_MAPPING = """tool = "google_forms"
files = "pairs_*.csv"
survey_id = "checkin-2026-03"
instrument = "checkin"
[submitted_at]
format = "%m/%d/%Y %H:%M"
[items]
"Overall, I am satisfied" = "satisfaction"
"""


def test_a_two_digit_year_gets_y_advice_that_loads_the_row_when_followed(program, capsys, tmp_path):
    ingest(program)
    mapping = tmp_path / "pairs.toml"
    mapping.write_text(TWO_DIGIT_MAPPING)
    export = tmp_path / "pairs_1.csv"
    export.write_text(
        'Timestamp,Email Address,"Overall, I am satisfied"\n'
        "3/19/26 13:05,bea.santos@example.org,Agree\n"
    )
    code, out = check(capsys, mapping, export)
    assert code == 1
    assert (
        "problem: 1 row(s) bad_type:submitted_at: submission times like '3/19/26 13:05' have a "
        "two-digit year, which [submitted_at] format = '%m/%d/%Y %H:%M' in "
        "surveys/mappings/pairs.toml reads as the year 00xx (%Y; %y reads two digits): set "
        "[submitted_at] format = '%m/%d/%y %H:%M' (it reads every row)" in out
    )
    assert "implausible" not in out and "change dates like" not in out
    mapping.write_text(TWO_DIGIT_MAPPING.replace("%m/%d/%Y %H:%M", "%m/%d/%y %H:%M"))
    code, out = check(capsys, mapping, export)
    assert code == 0, out
    assert "would be loaded: read 1, loaded 1" in out


# --- 7. the respondent by participant_id; a blank respondent names its column -----------------

BY_ID_MAPPING = """tool = "google_forms"
files = "ids_*.csv"
survey_id = "checkin-2026-03"
instrument = "checkin"
[respondent]
column = "Employee ID"
by = "participant_id"
[submitted_at]
format = "%d/%m/%Y %H:%M:%S"
[items]
"Overall, I am satisfied" = "satisfaction"
"""


def test_an_id_missing_from_the_roster_is_an_unmatched_respondent(program, capsys, tmp_path):
    ingest(program)
    mapping = tmp_path / "ids.toml"
    mapping.write_text(BY_ID_MAPPING)
    export = tmp_path / "ids_1.csv"
    export.write_text(
        'Timestamp,Employee ID,"Overall, I am satisfied"\n'
        "14/03/2026 09:05:17,U11,Agree\n"
        "14/03/2026 09:06:00,U99,Agree\n"
        "14/03/2026 09:07:00,,Agree\n"
    )
    code, out = check(capsys, mapping, export)
    assert code == 1
    assert "quarantined unmatched:respondent: 1, lines 3" in out
    assert "no participant in the roster has this participant_id" in out
    assert (
        'problem: 1 row(s) unmatched:respondent: [respondent] column = "Employee ID", by = '
        '"participant_id" in surveys/mappings/ids.toml: these ids are not in the roster' in out
    )
    assert "unmatched:match" not in out and "[match]" not in out
    assert "quarantined missing_field:respondent_id: 1, lines 4" in out
    assert (
        'the respondent is blank in this row: [respondent] column = "Employee ID" in '
        "surveys/mappings/ids.toml" in out
    )
    assert (
        'problem: 1 row(s) missing_field:respondent_id: [respondent] column = "Employee ID" in '
        "surveys/mappings/ids.toml is blank in these rows" in out
    )
    # Following it: U99 added to the roster (with a match); the blank row is fixed in the export.
    write_landing(
        program,
        "roster/participants_2026-03-01.csv",
        "participant_id,full_name,email,department,location,joined_on\n"
        "U99,Zé Zeferino,ze.zeferino@example.org,Finance,Porto,2026-03-01\n",
    )
    write_landing(
        program,
        "roster/matches_2026-03-01.csv",
        "match_id,program,cohort,mentor_id,mentee_id,matched_on,ended_on,end_reason,"
        "target_meetings_per_month\nM99,Grow,2026-Q1,U02,U99,2026-03-01,,,\n",
    )
    export.write_text(export.read_text().replace("09:07:00,,", "09:07:00,U12,"))
    code, out = check(capsys, mapping, export)
    assert code == 0, out
    assert "would be loaded: read 3, loaded 3" in out


def test_unmapped_questions_are_listed_once(program, capsys):
    ingest(program)
    mapping = SURVEYS / "mappings" / "closing_2026-03_surveymonkey.toml"
    export = SURVEYS / "exports" / "closing_2026-03_surveymonkey.csv"
    text = mapping.read_text().replace('"Any other comments?" = "comment"\n', "")
    draft = program.landing_dir.parent / "closing_2026-03_surveymonkey.toml"
    draft.write_text(text)
    code, out = check(capsys, draft, export)
    assert out.count("Any other comments?") == 1, out
    assert "unknown columns, not loaded: Any other comments?" in out


# --- 8. an [items] column not found: the export's own names, as the mapping needs them ---------


def test_a_missing_items_column_lists_the_exports_questions_as_items_names_them(program, capsys):
    ingest(program)
    mapping = SURVEYS / "mappings" / "closing_2026-03_surveymonkey.toml"
    export = SURVEYS / "exports" / "closing_2026-03_surveymonkey.csv"
    draft = program.landing_dir.parent / "closing_2026-03_surveymonkey.toml"
    guessed = '"Please rate the following: The feedback I received was useful" = "feedback"'
    draft.write_text(
        mapping.read_text().replace(
            '"Please rate the following: - The feedback I received was useful" = "feedback"',
            guessed,
        )
    )
    code, out = check(capsys, draft, export)
    assert code == 1
    names = (
        "the export's unmapped questions, as [items] names them: "
        '"Please rate the following: - The feedback I received was useful"'
    )
    assert names in out
    # Following it: the name as given, and the export loads clean.
    draft.write_text(
        draft.read_text().replace(
            guessed,
            '"Please rate the following: - The feedback I received was useful" = "feedback"',
        )
    )
    assert check(capsys, draft, export)[0] == 0


def test_a_missing_qualtrics_item_is_named_by_field_id_with_its_text(program):
    land(program, LEGACY, LEGACY_MAPPING)
    mapping = program.landing_dir / LEGACY_MAPPING
    mapping.write_text(mapping.read_text().replace('Q3 = "comment"', 'Q4 = "comment"'))
    result = ingest(program)[LEGACY]
    assert result.status == "rejected" and "file:header_drift" in result.message
    assert (
        "the export's unmapped questions, as [items] names them: \"Q3\" ('Anything else you "
        "would like to tell us?')" in result.message
    )
    mapping.write_text(mapping.read_text().replace('Q4 = "comment"', 'Q3 = "comment"'))
    os.utime(program.landing_dir / LEGACY, ns=(1, 1))
    assert ingest(program)[LEGACY].rows_loaded == 15


def test_a_legacy_export_mapped_with_the_tools_defaults_names_the_columns_to_use(program):
    """The legacy exporter has no RecipientEmail, RecordedDate or ResponseId: the message
    lists the export's own columns, and mapping them (by name) loads every response."""
    land(program, LEGACY)
    defaults = (SURVEYS / "mappings" / "checkin_2026-02_qualtrics_legacy.toml").read_text()
    for setting in ('response_id = "ResponseID"\n', 'column = "EmailAddress"\n',
                    'column = "EndDate"\n'):  # fmt: skip
        defaults = defaults.replace(setting, "")
    write_landing(program, LEGACY_MAPPING, defaults)
    result = ingest(program)[LEGACY]
    assert result.status == "rejected" and "file:header_drift" in result.message
    assert '[respondent] column = "RecipientEmail" (the default of tool = "qualtrics")' in (
        result.message
    )
    assert '"V5" (or "EmailAddress")' in result.message
    assert '"V8" (or "StartDate"), "V9" (or "EndDate")' in result.message
    assert '"V1" (or "ResponseID")' in result.message
    fixed = defaults.replace("[respondent]\n", '[respondent]\ncolumn = "EmailAddress"\n')
    fixed = fixed.replace("[submitted_at]\n", '[submitted_at]\ncolumn = "EndDate"\n')
    write_landing(program, LEGACY_MAPPING, 'response_id = "ResponseID"\n' + fixed)
    os.utime(program.landing_dir / LEGACY, ns=(1, 1))
    assert ingest(program)[LEGACY].rows_loaded == 15
