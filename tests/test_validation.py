"""Answers against a template: coercion, constraints, required fields, conditions and errors."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml

from metafold_widgets import AnswersError, FieldError, Template, check_answers, load_template, validate_answers
from metafold_widgets.core.validation import resolve_answers

NOW = dt.datetime(2025, 6, 13, 9, 30, 15)


def make_template(fields: dict[str, Any], **extra: Any) -> Template:
    """A small template built inline from its ``fields`` mapping."""
    return load_template({"id": "t", "name": "Test template", "fields": fields, **extra})


def one_field(spec: dict[str, Any]) -> Template:
    return make_template({"x": spec})


def value_of(spec: dict[str, Any], raw: Any, now: dt.datetime | None = NOW) -> Any:
    """The canonical value of ``raw`` for a field ``x`` built from ``spec``; asserts it is valid."""
    result = check_answers(one_field(spec), {"x": raw}, now=now)
    assert result.errors == [], result.errors
    return result.values["x"]


def error_of(spec: dict[str, Any], raw: Any, now: dt.datetime | None = NOW) -> str:
    """The single error message for ``raw`` in a field ``x`` built from ``spec``."""
    result = check_answers(one_field(spec), {"x": raw}, now=now)
    assert [e.key for e in result.errors] == ["x"], result.errors
    return result.errors[0].message


# --- numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize("raw, expected", [
    ("2.5", 2.5), ("2,5", 2.5), (" 2.5 ", 2.5), ("-1,25", -1.25), ("3", 3), (3, 3), (2.5, 2.5),
    ("1e3", 1000.0), ("\u22122.5", -2.5),
])
def test_decimal_coerces_text_and_numbers(raw: Any, expected: float) -> None:
    value = value_of({"type": "decimal"}, raw)
    assert value == expected
    assert not isinstance(value, bool)


@pytest.mark.parametrize("raw", ["2.5", 2.5])
def test_decimal_keeps_a_float_from_text_and_numbers(raw: Any) -> None:
    assert isinstance(value_of({"type": "decimal"}, raw), float)


@pytest.mark.parametrize("raw, expected", [("3", 3), (3, 3), ("3.0", 3), (3.0, 3), ("-7", -7), ("+4", 4)])
def test_integer_coerces_to_int(raw: Any, expected: int) -> None:
    value = value_of({"type": "integer"}, raw)
    assert value == expected and type(value) is int


@pytest.mark.parametrize("raw", [2.5, "2.5", "2,5"])
def test_integer_rejects_fractions(raw: Any) -> None:
    assert "whole number" in error_of({"type": "integer"}, raw)


@pytest.mark.parametrize("kind", ["number", "integer", "decimal"])
@pytest.mark.parametrize("raw", ["abc", "1.2.3", "1,2,3", True, [1], {"a": 1}])
def test_numbers_reject_non_numbers(kind: str, raw: Any) -> None:
    assert "must be a number" in error_of({"type": kind}, raw)


@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", float("nan"), float("inf")])
def test_numbers_must_be_finite(raw: Any) -> None:
    assert "finite" in error_of({"type": "decimal"}, raw)


@pytest.mark.parametrize("raw, message", [
    ("3", "must be at least 4 °C"), ("40.5", "must be at most 40 °C"), (-10, "must be at least 4 °C"),
])
def test_min_and_max_name_the_unit(raw: Any, message: str) -> None:
    spec = {"type": "decimal", "min": 4, "max": 40, "unit": "°C"}
    assert error_of(spec, raw) == message


@pytest.mark.parametrize("raw", [4, "4", 40, "22.5", "40,0"])
def test_bounds_are_inclusive(raw: Any) -> None:
    value_of({"type": "decimal", "min": 4, "max": 40, "unit": "°C"}, raw)


def test_bound_message_without_unit() -> None:
    assert error_of({"type": "integer", "min": 1}, 0) == "must be at least 1"


def test_zero_is_an_answer_not_a_blank() -> None:
    assert value_of({"type": "integer", "required": True}, 0) == 0
    assert value_of({"type": "decimal", "required": True}, "0") == 0


@pytest.mark.parametrize("raw", [0, 0.5, "1.5", 10])
def test_step_accepts_multiples(raw: Any) -> None:
    value_of({"type": "decimal", "step": 0.5, "min": 0}, raw)


@pytest.mark.parametrize("raw", [0.3, "2.3", "1,1"])
def test_step_rejects_values_between_steps(raw: Any) -> None:
    assert "must be in steps of 0.5 mL" in error_of({"type": "decimal", "step": 0.5, "unit": "mL"}, raw)


def test_step_counts_from_the_minimum() -> None:
    spec = {"type": "integer", "min": 1, "step": 2}
    assert value_of(spec, 3) == 3
    assert error_of(spec, 4) == "must be in steps of 2 from 1"


def test_step_with_fractional_steps() -> None:
    # 0.1 + 0.2 is not 0.3 in binary floating point; the check must still accept it.
    assert value_of({"type": "decimal", "step": 0.1}, "0.3") == 0.3
    assert value_of({"type": "decimal", "step": 0.01, "min": 0.07}, "1.23") == 1.23


@pytest.mark.parametrize("raw", ["1.2", "1.23", 1.23, 7, "0,05"])
def test_precision_accepts_up_to_the_allowed_places(raw: Any) -> None:
    value_of({"type": "decimal", "precision": 2}, raw)


@pytest.mark.parametrize("raw", ["1.234", 1.234, "0,001"])
def test_precision_rejects_more_places(raw: Any) -> None:
    assert "at most 2 decimal places" in error_of({"type": "decimal", "precision": 2}, raw)


def test_several_number_problems_are_reported_together() -> None:
    message = error_of({"type": "decimal", "max": 1, "precision": 1}, "2.25")
    assert "must be at most 1" in message and "decimal places" in message


# --- dates and times ----------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["2025-06-13", " 2025-06-13 ", dt.date(2025, 6, 13),
                                 dt.datetime(2025, 6, 13, 18, 5)])
def test_date_from_text_date_and_datetime(raw: Any) -> None:
    assert value_of({"type": "date"}, raw) == "2025-06-13"


@pytest.mark.parametrize("raw", ["13/06/2025", "2025-13-01", "2025-02-30", "June 13", "yesterday",
                                 "20250613", 20250613, 20250613.5, "2025-W24-1", "2025-06-13T10:00"])
def test_date_rejects_other_spellings(raw: Any) -> None:
    assert "must be a date like 2025-06-13" in error_of({"type": "date"}, raw)


def test_date_today_uses_the_given_now() -> None:
    assert value_of({"type": "date"}, "today") == "2025-06-13"
    assert value_of({"type": "date"}, "TODAY", now=dt.datetime(2030, 1, 2, 3, 4)) == "2030-01-02"


@pytest.mark.parametrize("raw, expected", [
    ("09:30", "09:30"), ("09:30:00", "09:30"), ("09:30:15", "09:30:15"), ("23:59", "23:59"),
    (dt.time(9, 30), "09:30"), (dt.time(7, 5, 9), "07:05:09"), ("now", "09:30:15"),
])
def test_time_values(raw: Any, expected: str) -> None:
    assert value_of({"type": "time"}, raw) == expected


@pytest.mark.parametrize("raw", ["25:00", "9.30", "half past nine", "0930", "09", 930, "09:30+02:00",
                                 "09:30Z"])
def test_time_rejects_bad_or_zoned_times(raw: Any) -> None:
    assert "time" in error_of({"type": "time"}, raw)


@pytest.mark.parametrize("raw, expected", [
    ("2025-06-13T09:30", "2025-06-13T09:30"),
    ("2025-06-13 09:30", "2025-06-13T09:30"),
    ("2025-06-13T09:30:45", "2025-06-13T09:30:45"),
    (dt.datetime(2025, 6, 13, 9, 30), "2025-06-13T09:30"),
    (dt.date(2025, 6, 13), "2025-06-13T00:00"),
    ("now", "2025-06-13T09:30:15"),
    ("today", "2025-06-13T00:00"),
])
def test_datetime_values(raw: Any, expected: str) -> None:
    assert value_of({"type": "datetime"}, raw) == expected


@pytest.mark.parametrize("raw", ["2025-06-13T25:00", "13.06.2025 09:30", "20250613T0930", "2025-06-13T09",
                                 "2025-06-13T09:30+02:00", "2025-06-13T09:30Z"])
def test_datetime_rejects_bad_or_zoned_values(raw: Any) -> None:
    assert "date and time" in error_of({"type": "datetime"}, raw)


def test_today_and_now_defaults_follow_the_given_now() -> None:
    template = make_template({
        "day": {"type": "date", "default": "today"},
        "moment": {"type": "datetime", "default": "now"},
        "clock": {"type": "time", "default": "now"},
    })
    result = check_answers(template, {}, now=NOW)
    assert result.errors == []
    assert result.values == {"day": "2025-06-13", "moment": "2025-06-13T09:30:15", "clock": "09:30:15"}
    later = check_answers(template, {}, now=dt.datetime(2026, 2, 1, 14, 0))
    assert later.values == {"day": "2026-02-01", "moment": "2026-02-01T14:00", "clock": "14:00"}


def test_an_answer_replaces_a_dynamic_default() -> None:
    template = make_template({"day": {"type": "date", "default": "today"}})
    assert check_answers(template, {"day": "2024-01-31"}, now=NOW).values == {"day": "2024-01-31"}


def test_date_bounds_with_today() -> None:
    spec = {"type": "date", "min": "2025-01-01", "max": "today"}
    assert value_of(spec, "2025-06-13") == "2025-06-13"
    assert value_of(spec, "2025-01-01") == "2025-01-01"
    assert error_of(spec, "2024-12-31") == "must not be before 2025-01-01"
    assert error_of(spec, "2025-06-14") == "must not be after 2025-06-13"


def test_time_bounds() -> None:
    spec = {"type": "time", "min": "08:00", "max": "18:00"}
    assert value_of(spec, "08:00") == "08:00"
    assert error_of(spec, "07:59") == "must not be before 08:00"
    assert error_of(spec, "18:00:01") == "must not be after 18:00"


def test_datetime_bounds_compare_in_time() -> None:
    spec = {"type": "datetime", "min": "2025-06-13T09:30"}
    assert value_of(spec, "2025-06-13 09:30:01") == "2025-06-13T09:30:01"
    assert error_of(spec, "2025-06-13T09:29:59") == "must not be before 2025-06-13T09:30"


# --- checkboxes ---------------------------------------------------------------------------


@pytest.mark.parametrize("raw, expected", [
    ("yes", True), ("no", False), ("on", True), ("off", False), ("", False), ("true", True),
    ("True", True), ("FALSE", False), (" Yes ", True), (True, True), (False, False), (1, True), (0, False),
    (None, False),
])
def test_checkbox_values(raw: Any, expected: bool) -> None:
    assert value_of({"type": "checkbox"}, raw) is expected


def test_unanswered_checkbox_is_unchecked() -> None:
    assert check_answers(one_field({"type": "checkbox"}), {}).values == {"x": False}


@pytest.mark.parametrize("raw", ["maybe", 2, [True], "2"])
def test_checkbox_rejects_other_answers(raw: Any) -> None:
    assert "checked or unchecked" in error_of({"type": "checkbox"}, raw)


# --- choices ------------------------------------------------------------------------------

CHOICE_OPTIONS = ["Microscopy", {"value": "cc", "label": "Cell Culture"}, "Other"]


@pytest.mark.parametrize("kind", ["dropdown", "radio"])
@pytest.mark.parametrize("raw, expected", [
    ("Microscopy", "Microscopy"), ("microscopy", "Microscopy"), (" Other ", "Other"),
    ("cc", "cc"), ("Cell Culture", "cc"), ("cell culture", "cc"), ("CC", "cc"),
])
def test_single_choice_matches_value_or_label(kind: str, raw: str, expected: str) -> None:
    assert value_of({"type": kind, "options": CHOICE_OPTIONS}, raw) == expected


@pytest.mark.parametrize("kind", ["dropdown", "radio"])
def test_single_choice_must_be_an_option(kind: str) -> None:
    message = error_of({"type": kind, "options": CHOICE_OPTIONS}, "Dog")
    assert "must be one of" in message
    for value in ("Microscopy", "cc", "Other"):
        assert value in message
    assert "Dog" in message


def test_options_source_accepts_any_text() -> None:
    spec = {"type": "dropdown", "options_source": "omero_groups_api"}
    assert value_of(spec, "Imaging Lab") == "Imaging Lab"
    assert value_of(spec, "  anything at all ") == "anything at all"


@pytest.mark.parametrize("kind", ["multi_select", "checkbox_group"])
@pytest.mark.parametrize("raw, expected", [
    (["405 nm", "488 nm"], ["405 nm", "488 nm"]),
    ("405 nm, 488 nm", ["405 nm", "488 nm"]),
    ("405 nm,488 nm,", ["405 nm", "488 nm"]),
    ("561 nm", ["561 nm"]),
    (["488 nm", "488 nm"], ["488 nm"]),
    (("405 nm",), ["405 nm"]),
    (["GREEN"], ["488 nm"]),
])
def test_multi_select_from_list_or_comma_text(kind: str, raw: Any, expected: list[str]) -> None:
    options = ["405 nm", {"value": "488 nm", "label": "Green"}, "561 nm"]
    assert value_of({"type": kind, "options": options}, raw) == expected


def test_multi_select_option_containing_a_comma_is_one_choice() -> None:
    spec = {"type": "multi_select", "options": ["red, dark", "blue"]}
    assert value_of(spec, "red, dark") == ["red, dark"]


@pytest.mark.parametrize("raw", [["405 nm", "UV"], "405 nm, UV"])
def test_multi_select_rejects_unknown_options(raw: Any) -> None:
    message = error_of({"type": "multi_select", "options": ["405 nm", "488 nm"]}, raw)
    assert "must be one of" in message and "UV" in message


def test_multi_select_selection_limits() -> None:
    spec = {"type": "multi_select", "options": ["a", "b", "c", "d"], "min_selections": 2, "max_selections": 3}
    assert value_of(spec, "a, b") == ["a", "b"]
    assert value_of(spec, ["a", "b", "c"]) == ["a", "b", "c"]
    assert error_of(spec, ["a"]) == "needs at least 2 selections (has 1)"
    assert error_of(spec, "a,b,c,d") == "allows at most 3 selections (has 4)"


def test_multi_select_min_selections_does_not_make_it_required() -> None:
    spec = {"type": "multi_select", "options": ["a", "b"], "min_selections": 2}
    result = check_answers(one_field(spec), {"x": []})
    assert result.errors == [] and result.values == {"x": None}


# --- text, e-mail, URL --------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["ada@example.org", "a.b+lab@uni-x.example.ac.uk"])
def test_email_accepts_addresses(raw: str) -> None:
    assert value_of({"type": "email"}, raw) == raw


@pytest.mark.parametrize("raw", ["ada", "ada@example", "ada example@x.org", "@example.org", "ada@@x.org"])
def test_email_rejects_non_addresses(raw: str) -> None:
    assert error_of({"type": "email"}, raw) == "must be an email address like name@example.org"


@pytest.mark.parametrize("raw", ["https://example.org/page", "http://localhost:8080", "doi:10.1000/182",
                                 "ftp://files.example.org/x"])
def test_url_accepts_web_addresses(raw: str) -> None:
    assert value_of({"type": "url"}, raw) == raw


@pytest.mark.parametrize("raw", ["example.org", "javascript:alert(1)", "https://", "https://exa mple.org",
                                 "file:///etc/passwd"])
def test_url_rejects_other_text(raw: str) -> None:
    assert error_of({"type": "url"}, raw) == "must be a web address like https://example.org/page"


def test_text_is_trimmed_and_numbers_become_text() -> None:
    assert value_of({"type": "text"}, "  Heat stress  ") == "Heat stress"
    assert value_of({"type": "text"}, 42) == "42"


def test_text_rejects_lists() -> None:
    assert "must be text" in error_of({"type": "text"}, ["a", "b"])


def test_text_pattern() -> None:
    spec = {"type": "text", "pattern": "^[A-Z]{3}[0-9]{6}$"}
    assert value_of(spec, "IMG202501") == "IMG202501"
    assert error_of(spec, "img202501") == "does not match the expected format ^[A-Z]{3}[0-9]{6}$"


def test_text_length_limits() -> None:
    spec = {"type": "text", "min_length": 3, "max_length": 5}
    assert value_of(spec, "abc") == "abc"
    assert value_of(spec, "abcde") == "abcde"
    assert error_of(spec, "ab") == "must be at least 3 characters long (it has 2)"
    assert error_of(spec, "abcdef") == "must be at most 5 characters long (it has 6)"


def test_textarea_keeps_inner_line_breaks() -> None:
    assert value_of({"type": "textarea"}, "line one\nline two\n") == "line one\nline two"


@pytest.mark.parametrize("spec, raw", [
    ({"type": "text", "pattern": "^[A-Z]{3}[0-9]{6}$"}, "nope"),
    ({"type": "text", "max_length": 2}, "long"),
    ({"type": "integer", "max": 5}, 9),
    ({"type": "email"}, "not-an-address"),
    ({"type": "multi_select", "options": ["a", "b"], "max_selections": 1}, ["a", "b"]),
])
def test_validation_message_replaces_the_constraint_message(spec: dict[str, Any], raw: Any) -> None:
    message = "Use the lab's format, e.g. IMG123456"
    assert error_of({**spec, "validation_message": message}, raw) == message


# --- required fields and unknown answers ----------------------------------------------------


@pytest.mark.parametrize("spec", [
    {"type": "text"}, {"type": "textarea"}, {"type": "integer"}, {"type": "date"},
    {"type": "dropdown", "options": ["a"]}, {"type": "multi_select", "options": ["a"]},
    {"type": "dropdown", "options_source": "omero_groups_api"},
])
@pytest.mark.parametrize("raw", [None, "", "   ", []])
def test_required_field_needs_an_answer(spec: dict[str, Any], raw: Any) -> None:
    result = check_answers(one_field({**spec, "required": True}), {"x": raw})
    assert [(e.key, e.message) for e in result.errors] == [("x", "is required")]


def test_required_field_missing_from_answers() -> None:
    result = check_answers(one_field({"type": "text", "required": True}), {})
    assert [(e.key, e.message) for e in result.errors] == [("x", "is required")]


def test_required_field_satisfied_by_its_default() -> None:
    template = one_field({"type": "dropdown", "options": ["a", "b"], "default": "b", "required": True})
    assert check_answers(template, {}).values == {"x": "b"}
    assert validate_answers(template, {}) == []


@pytest.mark.parametrize("raw", [False, "no", "", None])
def test_required_checkbox_must_be_checked(raw: Any) -> None:
    template = make_template({"consent": {"type": "checkbox", "required": True, "label": "I agree"}})
    errors = validate_answers(template, {"consent": raw})
    assert errors == [FieldError("consent", "I agree", "must be checked")]


def test_required_checkbox_checked_is_valid() -> None:
    template = make_template({"consent": {"type": "checkbox", "required": True}})
    assert validate_answers(template, {"consent": "yes"}) == []


def test_unknown_answer_keys_are_errors() -> None:
    template = make_template({"title": {"type": "text"}})
    errors = validate_answers(template, {"title": "ok", "titel": "typo", "extra": 1})
    assert {e.key for e in errors} == {"titel", "extra"}
    assert all("is not a field of template 't'" in e.message for e in errors)


def test_group_keys_are_not_answers() -> None:
    template = make_template({"sample": {"type": "group", "fields": {"name": {"type": "text"}}}})
    assert [e.key for e in validate_answers(template, {"sample": "x"})] == ["sample"]
    assert validate_answers(template, {"name": "x"}) == []


def test_no_answers_at_all() -> None:
    template = make_template({"note": {"type": "text"}, "count": {"type": "integer", "default": 2}})
    for answers in (None, {}):
        result = check_answers(template, answers)
        assert result.ok and result.values == {"note": None, "count": 2}


def test_answers_are_not_modified() -> None:
    template = make_template({"n": {"type": "integer"}})
    answers = {"n": "3"}
    check_answers(template, answers)
    assert answers == {"n": "3"}


# --- errors: content and order --------------------------------------------------------------


def test_errors_carry_key_label_and_readable_message_in_form_order() -> None:
    template = make_template({
        "sample_id": {"type": "text", "label": "Sample ID", "required": True},
        "imaging": {"type": "group", "label": "Imaging", "fields": {
            "laser_power": {"type": "decimal", "label": "Laser power", "max": 100, "unit": "%"},
            "objective": {"type": "dropdown", "options": ["20x", "63x"]},
        }},
        "temperature": {"type": "decimal", "min": 4, "unit": "°C"},
        "contact": {"type": "email"},
    })
    answers = {"contact": "nobody", "temperature": "2", "objective": "100x", "laser_power": "120",
               "unexpected": "x"}
    errors = validate_answers(template, answers)
    assert [e.key for e in errors] == ["sample_id", "laser_power", "objective", "temperature", "contact",
                                       "unexpected"]
    assert errors[0] == FieldError("sample_id", "Sample ID", "is required")
    assert errors[1] == FieldError("laser_power", "Laser power", "must be at most 100 %")
    assert errors[2].label == "Objective"  # a readable label made from the key
    assert errors[3].message == "must be at least 4 °C"
    assert str(errors[1]) == "Laser power (laser_power): must be at most 100 %"
    for error in errors:
        assert "Traceback" not in error.message and "ValueProblem" not in error.message
        assert not error.message.startswith(("'", "<"))


def test_one_error_per_field() -> None:
    template = make_template({"code": {"type": "text", "min_length": 5, "pattern": "^[0-9]+$"}})
    errors = validate_answers(template, {"code": "ab"})
    assert len(errors) == 1
    assert "at least 5 characters" in errors[0].message and "expected format" in errors[0].message


def test_resolve_answers_raises_with_every_error() -> None:
    template = make_template({"a": {"type": "text", "required": True}, "b": {"type": "integer"}})
    with pytest.raises(AnswersError) as caught:
        resolve_answers(template, {"b": "x"}, source="answers.yaml")
    assert [e.key for e in caught.value.errors] == ["a", "b"]
    text = str(caught.value)
    assert "2 invalid answers in answers.yaml" in text
    assert "A (a): is required" in text and "B (b): must be a number" in text


def test_values_are_in_form_order_and_check_is_ok() -> None:
    template = make_template({"z": {"type": "text"}, "a": {"type": "integer"}, "m": {"type": "checkbox"}})
    result = check_answers(template, {"m": "yes", "a": "1", "z": "last"})
    assert result.ok
    assert list(result.values) == ["z", "a", "m"]
    assert result.values == {"z": "last", "a": 1, "m": True}
    assert result.hidden == frozenset()


def test_invalid_value_is_blank_in_values() -> None:
    result = check_answers(make_template({"n": {"type": "integer"}}), {"n": "many"})
    assert not result.ok and result.values == {"n": None}


# --- conditions ---------------------------------------------------------------------------

CONDITIONAL = {
    "enable_omero": {"type": "checkbox", "default": True},
    "omero_group": {"type": "text", "required": True,
                    "condition": {"field": "enable_omero", "equals": True}},
    "image_count": {"type": "integer", "min": 1,
                    "condition": {"field": "enable_omero", "equals": True}},
    "note": {"type": "text"},
}


def test_shown_conditional_field_is_checked() -> None:
    template = make_template(CONDITIONAL)
    result = check_answers(template, {"image_count": "0"})
    assert [(e.key, e.message) for e in result.errors] == [
        ("omero_group", "is required"), ("image_count", "must be at least 1")]


def test_hidden_field_is_neither_required_nor_exported() -> None:
    template = make_template(CONDITIONAL)
    result = check_answers(template, {"enable_omero": False, "omero_group": "Lab", "image_count": 4})
    assert result.errors == []
    assert result.hidden == frozenset({"omero_group", "image_count"})
    assert result.values == {"enable_omero": False, "note": None}


def test_bad_value_in_hidden_field_is_no_error() -> None:
    template = make_template(CONDITIONAL)
    errors = validate_answers(template, {"enable_omero": "no", "image_count": "lots", "omero_group": ["x"]})
    assert errors == []


def test_chained_conditions() -> None:
    template = make_template({
        "use_stain": {"type": "checkbox"},
        "stain": {"type": "dropdown", "options": ["DAPI", "GFP"], "default": "DAPI",
                  "condition": {"field": "use_stain", "equals": True}},
        "dapi_lot": {"type": "text", "required": True, "condition": {"field": "stain", "equals": "DAPI"}},
    })
    # a hides b; b's answer (even its default) must not show c
    off = check_answers(template, {"use_stain": False, "stain": "DAPI"})
    assert off.errors == []
    assert off.hidden == frozenset({"stain", "dapi_lot"})
    assert off.values == {"use_stain": False}
    # a shows b; b's default shows c
    on = check_answers(template, {"use_stain": True})
    assert [e.key for e in on.errors] == ["dapi_lot"]
    assert on.values["stain"] == "DAPI"
    # b's value hides c
    gfp = check_answers(template, {"use_stain": True, "stain": "gfp", "dapi_lot": "L-1"})
    assert gfp.errors == [] and gfp.hidden == frozenset({"dapi_lot"})
    assert gfp.values == {"use_stain": True, "stain": "GFP"}


def test_condition_declared_before_the_field_it_reads() -> None:
    template = make_template({
        "detail": {"type": "text", "required": True, "condition": {"field": "kind", "equals": "other"}},
        "kind": {"type": "radio", "options": ["standard", "other"]},
    })
    assert [e.key for e in validate_answers(template, {"kind": "Other"})] == ["detail"]
    assert validate_answers(template, {"kind": "standard"}) == []


def test_condition_compares_coerced_numbers() -> None:
    template = make_template({
        "temperature": {"type": "decimal", "unit": "°C"},
        "heat_shock_minutes": {"type": "integer", "required": True,
                               "condition": {"field": "temperature", "gte": 40}},
    })
    assert [e.key for e in validate_answers(template, {"temperature": "42,5"})] == ["heat_shock_minutes"]
    assert validate_answers(template, {"temperature": "37"}) == []
    assert validate_answers(template, {}) == []  # blank never satisfies gte


def test_condition_on_multi_select_contains() -> None:
    template = make_template({
        "channels": {"type": "multi_select", "options": ["DAPI", "GFP"]},
        "gfp_exposure": {"type": "integer", "required": True,
                         "condition": {"field": "channels", "contains": "GFP"}},
    })
    assert [e.key for e in validate_answers(template, {"channels": "DAPI, GFP"})] == ["gfp_exposure"]
    assert validate_answers(template, {"channels": ["DAPI"]}) == []


def test_group_condition_hides_all_its_fields() -> None:
    template = make_template({
        "enable_omero": {"type": "checkbox"},
        "omero": {"type": "group", "label": "OMERO", "condition": {"field": "enable_omero", "equals": True},
                  "fields": {
                      "omero_group": {"type": "text", "required": True},
                      "omero_dataset": {"type": "text", "pattern": "^[a-z]+$"},
                      "advanced": {"type": "group", "fields": {
                          "omero_port": {"type": "integer", "required": True, "min": 1},
                      }},
                  }},
        "title": {"type": "text"},
    })
    hidden = check_answers(template, {"enable_omero": False, "omero_dataset": "BAD NAME", "omero_port": 0})
    assert hidden.errors == []
    assert hidden.hidden == frozenset({"omero_group", "omero_dataset", "omero_port"})
    assert hidden.values == {"enable_omero": False, "title": None}
    shown = check_answers(template, {"enable_omero": True, "omero_dataset": "BAD NAME", "omero_port": 0})
    assert [e.key for e in shown.errors] == ["omero_group", "omero_dataset", "omero_port"]
    assert set(shown.values) == {"enable_omero", "omero_group", "omero_dataset", "omero_port", "title"}


def test_field_condition_inside_a_shown_group() -> None:
    template = make_template({
        "sample": {"type": "group", "fields": {
            "fixed": {"type": "checkbox"},
            "fixative": {"type": "text", "required": True, "condition": {"field": "fixed", "equals": True}},
        }},
    })
    assert [e.key for e in validate_answers(template, {"fixed": "yes"})] == ["fixative"]
    assert check_answers(template, {"fixed": "no"}).hidden == frozenset({"fixative"})


def test_conditions_from_yaml_text() -> None:
    template = load_template("""
