"""Hostile patterns: a template field's ``pattern`` can neither hang nor crash the product.

A template file may come from anyone, and its patterns are regular expressions. A pattern
that backtracks catastrophically, that repeats absurdly, or that nests too deep is a template
error naming the field (exit 2 at the command line); an answer is matched only after the
length checks passed, and within a time limit, so no answer can hang a form either.

No test here measures time: each relies on the product's own limits, so a test that hung
would be a test that found a bug.
"""
from __future__ import annotations

import dataclasses
import json
import re
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metafold_widgets import check_answers, load_template
from metafold_widgets.cli import main
from metafold_widgets.core import patterns, values
from metafold_widgets.core.formats.jsonschema import to_json_schema
from metafold_widgets.errors import EXIT_USER, TemplateError

SLOW_PATTERNS = ["(a+)+$", "^(a|aa)+$", "(x+x+)+y", "^(([a-z])+.)+[A-Z]([a-z])+$", "(a*)*$"]
BROKEN_PATTERNS = {
    "a{99999999999}": "not a valid regular expression",
    "a{4294967296}": "not a valid regular expression",
    "(?:a{1000}){1000}": "repeats too much",
    "((a{100}){100}){100}": "repeats too much",
    "(?:a{100}){1000}": "repeats too much",
    "x{5001}": "repeats too much",
    "(" * 500 + ")" * 500: "nested too deeply",
    "(?:" * 2_000 + ")" * 2_000: "longer than 2,000 characters",
    "x" * 2_001: "longer than 2,000 characters",
    "[[:alpha:]]+": "[:alpha:]",
    "([a-z": "not a valid regular expression",
}
SOUND_PATTERNS = [r"^[A-Z]{3}[0-9]{6}$", r"^[\w.+-]+@[\w-]+\.[\w.-]+$", r"(?:\d{1,3}\.){3}\d{1,3}",
                  r"^\S+$", r"^(?:[^,]+,)*[^,]+$", r"(?i)^img\d+$", r"^(?P<a>x)(?P=a)$", r"(?<=a)b",
                  r"[\[:alpha:]]", r"a{,3}", r"(?:a{10}){100}", r"^.{1,5000}$", r"a{1,100000}", "^\\s*\\S.*$"]


