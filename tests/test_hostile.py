"""Hostile input: a user's bad input is a clear UserError, never a crash, and writes nothing.

Every test here feeds the engine something a careless or malicious template author,
researcher or integration could produce: path traversal, reserved and unprintable
names, megabyte answers, YAML alias bombs, deep nesting, broken encodings, cycles.
The rule: :class:`TemplateError` (or another :class:`UserError`) with a message a
researcher can act on, no other exception, and no file or folder created.

Alias bombs and deep nesting run inside :func:`bounded`, which caps Python calls,
recursion and (on Linux) memory, so a regression fails fast instead of hanging CI.
"""
from __future__ import annotations

import contextlib
import json
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any, Iterator

import pytest

from metafold_widgets import check_answers, create_project, load_template, plan_project
from metafold_widgets.core.answers_file import answers_from_text, load_answers
from metafold_widgets.core.names import component_problem, safe_folder_name
from metafold_widgets.errors import AnswersError, InputFileError, TemplateError, UnsafeNameError, UserError

# --- helpers --------------------------------------------------------------------------------


class Exploded(BaseException):
    """Raised by :func:`bounded` when code under test does far more work than any template needs.

    A BaseException, so no ``except Exception`` in the code under test can swallow it.
    """


@contextlib.contextmanager
def bounded(calls: int = 2_000_000, memory: int = 1 << 30, frames: int = 400) -> Iterator[None]:
    """Run a block with a budget of Python calls, recursion depth and (on Linux) extra memory."""
    count = 0

    def tracer(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        count += 1
        if count > calls:
            sys.settrace(None)
            raise Exploded(f"more than {calls:,} Python calls: an input limit is missing")

    depth = _depth()
    old_recursion, old_trace = sys.getrecursionlimit(), sys.gettrace()
    old_memory = _cap_memory(memory)
    sys.setrecursionlimit(depth + frames)
    sys.settrace(tracer)
    try:
        yield
    finally:
        sys.settrace(old_trace)
        sys.setrecursionlimit(old_recursion)
        if old_memory is not None:
            import resource
            resource.setrlimit(resource.RLIMIT_AS, old_memory)


def _depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


def _cap_memory(extra: int) -> tuple[int, int] | None:
    """Limit the address space to what is in use plus ``extra``; the old limits, or None."""
    if not sys.platform.startswith("linux"):
        return None
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as statm:
        used = int(statm.read().split()[0]) * resource.getpagesize()
    limit = used + extra
    if (hard != resource.RLIM_INFINITY and limit > hard) or (soft != resource.RLIM_INFINITY and soft < limit):
        return None
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    return soft, hard


def template_error(source: Any) -> TemplateError:
    """The TemplateError that loading ``source`` raises (any other outcome fails the test)."""
    with pytest.raises(TemplateError) as caught:
        load_template(source)
    assert caught.value.problems, "a TemplateError must list its problems"
    return caught.value


def messages(error: TemplateError) -> str:
    return "\n".join(p.message for p in error.problems)


def tree(path: Path) -> list[str]:
    """Everything under ``path``, to prove nothing was written."""
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def yaml_quoted(text: str) -> str:
    """``text`` as a YAML double-quoted scalar (escapes for what YAML may not contain raw)."""
    return re.sub("[\x7f-\x9f]", lambda m: f"\\x{ord(m.group()):02x}", json.dumps(text, ensure_ascii=False))


def cycle_members(message: str) -> set[str]:
    """The field keys named in "conditions form a cycle: a -> b -> a"."""
    return {name.strip() for name in message.split("cycle:", 1)[1].split("->")}


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


TITLED = {"id": "titled", "name": "Titled", "project_name": "{title}",
          "fields": {"title": {"type": "text", "required": True}, "notes": {"type": "textarea"}},
          "folders": ["raw", "analysis"]}


# --- unsafe folder paths in templates ---------------------------------------------------------

UNSAFE_PATHS = [
    ("../x", "contains '..'"),
    ("a/../../b", "contains '..'"),
    ("a\\..\\b", "contains '..'"),
    ("..", "contains '..'"),
    ("/etc", "is absolute"),
    ("/", "is absolute"),
    ("C:\\x", "is absolute"),
    ("c:x", "is absolute"),
    ("\\\\server\\share", "is absolute"),
    ("//server/share", "is absolute"),
    ("CON", "reserved device name"),
    ("con.txt", "reserved device name"),
    ("NUL", "reserved device name"),
    ("data/nul.tar.gz", "reserved device name"),
    ("COM1", "reserved device name"),
    ("LPT9", "reserved device name"),
    ("AUX .txt", "reserved device name"),
    ("lpt¹", "reserved device name"),
    *[(f"bad{c}name", repr(c)) for c in '<>"|?*'],
    ("ok/bad:name", "':'"),
    ("trailing.", "ends with a dot or space"),
    ("data./raw", "ends with a dot or space"),
    ("raw /images", "ends with a dot or space"),
    ("a/ /b", "ends with a dot or space"),
    (".", "current or the parent folder"),
    ("a/./b", "current or the parent folder"),
    ("a\x00b", "control character"),
    ("a\tb", "control character"),
    ("a\x1b[2Jb", "control character"),
    ("a\x7fb", "control character"),
    ("a\x9bb", "control character"),
    ("invoice\u202efdp.exe", "text-direction mark"),
    ("ok/a\ud800b", "surrogate"),
    ("x" * 256, "longer than 255 bytes"),
    ("é" * 128, "longer than 255 bytes"),
    ("data/" + "😀" * 64, "longer than 255 bytes"),
    ("/".join(["x" * 200] * 6), "longer than 1024 bytes"),
    ("", "empty"),
    ("   ", "empty"),
    ("a//b", "empty part"),
]
UNSAFE_IDS = [json.dumps(p)[:40] for p, _ in UNSAFE_PATHS]


@pytest.mark.parametrize("path, fragment", UNSAFE_PATHS, ids=UNSAFE_IDS)
def test_unsafe_folder_in_a_list_is_a_template_error(path: str, fragment: str) -> None:
    error = template_error({"id": "t", "folders": ["fine", path]})
    assert len(error.problems) == 1, error.problems
    message = error.problems[0].message
    # broken Unicode is refused as soon as the data is read, before any path rule
    assert "unsafe folder path" in message or "(at folders/1)" in message
    assert fragment in message


@pytest.mark.parametrize("path, fragment", UNSAFE_PATHS, ids=UNSAFE_IDS)
def test_unsafe_folder_in_yaml_text_is_reported_on_its_line(path: str, fragment: str) -> None:
    text = f"id: t\nfolders:\n  - fine\n  - {yaml_quoted(path)}\n  - also_fine\n"
    error = template_error(text)
    assert [(p.line, fragment in p.message) for p in error.problems] == [(4, True)]


@pytest.mark.parametrize("path, fragment", UNSAFE_PATHS, ids=UNSAFE_IDS)
def test_unsafe_folder_as_a_mapping_key_or_file_is_a_template_error(path: str, fragment: str) -> None:
    assert fragment in messages(template_error({"id": "t", "folders": {"fine": None, path: ["sub"]}}))
    assert fragment in messages(template_error({"id": "t", "files": [path]}))


def test_messages_show_control_characters_escaped_and_long_names_shortened() -> None:
    error = template_error({"id": "t", "folders": ["a\x1b[2Jb", "y" * 5000, "b\u202ec"]})
    text = str(error)
    assert "\x1b" not in text and "\\x1b" in text
    assert "\\u202e" in text
    text.encode("utf-8")  # printable on any terminal
    assert len(text) < 1000
    broken = str(template_error({"id": "t", "folders": ["d\udc80"]}))
    broken.encode("utf-8")
    assert "surrogate" in broken


@pytest.mark.parametrize("text, line", [
    ("id: t\nname: a\ud800b\n", 2), ('{"id": "t",\n "name": "\udc80"}', 2), ("id: \udfff\n", 1)])
def test_text_with_lone_surrogates_is_a_template_error_with_a_line(text: str, line: int) -> None:
    error = template_error(text)
    assert "surrogate" in messages(error) and error.problems[0].line == line


@pytest.mark.parametrize("block, fragment", [
    ("data/\n  ../../outside/\n", "contains '..'"),
    ("data/\n  ..\\..\\outside\n", "contains '..'"),
    ("/etc/\n", "is absolute"),
    ("C:\\Windows\n", "is absolute"),
    ("data/\n  con/\n", "reserved device name"),
    ("data/\n├── ok/\n└── bad?/\n", "'?'"),
])
def test_unsafe_entries_of_a_text_block_are_template_errors(block: str, fragment: str) -> None:
    assert fragment in messages(template_error({"id": "t", "folders": block}))


@pytest.mark.parametrize("log_folder", ["../logs", "/var/log", "C:\\logs", "logs/CON", "a\x00b"])
def test_unsafe_log_folder_is_a_template_error(log_folder: str) -> None:
    assert "unsafe log folder" in messages(template_error({"id": "t", "log_folder": log_folder}))


@pytest.mark.parametrize("entry, fragment", [
    (None, "is not a name"), (True, "is not a name"), (1.5, "is not a name"), ({"a": 3}, "must be a list"),
    (["x", 2.5], "is not a name"), ({True: None}, "is not text")])
def test_folder_entries_that_are_not_names_are_template_errors(entry: Any, fragment: str) -> None:
    assert fragment in messages(template_error({"id": "t", "folders": [entry]}))


@pytest.mark.parametrize("folders", [42, 1.5, True])
def test_folders_of_the_wrong_type_are_template_errors(folders: Any) -> None:
    assert "folders must be" in messages(template_error({"id": "t", "folders": folders}))


def test_names_differing_only_in_case_are_a_template_error() -> None:
    error = template_error({"id": "t", "folders": ["Data/raw", "data/analysis"]})
    assert "differ only in letter case" in messages(error)


def test_folder_names_are_nfc_normalised_so_macos_and_linux_agree() -> None:
    nfd = unicodedata.normalize("NFD", "café/données")
    template = load_template({"id": "t", "folders": [nfd, "café/résultats"]})
    assert template.folders.folders == ("café", "café/données", "café/résultats")


def test_surrounding_spaces_and_windows_separators_are_tidied_not_kept() -> None:
    template = load_template({"id": "t", "folders": ["  raw  ", "raw\\images\\", "a/b/"]})
    assert template.folders.folders == ("raw", "raw/images", "a", "a/b")
    assert all(component_problem(part) is None for f in template.folders.folders for part in f.split("/"))


def test_a_folder_tree_with_too_many_entries_is_a_template_error() -> None:
    error = template_error({"id": "t", "folders": [f"f{i}" for i in range(10_001)]})
    assert "more than 10,000 entries" in messages(error)


# --- project names from name= and from answers --------------------------------------------------

HOSTILE_NAMES = ["../../etc", "..", ".", "/abs", "/", "CON", "con.txt", "nul.tar.gz", "   ", "...", ". .",
                 '<>:"|?*', "\\\\server\\share", "C:\\Windows", "a/../..", "..\\..\\x", "~", "~/x", "$HOME",
                 "\x00", "\x1b[31mred", "a\nb", "tab\there", "\u202eexe.jpg", "x" * 300, "é" * 200,
                 "😀" * 100, unicodedata.normalize("NFD", "Élodie's café"), "-rf", ".hidden", "trailing. ",
                 "CON .txt", "LPT¹"]
NAME_IDS = [json.dumps(n)[:30] for n in HOSTILE_NAMES]


def _assert_inside(dest: Path, create: Any) -> None:
    """Either UnsafeNameError with nothing written, or a safe folder directly inside ``dest``."""
    try:
        project = create()
    except UnsafeNameError as exc:
        assert "no characters usable" in str(exc) or "name" in str(exc)
        assert tree(dest) == []
        return
    assert project.parent == dest
    assert project.is_dir() and not project.is_symlink()
    assert component_problem(project.name) is None, project.name
    assert not project.name.startswith(".")
    assert project.name == unicodedata.normalize("NFC", project.name)
    assert len(project.name.encode("utf-8")) <= 255
    assert [p.name for p in dest.iterdir()] == [project.name]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=NAME_IDS)
