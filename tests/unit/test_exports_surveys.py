"""Survey tools' exports, as the tools write them, mapped by configuration onto responses.

The example exports (tests/fixtures/exports/surveys/) mirror the tools' header layouts:
Qualtrics (BOM, CRLF, three header rows, multi-line question texts, ImportId JSON with the
tool's time zone, a preview and a spam row), Google Forms (UK-locale Timestamp), SurveyMonkey
(question row + answer row, a matrix question) and Microsoft Forms (an Excel workbook, made
here). The roster has mentor U01 in an ended match (M07) and an active one (M01), and mentor
U06 in two active matches (M06, M08).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tomllib

import pytest
from openpyxl import Workbook

from assets.ingest.exports.mappings import MappingError, mapping_from
from assets.settings import load_settings
from tests.conftest import REPO, write_landing
from tests.unit.exports_pipeline import ROSTER, build, ingest, land, quarantine, rows

QUALTRICS = "surveys/exports/checkin_2026-03_qualtrics.csv"
GOOGLE = "surveys/exports/checkin_2026-03_mentors_google.csv"
SURVEYMONKEY = "surveys/exports/closing_2026-03_surveymonkey.csv"
MAPPINGS = {
    QUALTRICS: "surveys/mappings/checkin_2026-03_qualtrics.toml",
    GOOGLE: "surveys/mappings/checkin_2026-03_mentors_google.yaml",
    SURVEYMONKEY: "surveys/mappings/closing_2026-03_surveymonkey.toml",
}
RESPONSE = (
    "SELECT response_id, respondent_id, match_id, role, submitted_at, guidance, networking, "
    "skills, feedback, communication, satisfaction, nps, comment FROM staging.responses "
    "WHERE response_id = ?"
)


@pytest.fixture
def program(settings, monkeypatch):
    """The test program: Lisbon time, D = 2026-03-31, every group shown (k = 1)."""
    monkeypatch.setenv("MENTORPULSE_AS_OF", "2026-03-31")
    monkeypatch.setenv("MENTORPULSE_MIN_GROUP_SIZE", "1")
    settings = load_settings()
    land(settings, *ROSTER)
    return settings


def land_export(settings, export: str) -> None:
    land(settings, export, MAPPINGS[export])


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def test_qualtrics_export_is_mapped_and_its_preview_and_spam_rows_set_aside(program):
    land_export(program, QUALTRICS)
    result = ingest(program)[QUALTRICS]
    assert (result.status, result.rows_read, result.rows_loaded, result.rows_quarantined) == (
        "loaded",
        9,
        5,
        4,
    )
    # Lines in the file: three header rows, the second spanning five lines (question texts
    # with line breaks); Bea's record spans two (a comment with a line break).
    assert quarantine(program, QUALTRICS) == {
        8: "dropped:preview",
        13: "dropped:spam",
        16: "bad_type:guidance",  # "Somewhat agree" is not on the scale: judged, not guessed
        17: "unmatched:respondent",  # an e-mail the roster does not know
    }
    (bea,) = rows(program, RESPONSE, ["checkin-2026-03:R_1aBcDeFgHiJkLmN"])
    assert bea == {
        "response_id": "checkin-2026-03:R_1aBcDeFgHiJkLmN",
        "respondent_id": "U11",  # Bea.Santos@Example.org, matched in any case
        "match_id": "M01",  # her only match as mentee
        "role": "mentee",
        "submitted_at": utc(2026, 3, 14, 9, 9, 45),  # RecordedDate in America/Denver (MDT)
        "guidance": 5,  # Strongly agree
        "networking": 4,
        "skills": 4,  # mapped by its question text
        "feedback": None,
        "communication": None,
        "satisfaction": None,
        "nps": 9,
        "comment": "Great sessions, thank you.\r\nMore practice interviews, please.",
    }
    (file_row,) = rows(program, "SELECT * FROM ingest.files WHERE path = ?", [QUALTRICS])
    assert file_row["source"] == "survey_exports"
    assert file_row["unknown_field_names"] == "Q4: Which topics would you like to cover next?"
    assert "unmapped question" in file_row["message"]


def test_published_quarantine_text_holds_nothing_the_tool_collected_about_people(program):
    land_export(program, QUALTRICS)
    ingest(program)
    found = rows(program, "SELECT raw_text, detail FROM ingest.quarantine")
    assert found and all(r["raw_text"] is None for r in found)  # the text stays restricted
    assert not any(
        word in (r["detail"] or "")
        for r in found
        for word in ("@", "Stranger", "198.51.100.4", "38.72")
    )


def test_google_forms_locale_timestamps_and_the_match_found_in_the_roster(program):
    land_export(program, GOOGLE)
    result = ingest(program)[GOOGLE]
    assert (result.rows_loaded, result.rows_quarantined) == (4, 1)
    loaded = rows(
        program,
        "SELECT respondent_id, match_id, role, submitted_at, communication, satisfaction, nps "
        "FROM staging.responses ORDER BY respondent_id",
    )
    assert loaded[0] == {
        "respondent_id": "U01",
        "match_id": "M01",  # M07 ended on 2026-02-01: the only match active on the day
        "role": "mentor",  # from the roster
        "submitted_at": utc(2026, 3, 14, 9, 5, 17),  # 14/03/2026 09:05:17 in Lisbon (WET)
        "communication": 5,
        "satisfaction": 4,
        "nps": 9,
    }
    (unplaced,) = rows(program, "SELECT line, reason, detail FROM ingest.quarantine")
    assert unplaced["line"] == 6 and unplaced["reason"] == "unmatched:match"
    assert "M06, M08" in unplaced["detail"]


def test_surveymonkey_two_header_rows_matrix_columns_and_a_match_column(program):
    land_export(program, SURVEYMONKEY)
    result = ingest(program)[SURVEYMONKEY]
    assert (result.rows_loaded, result.rows_quarantined) == (3, 0)
    (nuno,) = rows(program, RESPONSE, ["closing-2026-03:118223344556"])
    assert (nuno["respondent_id"], nuno["match_id"], nuno["role"]) == ("U17", "M07", "mentee")
    assert nuno["submitted_at"] == utc(2026, 3, 20, 10, 15)  # 03/20/2026 10:15:00 AM
    # "Very satisfied" by the mapping's own labels; the matrix rows by "question - row".
    assert (nuno["satisfaction"], nuno["feedback"], nuno["networking"], nuno["skills"]) == (
        5,
        5,
        4,
        5,
    )


def microsoft_forms_workbook() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    sheet.append(
        [
            "ID",
            "Start time",
            "Completion time",
            "Email",
            "Name",
            "I expect my mentor and me to communicate regularly",
            "I expect to develop new skills",
            "What are you hoping to learn?",
        ]
    )
    sheet.append(
        [1, dt.datetime(2026, 2, 2, 9, 0), dt.datetime(2026, 2, 2, 9, 6, 30),
         "bea.santos@example.org", "Bea Santos", "Strongly agree", "Agree", "Leadership"]
    )  # fmt: skip
    sheet.append(
        [2, dt.datetime(2026, 2, 3, 17, 55), dt.datetime(2026, 2, 3, 18, 2),
         "ana.almeida@example.org", "Ana Almeida", "Agree", "Agree", ""]
    )  # fmt: skip
    sheet.append(
        [3, dt.datetime(2026, 2, 4, 12, 0), dt.datetime(2026, 2, 4, 12, 1),
         "anonymous", "", "Agree", "Disagree", ""]
    )  # fmt: skip
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_microsoft_forms_workbook(program):
    land(program, "surveys/mappings/intake_2026-02_msforms.toml")
    path = "surveys/exports/intake_2026-02_msforms.xlsx"
    write_landing(program, path, microsoft_forms_workbook())
    result = ingest(program)[path]
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    assert quarantine(program, path) == {4: "unmatched:respondent"}  # row 4 of the sheet
    loaded = rows(
        program,
        "SELECT response_id, respondent_id, match_id, role, submitted_at, communication, skills "
        "FROM staging.responses ORDER BY response_id",
    )
    assert loaded == [
        {
            "response_id": "intake-2026-02:1",
            "respondent_id": "U11",
            "match_id": "M01",
            "role": "mentee",
            "submitted_at": utc(2026, 2, 2, 9, 6, 30),
            "communication": 5,
            "skills": 4,
        },
        {
            "response_id": "intake-2026-02:2",
            "respondent_id": "U01",
            "match_id": "M01",
            "role": "mentor",
            "submitted_at": utc(2026, 2, 3, 18, 2),
            "communication": 4,
            "skills": 4,
        },
    ]
    assert result.message.endswith(
        "1 unmapped question(s), not loaded (ingest.files.unknown_field_names lists them)"
    )
    (file_row,) = rows(
        program, "SELECT unknown_field_names FROM ingest.files WHERE path = ?", [path]
    )
    assert file_row["unknown_field_names"] == "What are you hoping to learn?"


def test_marts_from_the_mapped_exports(program):
    for export in MAPPINGS:
        land_export(program, export)
    ingest(program)
    assert build(program) == []  # nothing_lost and every other blocking check hold
    means = {
        (r["survey_id"], r["role"], r["item"]): (r["n"], r["mean"])
        for r in rows(
            program,
            "SELECT survey_id, role, item, n, mean FROM marts.feedback_scores "
            "WHERE cohort = '2026-Q1'",
        )
    }
    # Mentees (Qualtrics): guidance 5, 4, 5, 2, 4 (preview, spam, unknown e-mail, an answer
    # off the scale are not counted); networking 4, 4, 5, 3, 1.
    assert means[("checkin-2026-03", "mentee", "guidance")] == (5, 4.0)
    assert means[("checkin-2026-03", "mentee", "networking")] == (5, 3.4)
    # Mentors (Google Forms): satisfaction 4, 4, 2, 5.
    assert means[("checkin-2026-03", "mentor", "satisfaction")] == (4, 3.75)
    nps = {
        (r["survey_id"], r["role"]): r["nps"]
        for r in rows(
            program, "SELECT survey_id, role, nps FROM marts.nps WHERE cohort = '2026-Q1'"
        )
    }
    # Mentees 9, 8, 10, 6, 7: (2 promoters - 1 detractor) / 5; mentors 9, 8, 5, 10: 1 / 4.
    assert nps[("checkin-2026-03", "mentee")] == 20.0
    assert nps[("checkin-2026-03", "mentor")] == 25.0


def test_a_cumulative_export_repeats_earlier_responses_as_exact_duplicates(program):
    land_export(program, QUALTRICS)
    ingest(program)
    later = (program.landing_dir / QUALTRICS).read_bytes().decode("utf-8-sig") + (
        "2026-03-18 08:00:00,2026-03-18 08:05:00,IP Address,85.240.1.1,100,300,True,"
        "2026-03-18 08:05:01,R_9hIjKlMnOpQrStU,Santos,Bea,bea.santos@example.org,,,,email,EN,"
        "Agree,Agree,Agree,8,,\r\n"
    )
    write_landing(program, "surveys/exports/checkin_2026-03_qualtrics_2.csv", later.encode())
    result = ingest(program)["surveys/exports/checkin_2026-03_qualtrics_2.csv"]
    assert (result.rows_loaded, result.rows_duplicate, result.rows_quarantined) == (1, 5, 4)


# --- whole-file problems -------------------------------------------------------------------


def reworded_qualtrics(program) -> bytes:
    """The same survey exported after Q1_2 was reworded and a question Q5 added."""
    text = (program.landing_dir / QUALTRICS).read_bytes().decode("utf-8-sig")
    ids, texts, imports, *records = csv.reader(io.StringIO(text, newline=""))
    texts[ids.index("Q1_2")] = texts[ids.index("Q1_2")].replace(
        "outside my team", "across the company"
    )
    ids.append("Q5")
    texts.append("How did you hear about the program?")
    imports.append('{"ImportId":"QID5"}')
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(
        [ids, texts, imports, *(r + [""] for r in records)]
    )
    return out.getvalue().encode("utf-8-sig")


def test_header_drift_is_quarantined_naming_the_columns_until_the_mapping_allows_it(program):
    land_export(program, QUALTRICS)
    ingest(program)  # the first export sets the header accepted for the mapping
    drifted = "surveys/exports/checkin_2026-03_qualtrics_2.csv"
    path = write_landing(program, drifted, reworded_qualtrics(program))
    result = ingest(program)[drifted]
    assert result.status == "rejected" and "file:header_drift" in result.message
    assert (
        "reworded 'Q1_2: How much do you agree wi...ur mentor this month... - I meet people "
        "outside my team' -> '...across the company'" in result.message
    )
    assert "added 'Q5: How did you hear about the program?'" in result.message
    assert quarantine(program, drifted) == {None: "file:header_drift"}

    mapping = program.landing_dir / MAPPINGS[QUALTRICS]
    mapping.write_text("allow_header_drift = true\n" + mapping.read_text())
    os.utime(path, ns=(1, 1))  # touched: a file rejected by its mapping is read again
    result = ingest(program)[drifted]
    assert result.status == "loaded" and "allowed by the mapping" in result.message
    assert result.rows_duplicate == 5  # the responses already loaded from the first export


@pytest.mark.parametrize(
    ("mapping", "rule", "words"),
    [
        (None, "file:no_mapping", "no mapping in surveys/mappings/ names"),
        ('tool = "typeform"\nfiles = "x_*.csv"\n', "file:bad_mapping", "tool must be one of"),
        (
            'tool = "google_forms"\nfiles = "x_*.csv"\nsurvey_id = "s"\ninstrument = "checkin"\n'
            '[items]\n"How are you?" = "happiness"\n',
            "file:bad_mapping",
            "item of 'How are you?' must be one of guidance",
        ),
        ('tool = "google_forms"\nfiles = "x_*.csv"\n[broken\n', "file:no_mapping", "unreadable"),
    ],
)
def test_file_problems_reject_the_file_and_the_others_still_load(program, mapping, rule, words):
    land_export(program, GOOGLE)
    write_landing(
        program, "surveys/exports/x_1.csv", "Timestamp,How are you?\n1/1/2026 9:00:00,ok\n"
    )
    if mapping:
        write_landing(program, "surveys/mappings/x.toml", mapping)
    results = ingest(program)
    bad = results["surveys/exports/x_1.csv"]
    assert bad.status == "rejected" and rule in bad.message and words in bad.message
    assert results[GOOGLE].rows_loaded == 4


def test_an_unreadable_workbook_is_rejected(program):
    land(program, "surveys/mappings/intake_2026-02_msforms.toml")
    write_landing(program, "surveys/exports/intake_2026-02.xlsx", b"PK\x03\x04 not really a zip")
    (result,) = [r for r in ingest(program).values() if r.path.endswith(".xlsx")]
    assert result.status == "rejected" and "file:bad_excel" in result.message


def test_the_readme_example_mapping_is_a_valid_mapping():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Real exports: adding a mapping", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    mapping = mapping_from(tomllib.loads(example), "surveys/mappings/checkin_2026-03.toml")
    assert mapping.applies_to("checkin_2026-03_export.csv")
    assert mapping.items["Q1_1"] == "guidance" and mapping.labels["somewhat agree"] == 4


# --- ids, settings named in messages, items with no answers --------------------------------

PAIRS_MAPPING = """tool = "google_forms"
files = "pairs_*.csv"
survey_id = "checkin-2026-03"
instrument = "checkin"
[match]
column = "Match"
[submitted_at]
format = "%d/%m/%Y %H:%M:%S"
[items]
"Overall, I am satisfied" = "satisfaction"
"""


def test_responses_of_a_tool_without_ids_are_told_apart_by_match_then_line(program):
    """From a real export: two Google Forms responses by one person in the same second, for two
    matches, collided on one id and one was quarantined as a conflicting duplicate."""
    write_landing(program, "surveys/mappings/pairs.toml", PAIRS_MAPPING)
    write_landing(
        program,
        "surveys/exports/pairs_1.csv",
        'Timestamp,Email Address,Match,"Overall, I am satisfied"\n'
        "14/03/2026 09:05:17,ana.almeida@example.org,M01,Agree\n"
        "14/03/2026 09:05:17,ana.almeida@example.org,M07,Disagree\n"
        # Nothing but the line tells these two apart.
        "15/03/2026 10:00:00,ana.almeida@example.org,M01,Agree\n"
        "15/03/2026 10:00:00,ana.almeida@example.org,M01,Strongly agree\n",
    )
    result = ingest(program)["surveys/exports/pairs_1.csv"]
    assert (result.rows_loaded, result.rows_duplicate, result.rows_quarantined) == (4, 0, 0)
    loaded = rows(program, "SELECT response_id, match_id, satisfaction FROM staging.responses")
    assert {r["match_id"] for r in loaded} == {"M01", "M07"}
    last_resort = sorted(r["response_id"] for r in loaded if r["response_id"].count(":") == 2)
    assert [i.rsplit(":", 1)[1] for i in last_resort] == ["line4", "line5"]
    # The same export again: the same ids, so exact duplicates.
    write_landing(
        program,
        "surveys/exports/pairs_2.csv",
        (program.landing_dir / "surveys/exports/pairs_1.csv").read_text() + "\n",
    )
    again = ingest(program)["surveys/exports/pairs_2.csv"]
    assert (again.rows_loaded, again.rows_duplicate) == (0, 4)


def test_a_time_format_that_does_not_fit_names_the_setting_and_one_that_would(program):
    mapping = PAIRS_MAPPING.replace('"%d/%m/%Y %H:%M:%S"', '"%Y-%m-%d %H:%M:%S"')
    write_landing(program, "surveys/mappings/pairs.toml", mapping)
    write_landing(
        program,
        "surveys/exports/pairs_1.csv",
        'Timestamp,Email Address,Match,"Overall, I am satisfied"\n'
        "03/14/2026 10:02,ana.almeida@example.org,M01,Agree\n",
    )
    ingest(program)
    (row,) = rows(program, "SELECT reason, detail FROM ingest.quarantine")
    assert row["reason"] == "bad_type:submitted_at"
    assert row["detail"] == (
        "submission times like '03/14/2026 10:02' do not fit [submitted_at] format = "
        "'%Y-%m-%d %H:%M:%S' in surveys/mappings/pairs.toml: set [submitted_at] format = "
        "'%m/%d/%Y %H:%M' (it reads every row)"
    )


def test_a_wrong_tool_is_named_with_the_tool_that_reads_the_export(program):
    land_export(program, SURVEYMONKEY)
    mapping = program.landing_dir / MAPPINGS[SURVEYMONKEY]
    mapping.write_text(mapping.read_text().replace('tool = "surveymonkey"', 'tool = "qualtrics"'))
    result = ingest(program)[SURVEYMONKEY]
    assert result.status == "rejected" and "file:header_drift" in result.message
    assert '[submitted_at] column = "RecordedDate" (the default of tool = "qualtrics")' in (
        result.message
    )
    assert (
        'It reads as a surveymonkey export: set tool = "surveymonkey" in '
        f'{MAPPINGS[SURVEYMONKEY]} (not "qualtrics")' in result.message
    )
    # Doing what it says: the mapping fixed, the export touched, it loads.
    mapping.write_text(mapping.read_text().replace('tool = "qualtrics"', 'tool = "surveymonkey"'))
    os.utime(program.landing_dir / SURVEYMONKEY, ns=(1, 1))
    assert ingest(program)[SURVEYMONKEY].rows_loaded == 3


def test_an_item_with_no_answer_in_any_row_is_not_reported_as_clean(program):
    land_export(program, GOOGLE)
    export = program.landing_dir / GOOGLE
    header, *records = csv.reader(io.StringIO(export.read_text()))
    assert header[5] == "Anything else?"  # comment: blank in every row, the header kept
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(
        [header, *(r[:5] + [""] + r[6:] for r in records)]
    )
    export.write_text(out.getvalue())
    result = ingest(program)[GOOGLE]
    assert result.status == "loaded" and result.rows_loaded == 4
    assert result.message.startswith(
        'warning: [items] "Anything else?" = "comment" in '
        f"{MAPPINGS[GOOGLE]}: the column is empty in every row, so no comment answer was loaded"
    )
    (message,) = rows(program, "SELECT message FROM ingest.files WHERE path = ?", [GOOGLE])
    assert message == {"message": result.message}


def test_the_readme_example_mapping_shows_its_response_id_setting():
    readme = (REPO / "README.md").read_text()
    example = readme.split("## Real exports: adding a mapping", 1)[1].split("```toml\n", 1)[1]
    example = example.split("```", 1)[0]
    assert 'response_id = "ResponseId"' in example
    mapping = mapping_from(tomllib.loads(example), "surveys/mappings/checkin_2026-03.toml")
    assert mapping.response_id_column == "ResponseId"


@pytest.mark.parametrize(
    ("setting", "column"),
    [
        ("", "ResponseId"),
        ('response_id = "Response ID"', "Response ID"),
        ("response_id = false", None),
    ],
)
def test_the_response_id_setting(setting, column):
    raw = tomllib.loads(
        f'tool = "qualtrics"\nfiles = "x*.csv"\nsurvey_id = "s"\ninstrument = "checkin"\n{setting}\n'
    )
    assert mapping_from(raw, "surveys/mappings/x.toml").response_id_column == column


def test_a_response_id_that_is_not_a_column_name_is_a_bad_mapping():
    raw = {"tool": "qualtrics", "files": "x*.csv", "survey_id": "s", "instrument": "checkin"}
    with pytest.raises(MappingError, match="response_id must be a column name"):
        mapping_from({**raw, "response_id": 7}, "surveys/mappings/x.toml")


def test_a_workbook_mapped_as_a_csv_tool_names_the_tool_to_set(program):
    land(program, "surveys/mappings/intake_2026-02_msforms.toml")
    mapping = program.landing_dir / "surveys/mappings/intake_2026-02_msforms.toml"
    fixed = mapping.read_text()
    mapping.write_text(fixed.replace('tool = "microsoft_forms"', 'tool = "google_forms"'))
    path = "surveys/exports/intake_2026-02_msforms.xlsx"
    write_landing(program, path, microsoft_forms_workbook())
    result = ingest(program)[path]
    assert result.status == "rejected" and "file:bad_mapping" in result.message
    assert 'set tool = "microsoft_forms" in surveys/mappings/intake_2026-02_msforms.toml' in (
        result.message
    )
    mapping.write_text(fixed)
    os.utime(program.landing_dir / path, ns=(1, 1))
    assert ingest(program)[path].rows_loaded == 2