def template_text(pattern: str, **extra: object) -> str:
    """A YAML template whose field 'code' (on line 5) has ``pattern``."""
    lines = ["id: patterned", "fields:", "  title: {type: text}", "  code:",
             f"    pattern: {json.dumps(pattern)}", "    type: text"]
    lines += [f"    {key}: {json.dumps(value)}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


def template_error(source: object) -> TemplateError:
    with pytest.raises(TemplateError) as caught:
        load_template(source)
    return caught.value


def pattern_problem(error: TemplateError) -> str:
    """The one problem of ``error``, checked to be about field 'code' and shown with its line."""
    [problem] = error.problems
    assert problem.field == "code" and problem.line == 5, problem
    return problem.message


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def no_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("METAFOLD_DEBUG", raising=False)


@pytest.fixture
def never_matched(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if any answer is matched against a pattern."""
    def refuse(pattern: str, value: str, seconds: float = 0) -> bool:
        raise AssertionError(f"{pattern!r} was matched against an answer of {len(value)} characters")
    monkeypatch.setattr(values, "search", refuse)


# --- at template load ---------------------------------------------------------------------------------

@pytest.mark.parametrize("pattern", SLOW_PATTERNS)
def test_a_catastrophic_pattern_is_a_template_error_naming_field_and_line(pattern: str) -> None:
    message = pattern_problem(template_error(template_text(pattern)))
    assert message.startswith("pattern takes too long to check an answer (catastrophic backtracking")


@pytest.mark.parametrize("pattern", BROKEN_PATTERNS)
def test_a_pattern_that_would_crash_or_blow_up_is_a_template_error(pattern: str) -> None:
    message = pattern_problem(template_error(template_text(pattern)))
    assert BROKEN_PATTERNS[pattern] in message
    assert "Error" not in message and len(message) < 500


@pytest.mark.parametrize("pattern", SOUND_PATTERNS)
def test_sound_patterns_load_and_keep_python_syntax(pattern: str) -> None:
    assert load_template(template_text(pattern)).field("code").pattern == pattern


def test_a_slow_pattern_is_harmless_below_a_short_max_length() -> None:
    """Answers longer than max_length are never matched, so the load check tries no longer ones."""
    template = load_template(template_text("(a+)+$", max_length=30))
    assert template.field("code").pattern == "(a+)+$"
    assert check_answers(template, {"code": "a" * 29 + "!"}).errors[0].message.startswith("does not match")


def test_every_slow_pattern_of_a_template_is_reported() -> None:
    fields = {f"f{i}": {"type": "text", "pattern": pattern} for i, pattern in enumerate(SLOW_PATTERNS)}
    fields["fine"] = {"type": "text", "pattern": SOUND_PATTERNS[0]}
    error = template_error({"id": "t", "fields": fields})
    assert sorted(p.field or "" for p in error.problems) == sorted(f"f{i}" for i in range(len(SLOW_PATTERNS)))


def test_hostile_samples_are_runs_of_the_patterns_own_characters_then_a_stop() -> None:
    samples = patterns.hostile_samples(r"^(x+y?)+\d$", 10)
    assert "xxxxxxxxx\x00" in samples and "yyyyyyyyy\x00" in samples and "000000000\x00" in samples
    assert all(len(s) == 10 for s in samples) and len(samples) <= patterns.SAMPLE_RUNS + 1
    assert patterns.hostile_samples("(a+)+$", 1) == []


# --- at validation -----------------------------------------------------------------------------------

def test_a_too_long_answer_is_not_matched_at_all(never_matched: None) -> None:
    template = load_template(template_text("^[a-z]+$", max_length=30))
    [error] = check_answers(template, {"code": "a" * 40 + "!"}).errors
    assert error.key == "code" and error.message == "must be at most 30 characters long (it has 41)"


def test_the_row_3_answer_to_a_slow_pattern_is_only_told_it_is_too_long(never_matched: None) -> None:
    template = load_template(template_text("(a+)+$", max_length=30))
    [error] = check_answers(template, {"code": "a" * 40 + "!"}).errors
    assert "at most 30 characters" in error.message and "format" not in error.message


def test_a_too_short_answer_is_still_told_about_the_format() -> None:
    template = load_template(template_text("^[0-9]+$", min_length=5))
    [error] = check_answers(template, {"code": "ab"}).errors
    assert "at least 5 characters" in error.message and "expected format ^[0-9]+$" in error.message


def test_a_pattern_too_slow_for_one_answer_is_a_field_error_not_a_hang() -> None:
    """``a.*b.*c`` passes the load check but needs hours for a long run of 'a': the time limit stops it."""
    template = load_template(template_text("a.*b.*c"))
    check = check_answers(template, {"code": "a" * 200_000, "title": "t"})
    [error] = check.errors
    assert error.key == "code" and "could not be checked against the expected format a.*b.*c in time" in error.message
    assert check_answers(template, {"code": "a-b-c"}).ok


def test_a_field_built_in_code_with_a_bad_pattern_gets_an_error_not_an_exception() -> None:
    template = load_template(template_text("^x$"))
    field = template.field("code")
    for bad in ("([a-z", "a{99999999999}", "(?:a{1000}){1000}"):
        problems = values.constraint_problems(dataclasses.replace(field, pattern=bad), "x")
        assert len(problems) == 1 and problems[0].startswith("cannot be checked: the field's pattern")


def test_the_json_schema_export_still_carries_the_pattern() -> None:
    schema = to_json_schema(load_template(template_text(r"^[A-Z]{3}\d+$")))
    assert schema["properties"]["code"]["pattern"] == r"^[A-Z]{3}\d+$"
    assert "pattern" not in schema["properties"]["title"]


# --- the command line --------------------------------------------------------------------------------

@pytest.mark.parametrize("pattern, fragment", [
    ("(a+)+$", "pattern takes too long to check an answer"),
    ("a{99999999999}", "not a valid regular expression"),
    ("(" * 500 + ")" * 500, "nested too deeply"),
])
def test_templates_validate_exits_2_naming_field_and_line(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                          pattern: str, fragment: str) -> None:
    path = write(tmp_path / "t.yaml", template_text(pattern))
    code, out, err = run(capsys, "templates", "validate", str(path))
    assert (code, out) == (EXIT_USER, "")
    assert f"{path}:5: field 'code': " in err and fragment in err and "Traceback" not in err


@pytest.mark.parametrize("pattern", ["(a+)+$", "a{99999999999}"])
def test_create_dry_run_with_a_hostile_template_exits_2_and_writes_nothing(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, pattern: str) -> None:
    template = write(tmp_path / "t.yaml", template_text(pattern))
    answers = write(tmp_path / "answers.yaml", f"code: {'a' * 40}!\ntitle: x\n")
    dest = tmp_path / "dest"
    dest.mkdir()
    code, _, err = run(capsys, "create", "-t", str(template), "-a", str(answers), "-d", str(dest), "--dry-run")
    assert code == EXIT_USER and "field 'code': pattern" in err and "Traceback" not in err
    assert list(dest.iterdir()) == []


def test_create_dry_run_with_an_answer_too_slow_to_match_exits_2_naming_the_field(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    template = write(tmp_path / "t.yaml", template_text("a.*b.*c", label="Code"))
    answers = write(tmp_path / "answers.yaml", f"code: {'a' * 200_000}\ntitle: x\n")
    dest = tmp_path / "dest"
    dest.mkdir()
    code, _, err = run(capsys, "create", "-t", str(template), "-a", str(answers), "-d", str(dest), "--dry-run")
    assert code == EXIT_USER and "Code (code): could not be checked against the expected format" in err
    assert list(dest.iterdir()) == []


def test_create_dry_run_with_a_too_long_answer_never_matches_it(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, never_matched: None) -> None:
    template = write(tmp_path / "t.yaml", template_text("(a+)+$", max_length=30, label="Code"))
    answers = write(tmp_path / "answers.yaml", f"code: {'a' * 40}!\ntitle: x\n")
    code, _, err = run(capsys, "create", "-t", str(template), "-a", str(answers), "-d", str(tmp_path), "--dry-run")
    assert code == EXIT_USER and "Code (code): must be at most 30 characters long (it has 41)" in err


# --- properties ----------------------------------------------------------------------------------------

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Pieces of patterns: enough to build the slow, the broken and the ordinary ones.
TOKENS = ["a", "b", "ab", ".", r"\d", r"\w", r"\s", r"\S", r"\b", "^", "$", "(", ")", "(?:", "|", "*", "+", "?",
          "*?", "{2}", "{1,3}", "{,2}", "{1000}", "[ab]", "[^a]", "[a-c]", r"\1", "(?=", "(?!", "(?<=a)",
          "(?i)", r"\Z", r"\A", "(?P<n>", "(?P=n)", "[[:a:]]", "[", "]", "\\", "{", "}", "(?>", "++"]
pattern_texts = st.lists(st.sampled_from(TOKENS), max_size=10).map("".join) | st.text(max_size=30)
short_answers = st.text(alphabet="ab1 \n-A:[]!\x00", max_size=12)


@SETTINGS
@given(pattern=pattern_texts, answers=st.lists(short_answers, min_size=1, max_size=4))
def test_any_pattern_loads_and_checks_answers_or_is_a_template_error(pattern: str, answers: list[str]) -> None:
    try:
        template = load_template({"id": "t", "fields": {"code": {"type": "text", "pattern": pattern}}})
    except TemplateError as error:
        assert [p.field for p in error.problems] == ["code"]
        return
    for answer in answers:
        check = check_answers(template, {"code": answer})
        assert all(e.key == "code" for e in check.errors)


@SETTINGS
@given(pattern=st.lists(st.sampled_from(TOKENS), min_size=1, max_size=8).map("".join),
       answers=st.lists(short_answers, min_size=1, max_size=6))
def test_a_loaded_pattern_matches_exactly_what_python_re_matches(pattern: str, answers: list[str]) -> None:
    """The syntax and meaning of templates stay Python's: only the engine (and its time limit) changed."""
    if patterns.pattern_problem(pattern) is not None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "possible nested set", for a few of the generated patterns
        expected = re.compile(pattern)
    for answer in answers:  # short answers: even a catastrophic pattern answers quickly in ``re``
        assert patterns.search(pattern, answer) == (expected.search(answer) is not None), answer