def test_a_hostile_name_argument_lands_directly_inside_dest(tmp_path: Path, name: str) -> None:
    template = load_template(TITLED)
    _assert_inside(tmp_path, lambda: create_project(template, {"title": "Fine"}, tmp_path, name=name,
                                                    created_by="tester"))


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=NAME_IDS)
def test_a_hostile_answer_used_as_project_name_lands_directly_inside_dest(tmp_path: Path, name: str) -> None:
    template = load_template(TITLED)
    try:
        _assert_inside(tmp_path, lambda: create_project(template, {"title": name}, tmp_path, created_by="t"))
    except AnswersError:  # a blank title is "required", which is also a clear answer
        assert not name.strip() and tree(tmp_path) == []


@pytest.mark.parametrize("name", ["..", ".", "...", ". .", '<>:"|?*', "\x00", "\x00\x01", "/", "\\", "_", "._."])
def test_names_with_nothing_usable_raise_unsafe_name_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnsafeNameError):
        safe_folder_name(name)
    with pytest.raises(UnsafeNameError):
        create_project(load_template(TITLED), {"title": "Fine"}, tmp_path, name=name, created_by="t")
    assert tree(tmp_path) == []


@pytest.mark.parametrize("name, expected", [
    ("../../etc", "etc"), ("/abs", "abs"), ("CON", "CON_"), ("con.txt", "con_.txt"),
    ("a/../..", "a"), ("C:\\Windows", "C_Windows"), ("\u202eexe.jpg", "exe.jpg"),
    (unicodedata.normalize("NFD", "café"), "café"),
])
def test_dangerous_names_are_sanitised_predictably(name: str, expected: str) -> None:
    assert safe_folder_name(name) == expected