id: yaml-conditions
fields:
  mode: {type: radio, options: [fast, careful]}
  reason:
    type: textarea
    required: true
    condition: {not: {field: mode, equals: fast}}
""")
    assert [e.key for e in validate_answers(template, {"mode": "careful"})] == ["reason"]
    assert validate_answers(template, {"mode": "fast"}) == []


# --- the tutorial ---------------------------------------------------------------------------


def test_tutorial_answers_validate_clean(example_template_path, example_answers_path) -> None:
    template = load_template(example_template_path)
    answers = yaml.safe_load(example_answers_path.read_text(encoding="utf-8"))
    result = check_answers(template, answers)
    assert result.errors == []
    assert result.hidden == frozenset()
    assert list(result.values) == [f.key for f in template.fields]
    assert result.values["project_identifier"] == "IMG202501"
    assert result.values["enable_omero"] is True
    assert result.values["omero_group"] == "Imaging Lab"  # from an options_source: any text


def test_tutorial_without_omero_hides_the_omero_fields(example_template_path, example_answers_path) -> None:
    template = load_template(example_template_path)
    answers = yaml.safe_load(example_answers_path.read_text(encoding="utf-8"))
    answers["enable_omero"] = False
    answers["omero_project_link"] = "Not an option"  # hidden: not an error
    result = check_answers(template, answers)
    assert result.errors == []
    assert result.hidden == frozenset({"omero_group", "omero_project_link"})
    assert "omero_group" not in result.values and "omero_project_link" not in result.values
    assert result.values["enable_omero"] is False
    assert result.values["elabftw_experiment_type"] == "Microscopy"


def test_tutorial_errors_for_incomplete_answers(example_template_path) -> None:
    template = load_template(example_template_path)
    errors = validate_answers(template, {"project_identifier": "img-1", "sample_type": "Bacteria"})
    keys = [e.key for e in errors]
    assert keys[0] == "project_identifier"
    assert "sample_type" in keys and "experiment_title" in keys
    assert keys == [f.key for f in template.fields if f.key in keys]  # form order
    assert all(e.label and e.message for e in errors)