def test_plan_of_a_traversal_name_points_inside_dest(tmp_path: Path) -> None:
    plan = plan_project(load_template(TITLED), {"title": "x"}, tmp_path, name="../../../../etc/passwd",
                        created_by="t")
    assert plan.path.parent == tmp_path
    assert plan.path.resolve().parent == tmp_path.resolve()
    assert tree(tmp_path) == []


# --- huge values -----------------------------------------------------------------------------------

def test_a_one_megabyte_text_answer_is_stored_and_the_folder_name_stays_short(tmp_path: Path) -> None:
    template = load_template(TITLED)
    title, notes = "T" * 1_000_000, "line\n" * 200_000
    project = create_project(template, {"title": title, "notes": notes}, tmp_path, created_by="t")
    assert project.parent == tmp_path and len(project.name) <= 120
    record = json.loads((project / "metafold.json").read_text(encoding="utf-8"))
    assert record["answers"]["title"] == title
    assert record["answers"]["notes"] == notes.strip()


def test_a_one_megabyte_answer_that_breaks_a_rule_gives_a_short_message(tmp_path: Path) -> None:
    template = load_template({"id": "t", "fields": {
        "code": {"type": "text", "pattern": "^[A-Z]{3}$"},
        "short": {"type": "text", "max_length": 200},
        "count": {"type": "integer"}}})
    answers = {"code": "x" * 1_000_000, "short": "y" * 1_000_000, "count": "9" * 1_000_000 + "x"}
    with pytest.raises(AnswersError) as caught:
        create_project(template, answers, tmp_path, name="p", created_by="t")
    assert {e.key for e in caught.value.errors} == {"code", "short", "count"}
    assert len(str(caught.value)) < 2_000
    assert "at most 200 characters" in str(caught.value)
    assert tree(tmp_path) == []


def test_a_ten_thousand_option_dropdown_loads_and_checks() -> None:
    options = [f"option {i}" for i in range(10_000)]
    text = "id: t\nfields:\n  pick: {type: dropdown, options: %s}\n  many: {type: multi_select, options: %s}\n" % (
        json.dumps(options), json.dumps(options))
    template = load_template(text)
    assert len(template.field("pick").options) == 10_000
    assert check_answers(template, {"pick": "option 9999", "many": options}).ok
    wrong = check_answers(template, {"pick": "option 10000"})
    assert [e.key for e in wrong.errors] == ["pick"]
    assert "more" in wrong.errors[0].message and len(wrong.errors[0].message) < 500


def test_a_five_thousand_field_template_loads_and_one_more_is_a_template_error(tmp_path: Path) -> None:
    kinds = ["text", "integer", "decimal", "date", "checkbox", "textarea", "email", "url", "time"]
    fields = {f"f{i}": {"type": kinds[i % len(kinds)], "label": f"Field {i}"} for i in range(5_000)}
    text = json.dumps({"id": "big", "fields": fields}, indent=1)
    template = load_template(text)
    assert len(template.fields) == 5_000
    assert check_answers(template, {"f0": "x", "f1": "3", "f4": "yes"}).ok
    project = create_project(template, {"f0": "big project"}, tmp_path, created_by="t")
    assert project.parent == tmp_path
    fields["f5000"] = {"type": "text"}
    assert "more than 5,000 fields" in messages(template_error({"id": "big", "fields": fields}))


def test_a_template_text_over_the_size_limit_is_a_template_error() -> None:
    text = "id: t\ndescription: " + "x" * 5_000_001 + "\n"
    assert "too large" in messages(template_error(text))


# --- unicode everywhere --------------------------------------------------------------------------

UNICODE_TEMPLATE = """\
id: unicode
name: "Ünïcödé 🧪 تجربة"
project_name: "{titel}_{שם}"
folders:
  - "données/🧬 séquences"
  - "نتائج/שלב_א"
  - "日本語/データ"
fields:
  titel:
    type: text
    label: "Titel 🔬 (كلمة) e\u0301"
    required: true
  שם:
    type: text
    label: "שם הניסוי"
  größe:
    type: dropdown
    label: "Größe ↔ حجم"
    options: ["klein 🐭", "groß 🐘", "وسط"]
  notes:
    type: textarea
"""


def test_unicode_in_keys_labels_options_values_and_names_round_trips(tmp_path: Path) -> None:
    template = load_template(UNICODE_TEMPLATE)
    assert [f.key for f in template.fields] == ["titel", "שם", "größe", "notes"]
    answers = {"titel": unicodedata.normalize("NFD", "Études 🧫"), "שם": "ניסוי ‏ראשון",
               "größe": "groß 🐘", "notes": "👩‍🔬 combining: a\u0301\u0302 — RTL: مرحبا"}
    project = create_project(template, answers, tmp_path, created_by="Zoë 🙂")
    assert project.parent == tmp_path
    assert project.name == unicodedata.normalize("NFC", project.name)
    assert project.name.startswith("Études_🧫_ניסוי")
    for folder in template.folders.folders:
        assert (project / folder).is_dir()
    record = json.loads((project / "metafold.json").read_text(encoding="utf-8"))
    assert record["answers"]["größe"] == "groß 🐘"
    assert record["answers"]["notes"] == answers["notes"]
    assert "Größe ↔ حجم" in (project / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("key", ["😀", "x😀", "a\u200bb", "a b", "1abc", "a.b", "-a", "a\u202eb"])
def test_field_keys_that_are_not_identifiers_are_template_errors_naming_them(key: str) -> None:
    error = template_error({"id": "t", "fields": {key: {"type": "text"}}})
    assert "field key" in messages(error) and repr(key) in messages(error)


def test_a_field_key_with_a_combining_accent_loads_as_nfc_or_is_a_template_error() -> None:
    nfd = unicodedata.normalize("NFD", "café")
    try:
        template = load_template({"id": "t", "fields": {nfd: {"type": "text"}}})
    except TemplateError as exc:
        assert "field key" in str(exc)
    else:
        assert [f.key for f in template.fields] == ["café"]


def test_a_byte_order_mark_and_crlf_line_ends_are_fine() -> None:
    text = "\ufeffid: t\r\nfolders:\r\n  - raw\r\nfields:\r\n  a: {type: text}\r\n"
    template = load_template(text)
    assert template.folders.folders == ("raw",) and [f.key for f in template.fields] == ["a"]


# --- malformed YAML and JSON ---------------------------------------------------------------------

MALFORMED = [
    ("bad-indent.yaml", "id: t\nfolders:\n  - a\n - b\n", 4),
    ("bad-mapping-indent.yaml", "id: t\nfields:\n  a:\n    type: text\n   label: x\n", 5),
    ("unclosed-double.yaml", 'id: t\nname: "unclosed\nfolders: [a]\n', None),
    ("unclosed-single.yaml", "id: t\nname: 'unclosed\n", None),
    ("unclosed-flow.yaml", "id: t\nfolders: [a, b\nname: x\n", None),
    ("tab-indent.yaml", "id: t\nfolders:\n\t- a\n", 3),
    ("tab-in-mapping.yaml", "id: t\nfields:\n  a:\n\ttype: text\n", 4),
    ("duplicate-key.yaml", "id: t\nname: a\nname: b\n", 3),
    ("nul-character.yaml", "id: t\nname: a\x00b\n", 2),
    ("bad-date.yaml", "id: t\nfields:\n  d: {type: date, default: 2024-13-45}\n", 3),
    ("unknown-tag.yaml", "id: t\nname: !!python/object/apply:os.system [echo hi]\n", 2),
    ("two-documents.yaml", "id: t\n---\nid: u\n", None),
    ("trailing-comma.json", '{\n  "id": "t",\n  "folders": ["a",]\n}\n', 3),
    ("trailing-comma-object.json", '{\n  "id": "t",\n}\n', 3),
    ("truncated.json", '{\n  "id": "t",\n  "folders": ["a"', 3),
    ("single-quotes.json", "{\n  'id': 't'\n}\n", 2),
    ("comment.json", '{\n  // a comment\n  "id": "t"\n}\n', 2),
    ("huge-integer.json", '{"id": "t", "version": ' + "9" * 5000 + "}", None),
    ("lone-surrogate.json", '{"id": "t", "name": "\\ud800"}', None),
    ("duplicate-key.json", '{\n  "id": "t",\n  "id": "u"\n}\n', 3),
]


@pytest.mark.parametrize("name, text, line", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_files_are_template_errors_naming_file_and_line(tmp_path: Path, name: str, text: str,
                                                                   line: int | None) -> None:
    path = write(tmp_path, name, text)
    error = template_error(path)
    assert all(p.source == str(path) for p in error.problems)
    lines = text.count("\n") + 1
    if line is not None:
        assert error.problems[0].line == line, error.problems
    elif error.problems[0].line is not None:
        assert 1 <= error.problems[0].line <= lines
    assert str(path) in str(error)


@pytest.mark.parametrize("text", [
    "- a\n- b\n", "just some words\n", "42\n", "null\n", "~\n", "[]\n", "[1, 2]\n", '"text"\n', "true\n",
    "", "\n\n", "# only\n# comments\n", "---\n...\n", "\ufeff",
])
def test_documents_that_are_not_a_mapping_are_template_errors(tmp_path: Path, text: str) -> None:
    error = template_error(write(tmp_path, "odd.yaml", text))
    assert "mapping" in messages(error) or "empty" in messages(error)


@pytest.mark.parametrize("content", [
    "id: café\n".encode("latin-1"),
    "id: t\n".encode("utf-16"),
    b"\xff\xfe\x00\x00garbage",
    b"id: t\nname: \xc3\x28\n",
    bytes(range(256)),
])
def test_a_file_that_is_not_utf8_is_a_template_error(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path, "binary.yaml", content)
    error = template_error(path)
    assert "UTF-8" in str(error) and str(path) in str(error)


def test_a_folder_given_as_template_path_is_a_template_error(tmp_path: Path) -> None:
    folder = tmp_path / "looks-like.yaml"
    folder.mkdir()
    for source in (folder, str(folder), tmp_path):
        assert "folder" in str(template_error(source))


def test_a_missing_template_file_is_a_template_error(tmp_path: Path) -> None:
    assert "not found" in str(template_error(tmp_path / "missing.yaml"))
    assert "not found" in str(template_error(str(tmp_path / "missing.yaml")))


# --- alias bombs and recursive aliases -------------------------------------------------------------

def _laughs(prefix: str, anchor: str, levels: int = 9) -> list[str]:
    """YAML lines that expand into 10**levels values through aliases."""
    lines = [f"{prefix}&{anchor}0 [a, b, c, d, e, f, g, h, i, j]"]
    for n in range(1, levels):
        lines.append(f"{prefix}&{anchor}{n} [" + ", ".join([f"*{anchor}{n - 1}"] * 10) + "]")
    return lines


BOMBS = {
    "folders-list": "\n".join(["id: t", "folders:", *_laughs("  - ", "x")]),
    "folders-mapping": "\n".join(
        ["id: t", "folders:", "  x0: &x0 {a: , b: , c: , d: , e: , f: , g: , h: , i: , j: }",
         *[f"  x{n}: &x{n} {{" + ", ".join(f"k{j}: *x{n - 1}" for j in range(10)) + "}" for n in range(1, 9)]]),
    "files": "\n".join(["id: t", "files:", *_laughs("  - ", "x")]),
    "options": "\n".join(
        ["id: t", "fields:", "  f0: {type: dropdown, options: &o0 [a, b, c, d, e, f, g, h, i, j]}",
         *[f"  f{n}: {{type: dropdown, options: &o{n} [" + ", ".join([f"*o{n - 1}"] * 10) + "]}"
           for n in range(1, 9)]]),
    "groups": "\n".join(
        ["id: t", "fields:", "  g0: &g0 {type: group, fields: {a: {type: text}, b: {type: text}}}",
         *[f"  g{n}: &g{n} {{type: group, fields: {{a{n}: *g{n - 1}, b{n}: *g{n - 1}}}}}" for n in range(1, 30)]]),
    "conditions": "\n".join(
        ["id: t", "fields:", "  a: {type: text}", "  b: {type: text, condition: &c0 {field: a, equals: x}}",
         *[f"  c{n}: {{type: text, condition: &c{n} {{any: [*c{n - 1}, *c{n - 1}]}}}}" for n in range(1, 40)]]),
    "unknown-key": "\n".join(["id: t", "lol:", *_laughs("  - ", "x")]),
    "description": "\n".join(["id: t", "description:", *_laughs("  - ", "x")]),
}
RECURSIVE = {
    "folders-list": "id: t\nfolders: &a [x, *a]\n",
    "folders-mapping": "id: t\nfolders: &a {x: *a}\n",
    "fields": "id: t\nfields: &f\n  g: {type: group, fields: *f}\n",
    "condition": "id: t\nfields:\n  a: {type: text}\n  b: {type: text, condition: &c {not: *c}}\n",
    "options": "id: t\nfields:\n  a: {type: dropdown, options: &o [x, *o]}\n",
    "description": "id: t\ndescription: &d [*d]\n",
}


@pytest.mark.parametrize("name", BOMBS)
def test_a_billion_laughs_alias_bomb_fails_fast_with_a_template_error(name: str) -> None:
    with bounded():
        error = template_error(BOMBS[name])
    assert "aliases" in messages(error)
    assert error.problems[0].line is not None


@pytest.mark.parametrize("name", RECURSIVE)
def test_an_alias_that_contains_itself_is_a_template_error(name: str) -> None:
    with bounded():
        error = template_error(RECURSIVE[name])
    assert "contains itself" in messages(error)


def test_ordinary_anchors_for_shared_option_lists_still_work() -> None:
    text = ("id: t\nfields:\n  a: {type: dropdown, options: &units [nm, µm, mm]}\n"
            "  b: {type: dropdown, options: *units}\n  c: {type: multi_select, options: *units}\n")
    with bounded():
        template = load_template(text)
    assert template.field("c").option_values() == ["nm", "µm", "mm"]


# --- deep nesting --------------------------------------------------------------------------------

DEEP = {
    "json-array-10000": "[" * 10_000 + "]" * 10_000,
    "json-object-10000": '{"a":' * 10_000 + "1" + "}" * 10_000,
    "json-in-folders-500": '{"id": "t", "folders": ' + "[" * 500 + '"a"' + "]" * 500 + "}",
    "yaml-flow-10000": "id: t\nfolders: " + "[" * 10_000 + "a" + "]" * 10_000 + "\n",
    "yaml-block-2000": "id: t\nfolders:\n" + "".join(" " * (2 * i + 2) + f"d{i}:\n" for i in range(2_000)),
    "yaml-folders-mapping-500": "id: t\nfolders: " + "{a: " * 500 + "b" + "}" * 500 + "\n",
    "yaml-condition-900": "id: t\nfields:\n  a: {type: text}\n  b:\n    type: text\n    condition: "
                          + "{not: " * 900 + "{field: a, equals: x}" + "}" * 900 + "\n",
    "json-condition-500": '{"id": "t", "fields": {"a": {"type": "text"}, "b": {"type": "text", "condition": '
                          + '{"not": ' * 500 + '{"field": "a", "equals": "x"}' + "}" * 500 + "}}}",
}


@pytest.mark.parametrize("name", DEEP)
def test_deep_nesting_is_a_template_error_not_a_recursion_error(name: str) -> None:
    with bounded():
        error = template_error(DEEP[name])
    assert "nested" in messages(error) or "nesting" in messages(error)


def _deep_condition(levels: int) -> dict[str, Any]:
    condition: dict[str, Any] = {"field": "a", "equals": "x"}
    for _ in range(levels):
        condition = {"not": condition}
    return condition


def test_python_data_with_a_deep_condition_is_a_template_error() -> None:
    """Data from a caller (an integration's parsed JSON) meets the same limits as text."""
    data = {"id": "t", "fields": {"a": {"type": "text"}, "b": {"type": "text", "condition": _deep_condition(3_000)}}}
    with bounded():
        error = template_error(data)
    assert "nested" in messages(error)


def test_python_data_whose_folders_contain_themselves_is_a_template_error() -> None:
    folders: list[Any] = ["x"]
    folders.append(folders)
    with bounded():
        template_error({"id": "t", "folders": folders})


# --- conditions that form cycles -------------------------------------------------------------------

def _chain(n: int, cycle: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for i in range(1, n + 1):
        target = i + 1 if i < n else (1 if cycle else None)
        fields[f"a{i}"] = {"type": "text", **({"condition": {"field": f"a{target}", "equals": "x"}} if target else {})}
    return {"id": "t", "fields": fields}


@pytest.mark.parametrize("fields, members", [
    ({"a": {"type": "text", "condition": {"field": "a", "equals": "x"}}}, ["a"]),
    ({"a": {"type": "text", "condition": {"field": "b", "equals": "x"}},
      "b": {"type": "checkbox", "condition": {"not": {"field": "a", "equals": "y"}}}}, ["a", "b"]),
    ({"g": {"type": "group", "condition": {"field": "inner", "equals": "x"},
            "fields": {"inner": {"type": "text"}}}}, ["g", "inner"]),
    ({"a": {"type": "text", "condition": {"any": [{"field": "b", "equals": "1"}, {"field": "c", "equals": "2"}]}},
      "b": {"type": "text"}, "c": {"type": "text", "condition": [{"field": "a", "not_equals": "z"}]}}, ["a", "c"]),
])
def test_short_condition_cycles_are_template_errors(fields: dict[str, Any], members: list[str]) -> None:
    error = template_error({"id": "t", "fields": fields})
    cycle = [p for p in error.problems if "cycle" in p.message]
    assert len(cycle) == 1
    assert cycle_members(cycle[0].message) == set(members)


def test_a_fifty_field_cycle_is_one_template_error_naming_every_member() -> None:
    error = template_error(_chain(50, cycle=True))
    assert len(error.problems) == 1
    assert cycle_members(error.problems[0].message) == {f"a{i}" for i in range(1, 51)}


def test_two_separate_cycles_are_two_template_errors() -> None:
    fields = {**_chain(3, cycle=True)["fields"],
              "b1": {"type": "text", "condition": {"field": "b2", "equals": "x"}},
              "b2": {"type": "text", "condition": {"field": "b1", "equals": "x"}}}
    error = template_error({"id": "t", "fields": fields})
    assert len([p for p in error.problems if "cycle" in p.message]) == 2


def test_a_thousand_field_cycle_is_a_template_error() -> None:
    error = template_error(_chain(1_000, cycle=True))
    assert len(error.problems) == 1
    assert cycle_members(error.problems[0].message) == {f"a{i}" for i in range(1, 1_001)}


def test_a_long_chain_without_a_cycle_loads_and_checks() -> None:
    template = load_template(_chain(2_000, cycle=False))
    checked = check_answers(template, {f"a{i}": "x" for i in range(1, 2_001)})
    assert checked.ok and len(checked.values) == 2_000
    assert check_answers(template, {"a2000": "no"}).values == {"a2000": "no"}  # the rest is hidden


# --- YAML 1.1 surprises ------------------------------------------------------------------------------

SURPRISES = """\
start: 10:30
long_time: 1:20:30
id: 0123
flag: no
answer: yes
toggle: on
letter: n
octal: 0o17
hex: 0x1F
version: 1.0.0
"""


def test_answers_keep_their_text_for_sexagesimal_octal_and_yes_no(tmp_path: Path) -> None:
    expected = {"start": "10:30", "long_time": "1:20:30", "id": "0123", "flag": "no", "answer": "yes",
                "toggle": "on", "letter": "n", "octal": "0o17", "hex": "0x1F", "version": "1.0.0"}
    assert answers_from_text(SURPRISES) == expected
    assert load_answers(write(tmp_path, "answers.yaml", SURPRISES)) == expected
    template = load_template({"id": "t", "fields": {k: {"type": "text"} for k in expected}})
    assert check_answers(template, expected).values == expected


def test_surprising_scalars_in_templates_keep_their_text_too() -> None:
    text = ("id: t\nfields:\n  slot: {type: dropdown, options: [10:30, 0123, no, yes, on, off]}\n"
            "  code: {type: text, default: 0123}\n  when: {type: time, default: 10:30}\n"
            "  ok: {type: checkbox, default: no}\nfolders: [0123, 2025, no]\n")
    template = load_template(text)
    assert template.field("slot").option_values() == ["10:30", "0123", "no", "yes", "on", "off"]
    assert template.field("code").default == "0123"
    assert template.field("when").default == "10:30"
    assert template.field("ok").default is False
    assert template.folders.folders == ("0123", "2025", "no")
    assert check_answers(template, {"slot": "10:30", "when": "10:30", "ok": "no"}).ok


# --- malformed answers files ---------------------------------------------------------------------------

BAD_ANSWERS = [
    ("bad-indent.yaml", "title: x\n  notes: y\n", 2),
    ("unclosed.yaml", 'title: "x\nnotes: y\n', None),
    ("tabs.yaml", "title: x\nnotes:\n\t- y\n", 3),
    ("duplicate.yaml", "title: x\ntitle: y\n", 2),
    ("not-text-key.yaml", "title: x\n42: y\n", 2),
    ("trailing-comma.json", '{\n  "title": "x",\n}\n', 3),
    ("truncated.json", '{\n  "title": "x",\n  "notes": "y', 3),
    ("huge-integer.json", '{"title": ' + "9" * 5000 + "}", None),
    ("nul.yaml", "title: x\nnotes: a\x00b\n", 2),
    ("recursive.yaml", "title: x\nnotes: &n [*n]\n", 2),
]


@pytest.mark.parametrize("name, text, line", BAD_ANSWERS, ids=[b[0] for b in BAD_ANSWERS])
def test_malformed_answers_files_name_file_and_line(tmp_path: Path, name: str, text: str, line: int | None) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(InputFileError) as caught:
        load_answers(path)
    message = str(caught.value)
    assert str(path) in message
    if line is not None:
        assert f"{path}:{line}:" in message, message


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "42\n", "[1, 2]\n"])
def test_answers_that_are_not_a_mapping_are_input_file_errors(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "answers.yaml", text)
    with pytest.raises(InputFileError, match="mapping"):
        load_answers(path)


def test_answers_file_encoding_folder_missing_and_bomb_are_input_file_errors(tmp_path: Path) -> None:
    cases = {
        write(tmp_path, "latin1.yaml", "title: café\n".encode("latin-1")): "UTF-8",
        tmp_path / "missing.yaml": "not found",
        write(tmp_path, "bomb.yaml", "\n".join(["title: x", "notes:", *_laughs("  - ", "x")])): "aliases",
    }
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    cases[folder] = str(folder)
    for path, fragment in cases.items():
        with bounded(), pytest.raises(InputFileError) as caught:
            load_answers(path)
        assert str(path) in str(caught.value) and fragment in str(caught.value)


def test_empty_or_comment_only_answers_file_means_no_answers(tmp_path: Path) -> None:
    assert load_answers(write(tmp_path, "empty.yaml", "")) == {}
    assert load_answers(write(tmp_path, "comments.yaml", "# nothing yet\n")) == {}


# --- hostile answers in Python: never a crash, never a partial project ---------------------------------

ODD_VALUES = [None, True, 0, -1, 10 ** 30, 10 ** 5000, 1e308, float("inf"), float("nan"), -0.0, "", " ",
              "\x00", "💥", "\ud800", [], [None], [[1]], {}, {"a": 1}, ("t",), {1, 2}, b"bytes", object(),
              "1e999", "NaN", "10:30", "2024-02-30", "25:61", "9" * 400, "9" * 5000]


@pytest.mark.parametrize("value", ODD_VALUES, ids=[
    f"int-{len(str(v // 10 ** 4000))+4000}-digits" if isinstance(v, int) and v > 10 ** 4000 else repr(v)[:20]
    for v in ODD_VALUES])
def test_odd_answer_values_are_checked_without_crashing(tmp_path: Path, value: Any) -> None:
    template = load_template({"id": "t", "project_name": "p", "fields": {
        "text": {"type": "text"}, "number": {"type": "decimal", "step": 0.5, "min": 0},
        "whole": {"type": "integer", "max": 10}, "day": {"type": "date", "min": "2000-01-01"},
        "at": {"type": "time"}, "stamp": {"type": "datetime"}, "tick": {"type": "checkbox"},
        "pick": {"type": "dropdown", "options": ["a", "b"]}, "many": {"type": "multi_select", "options": ["a"]},
        "mail": {"type": "email"}, "link": {"type": "url"}}})
    for key in [f.key for f in template.fields]:
        checked = check_answers(template, {key: value})
        assert all(isinstance(e.message, str) and e.message for e in checked.errors)
        dest = tmp_path / key
        dest.mkdir()
        try:
            project = create_project(template, {key: value}, dest, created_by="t")
        except UserError:
            assert tree(dest) == []
        else:
            assert project.parent == dest and (project / "metafold.json").is_file()


@pytest.mark.parametrize("answers", [{1: "x"}, {None: "x"}, {("a",): "x"}, {"unknown": "x"}, {"": "x"}])
def test_answers_with_odd_keys_are_answer_errors_and_write_nothing(tmp_path: Path, answers: dict) -> None:
    template = load_template(TITLED)
    with pytest.raises(AnswersError):
        create_project(template, {"title": "fine", **answers}, tmp_path, created_by="t")
    assert tree(tmp_path) == []
