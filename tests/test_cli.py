"""The ``metafold`` command line, in-process through ``main`` and as the real console script."""
from __future__ import annotations

import argparse
import errno
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from metafold_widgets import builtin_template_ids, load_template, read_record
from metafold_widgets.cli import build_parser, main, output, publishing
from metafold_widgets.cli.settings import templates_folder
from metafold_widgets.errors import EXIT_FAILED, EXIT_OK, EXIT_USER, UserError, exit_code

TUTORIAL_NAME = "IMG202501_Protein_Localization_in_Response_to_Heat_Stress"

SMALL_TEMPLATE = """\
id: small
name: Small template
version: 0.3.0
type: folder
project_name: "{title}"
folders:
  - data/raw
  - notes
fields:
  title:
    type: text
    required: true
  count:
    type: integer
    min: 1
"""

BROKEN_TEMPLATE = """\
id: broken
name: Broken
fields:
  a:
    type: nope
  b:
    type: text
    min: 3
  c:
    type: dropdown
bogus: 1
"""


@pytest.fixture(autouse=True)
def no_debug(monkeypatch) -> None:
    """Errors are reported as messages unless METAFOLD_DEBUG is set; make sure it is not."""
    monkeypatch.delenv("METAFOLD_DEBUG", raising=False)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Run ``metafold ARGV`` in-process; returns (exit status, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def script(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a new Python process."""
    env = {k: v for k, v in os.environ.items() if k != "METAFOLD_DEBUG"}
    return subprocess.run([sys.executable, "-m", "metafold_widgets", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def small(tmp_path) -> Path:
    return write(tmp_path / "small.yaml", SMALL_TEMPLATE)


@pytest.fixture
def dest(tmp_path) -> Path:
    folder = tmp_path / "projects"
    folder.mkdir()
    return folder


# --- templates list ---------------------------------------------------------------------------


def test_templates_list_builtins(capsys) -> None:
    code, out, err = run(capsys, "templates", "list")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "VERSION", "FIELDS", "NAME", "FILE"]
    for template_id in builtin_template_ids():
        row = next(line for line in lines if line.startswith(template_id + " "))
        assert row.endswith("(built-in)")
    assert {"basic-experiment", "folder-only", "multi-modal-imaging"} <= set(builtin_template_ids())


def test_templates_list_dir_marks_broken_files(capsys, tmp_path, small) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    write(folder / "good.yaml", SMALL_TEMPLATE)
    write(folder / "broken.yaml", BROKEN_TEMPLATE)
    write(folder / "ignored.txt", "not a template")
    code, out, err = run(capsys, "templates", "list", "--dir", str(folder))
    assert code == 0
    rows = out.splitlines()[1:]
    good = next(row for row in rows if row.endswith("good.yaml"))
    broken = next(row for row in rows if row.endswith("broken.yaml"))
    assert good.split()[:3] == ["small", "0.3.0", "2"]
    assert "BROKEN" in broken
    assert "ignored.txt" not in out
    assert "1 broken template(s)" in err
    assert "Traceback" not in err


def test_templates_list_empty_dir(capsys, tmp_path) -> None:
    code, out, _ = run(capsys, "templates", "list", "--dir", str(tmp_path))
    assert code == 0 and "no template files" in out


def test_templates_list_missing_dir(capsys, tmp_path) -> None:
    missing = tmp_path / "nope"
    code, out, err = run(capsys, "templates", "list", "--dir", str(missing))
    assert code == 2
    assert out == ""
    assert err.startswith("error:") and str(missing) in err
    assert "Traceback" not in err


# --- templates validate -----------------------------------------------------------------------


def test_templates_validate_ok(capsys, small) -> None:
    code, out, err = run(capsys, "templates", "validate", str(small))
    assert (code, err) == (0, "")
    assert out.startswith("ok: small 0.3.0 (folder): 2 fields, 0 groups")


def test_templates_validate_builtin_id(capsys) -> None:
    code, out, _ = run(capsys, "templates", "validate", "multi-modal-imaging")
    assert code == 0 and out.startswith("ok: multi-modal-imaging ")


def test_templates_validate_the_tutorial_template(capsys, example_template_path) -> None:
    code, out, _ = run(capsys, "templates", "validate", str(example_template_path))
    assert code == 0 and "ok: multi-modal-imaging 1.0.0 (experiment): 18 fields" in out


def test_templates_validate_lists_every_problem_with_its_line(capsys, tmp_path) -> None:
    broken = write(tmp_path / "broken.yaml", BROKEN_TEMPLATE)
    code, out, err = run(capsys, "templates", "validate", str(broken))
    assert code == 2 and out == ""
    assert "template has 4 problems" in err
    assert f"{broken}:5: field 'a': unknown type 'nope'" in err
    assert f"{broken}:8: field 'b': a text field cannot have 'min'" in err
    # a problem with the whole field points at its key (line 9) or its first attribute (line 10)
    assert re.search(re.escape(str(broken)) + r":(9|10): field 'c': a dropdown needs 'options'", err)
    assert f"{broken}:11: unknown template key 'bogus'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("text, where", [
    ("id: x\nfields:\n  a: {type: text\n", ":4:"),
    ('{"id": "x",\n "fields": {,}}\n', ":2:"),
])
def test_templates_validate_syntax_error_names_the_line(capsys, tmp_path, text: str, where: str) -> None:
    path = write(tmp_path / "syntax.yaml", text)
    code, _, err = run(capsys, "templates", "validate", str(path))
    assert code == 2
    assert f"{path}{where}" in err and "invalid" in err
    assert "Traceback" not in err


def test_templates_validate_missing_file(capsys, tmp_path) -> None:
    code, _, err = run(capsys, "templates", "validate", str(tmp_path / "absent.yaml"))
    assert code == 2 and "file not found" in err


def test_templates_validate_unknown_builtin(capsys) -> None:
    code, _, err = run(capsys, "templates", "validate", "no-such-template")
    assert code == 2
    assert "no template file or built-in template called 'no-such-template'" in err


# --- templates export / import ---------------------------------------------------------------


def test_export_jsonschema(capsys, small) -> None:
    code, out, err = run(capsys, "templates", "export", str(small), "--format", "jsonschema")
    assert (code, err) == (0, "")
    schema = json.loads(out)
    assert isinstance(schema, dict)
    assert "title" in json.dumps(schema)


def test_export_elabftw(capsys, example_template_path) -> None:
    code, out, _ = run(capsys, "templates", "export", str(example_template_path), "--format", "elabftw")
    assert code == 0
    metadata = json.loads(out)
    assert metadata["extra_fields"]["Project identifier"]["type"] == "text"
    assert metadata["extra_fields"]["Sample type"]["options"] == ["Fixed Cells", "Live Cells", "Tissue", "Other"]


def test_export_yaml_reloads(capsys, example_template_path) -> None:
    code, out, _ = run(capsys, "templates", "export", str(example_template_path), "--format", "yaml")
    assert code == 0
    again = load_template(out)
    original = load_template(example_template_path)
    assert again.id == original.id and again.version == original.version
    assert [f.key for f in again.fields] == [f.key for f in original.fields]
    assert again.folders.folders == original.folders.folders


@pytest.mark.parametrize("fmt", ["jsonschema", "elabftw", "yaml"])
def test_export_to_a_file(capsys, tmp_path, small, fmt: str) -> None:
    out_file = tmp_path / f"out.{fmt}"
    code, out, err = run(capsys, "templates", "export", str(small), "--format", fmt, "--out", str(out_file))
    assert code == 0 and out == ""
    assert f"wrote {out_file}" in err
    text = out_file.read_text(encoding="utf-8")
    if fmt == "yaml":
        assert load_template(text).id == "small"
    else:
        json.loads(text)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["small.yaml", out_file.name])


def test_export_refuses_an_existing_out_file(capsys, tmp_path, small) -> None:
    out_file = write(tmp_path / "existing.json", "precious")
    code, out, err = run(capsys, "templates", "export", str(small), "--format", "elabftw", "--out", str(out_file))
    assert code == 2 and out == ""
    assert "already exists" in err
    assert out_file.read_text() == "precious"


def test_export_out_in_a_missing_folder(capsys, tmp_path, small) -> None:
    code, _, err = run(capsys, "templates", "export", str(small), "--format", "yaml",
                       "--out", str(tmp_path / "missing" / "x.yaml"))
    assert code == 2 and "does not exist" in err
    assert not (tmp_path / "missing").exists()


def test_export_of_a_broken_template(capsys, tmp_path) -> None:
    broken = write(tmp_path / "broken.yaml", BROKEN_TEMPLATE)
    code, out, err = run(capsys, "templates", "export", str(broken), "--format", "jsonschema")
    assert code == 2 and out == "" and "unknown type 'nope'" in err


def test_export_needs_a_known_format(capsys, small) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["templates", "export", str(small), "--format", "xml"])
    assert caught.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_import_desktop_template(capsys, desktop_template_path) -> None:
    code, out, err = run(capsys, "templates", "import", str(desktop_template_path))
    assert (code, err) == (0, "")
    template = load_template(out)
    assert template.name == "Confocal Imaging"
    assert {"sample_id", "temperature", "acquired_on"} <= {f.key for f in template.fields}
    assert "raw_data/images" in template.folders.folders
    assert load_template(yaml.safe_load(out)).id == template.id


def test_import_elabftw_metadata(capsys, elabftw_metadata_path) -> None:
    code, out, _ = run(capsys, "templates", "import", str(elabftw_metadata_path))
    assert code == 0
    template = load_template(out)
    labels = {f.label for f in template.fields}
    assert {"Laser power", "Objective", "Excitation lines", "Protocol URL"} <= labels
    assert [g.label for g in template.groups] == ["Microscope", "Session"]
    assert template.field("excitation_lines").type == "multi_select"


def test_import_to_a_file(capsys, tmp_path, desktop_template_path) -> None:
    out_file = tmp_path / "imported.yaml"
    code, out, _ = run(capsys, "templates", "import", str(desktop_template_path), "--out", str(out_file))
    assert code == 0 and out == ""
    assert load_template(out_file).name == "Confocal Imaging"
    code, _, err = run(capsys, "templates", "import", str(desktop_template_path), "--out", str(out_file))
    assert code == 2 and "already exists" in err


# --- create ---------------------------------------------------------------------------------


def test_create_from_the_tutorial(capsys, dest, example_template_path, example_answers_path) -> None:
    code, out, err = run(capsys, "create", "--template", str(example_template_path),
                         "--answers", str(example_answers_path), "--dest", str(dest))
    assert code == 0
    # no server configured: each system is skipped with a note, not an error
    assert err.splitlines() == ["elabFTW: pending (elabFTW is not configured)",
                                "OMERO: pending (OMERO is not configured)"]
    project = dest / TUTORIAL_NAME
    assert out == f"{project}\n"
    assert read_record(project)["integrations"]["elabftw"]["state"] == "pending"
    assert project.is_dir()
    record = read_record(project)
    assert record["template"]["id"] == "multi-modal-imaging"
    assert record["answers"]["project_identifier"] == "IMG202501"
    assert [p.name for p in dest.iterdir()] == [TUTORIAL_NAME]


def test_create_with_name_and_created_by(capsys, dest, example_template_path, example_answers_path) -> None:
    code, out, _ = run(capsys, "create", "-t", str(example_template_path), "-a", str(example_answers_path),
                       "-d", str(dest), "--name", "My run: 1/2", "--created-by", "ada")
    assert code == 0
    project = dest / "My_run_1_2"
    assert out.strip() == str(project)
    assert read_record(project)["project"]["created_by"] == "ada"


def test_create_json(capsys, dest, small, tmp_path) -> None:
    answers = write(tmp_path / "answers.yaml", "title: First run\ncount: '3'\n")
    code, out, _ = run(capsys, "create", "-t", str(small), "-a", str(answers), "-d", str(dest), "--json")
    assert code == 0
    printed = json.loads(out)
    assert printed["path"] == str(dest / "First_run")
    assert {system: outcome["state"] for system, outcome in printed["integrations"].items()} == \
        {"elabftw": "off", "omero": "off"}
    assert read_record(dest / "First_run")["answers"] == {"title": "First run", "count": 3}


def test_create_dry_run_writes_nothing(capsys, dest, example_template_path, example_answers_path) -> None:
    code, out, err = run(capsys, "create", "-t", str(example_template_path), "-a", str(example_answers_path),
                         "-d", str(dest), "--dry-run")
    assert (code, err) == (0, "")
    assert out.startswith(f"Project: {dest / TUTORIAL_NAME}\n")
    assert "03_imaging/" in out and "metafold.json" in out
    assert "elabFTW experiment: will be created" in out and "OMERO dataset: will be created" in out
    assert list(dest.iterdir()) == []


def test_create_dry_run_json(capsys, dest, example_template_path, example_answers_path) -> None:
    code, out, _ = run(capsys, "create", "-t", str(example_template_path), "-a", str(example_answers_path),
                       "-d", str(dest), "--dry-run", "--json")
    assert code == 0
    plan = json.loads(out)
    assert plan["name"] == TUTORIAL_NAME and plan["path"] == str(dest / TUTORIAL_NAME)
    assert "03_imaging/raw_images/controls" in plan["folders"]
    assert plan["integrations"]["omero"]["payload"]["group"] == "Imaging Lab"
    assert list(dest.iterdir()) == []


def test_create_with_a_builtin_template(capsys, dest, tmp_path) -> None:
    answers = write(tmp_path / "answers.yaml", "project_name: Lab move 2025\nowner: Ada\n")
    code, out, _ = run(capsys, "create", "--template", "folder-only", "--answers", str(answers),
                       "--dest", str(dest))
    assert code == 0
    project = dest / "Lab_move_2025"
    assert out.strip() == str(project)
    assert (project / "02_data/raw").is_dir()
    record = read_record(project)
    assert record["template"]["id"] == "folder-only"
    assert record["integrations"]["elabftw"]["state"] == "off"


def test_create_invalid_answers_lists_every_error(capsys, dest, tmp_path, example_template_path) -> None:
    answers = write(tmp_path / "answers.yaml",
                    "project_identifier: img-1\nsample_type: Bacteria\nunknown_field: 3\n")
    code, out, err = run(capsys, "create", "-t", str(example_template_path), "-a", str(answers), "-d", str(dest))
    assert code == 2 and out == ""
    assert f"invalid answers in {answers}" in err
    for line in ("Project identifier (project_identifier): does not match the expected format",
                 "Experiment title (experiment_title): is required",
                 "Principal investigator (principal_investigator): is required",
                 "Sample type (sample_type): must be one of: Fixed Cells, Live Cells, Tissue, Other",
                 "Microscope system (microscope_system): is required",
                 "Data sharing level (data_sharing_level): is required",
                 "unknown_field (unknown_field): is not a field"):
        assert line in err, line
    assert "Traceback" not in err
    assert list(dest.iterdir()) == []


def test_create_invalid_answers_in_dry_run(capsys, dest, small, tmp_path) -> None:
    answers = write(tmp_path / "answers.yaml", "count: 0\n")
    code, _, err = run(capsys, "create", "-t", str(small), "-a", str(answers), "-d", str(dest), "--dry-run")
    assert code == 2
    assert "Title (title): is required" in err and "Count (count): must be at least 1" in err


def test_create_without_answers_uses_defaults_only(capsys, dest, small) -> None:
    code, _, err = run(capsys, "create", "-t", str(small), "-d", str(dest))
    assert code == 2 and "Title (title): is required" in err
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize("text, where", [
    ("title: [unclosed\ncount: 2\n", ":2:"),
    ("title: x\n  count: 2\n", ":2:"),
    ('{"title": "x",,}\n', ":1:"),
])
def test_create_malformed_answers_names_file_and_line(capsys, dest, small, tmp_path, text: str, where: str) -> None:
    answers = write(tmp_path / "answers.yaml", text)
    code, out, err = run(capsys, "create", "-t", str(small), "-a", str(answers), "-d", str(dest))
    assert code == 2 and out == ""
    assert f"{answers}{where}" in err
    assert "Traceback" not in err
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n"])
def test_create_answers_must_be_a_mapping(capsys, dest, small, tmp_path, text: str) -> None:
    answers = write(tmp_path / "answers.yaml", text)
    code, _, err = run(capsys, "create", "-t", str(small), "-a", str(answers), "-d", str(dest))
    assert code == 2 and "must be a mapping" in err and str(answers) in err


def test_create_answers_file_missing(capsys, dest, small, tmp_path) -> None:
    missing = tmp_path / "absent.yaml"
    code, _, err = run(capsys, "create", "-t", str(small), "-a", str(missing), "-d", str(dest))
    assert code == 2 and f"{missing}: answers file not found" in err
    assert list(dest.iterdir()) == []


def test_create_answers_not_utf8(capsys, dest, small, tmp_path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_bytes(b"title: caf\xe9\n")
    code, _, err = run(capsys, "create", "-t", str(small), "-a", str(answers), "-d", str(dest))
    assert code == 2 and "UTF-8" in err


def test_create_answers_with_duplicate_or_odd_keys(capsys, dest, small, tmp_path) -> None:
    duplicate = write(tmp_path / "dup.yaml", "title: a\ntitle: b\n")
    code, _, err = run(capsys, "create", "-t", str(small), "-a", str(duplicate), "-d", str(dest))
    assert code == 2 and f"{duplicate}:2: duplicate key 'title'" in err
    numeric = write(tmp_path / "num.yaml", "1: a\ntitle: b\n")
    code, _, err = run(capsys, "create", "-t", str(small), "-a", str(numeric), "-d", str(dest))
    assert code == 2 and f"{numeric}:1: field key 1 is not text" in err
    assert list(dest.iterdir()) == []


def test_create_answers_that_keep_their_text(capsys, dest, tmp_path) -> None:
    """YAML 1.1 would turn 0123 into 83, 09:30 into 570 and 'no' into False."""
    template = write(tmp_path / "t.yaml", "id: typed\ntype: folder\nproject_name: '{code}'\nfields:\n"
                     "  code: {type: text}\n  start: {type: time}\n  answer: {type: text}\n")
    answers = write(tmp_path / "a.yaml", "code: 0123\nstart: 09:30\nanswer: no\n")
    code, out, err = run(capsys, "create", "-t", str(template), "-a", str(answers), "-d", str(dest))
    assert code == 0, err
    assert read_record(dest / "0123")["answers"] == {"code": "0123", "start": "09:30", "answer": "no"}


def test_create_refuses_credentials_as_a_user_error(capsys, dest, tmp_path) -> None:
    template = write(tmp_path / "t.yaml", "id: creds\ntype: folder\nfields:\n  title: {type: text}\n"
                     "  api_token: {type: text}\n")
    answers = write(tmp_path / "a.yaml", "title: T\napi_token: abc123\n")
    code, _, err = run(capsys, "create", "-t", str(template), "-a", str(answers), "-d", str(dest))
    assert code == 2 and "api_token" in err and "abc123" not in err
    assert list(dest.iterdir()) == []


def test_create_answers_path_is_a_folder(capsys, dest, small, tmp_path) -> None:
    code, _, err = run(capsys, "create", "-t", str(small), "-a", str(tmp_path), "-d", str(dest))
    assert code == 2 and "is a folder, not a file (answers file expected)" in err


def test_create_existing_project(capsys, dest, small, tmp_path) -> None:
    answers = write(tmp_path / "answers.yaml", "title: Again\n")
    existing = dest / "Again"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    code, out, err = run(capsys, "create", "-t", str(small), "-a", str(answers), "-d", str(dest))
    assert code == 2 and out == ""
    assert "already exists" in err
    assert [p.name for p in existing.iterdir()] == ["keep.txt"]
    assert (existing / "keep.txt").read_text() == "mine"
    assert [p.name for p in dest.iterdir()] == ["Again"]


def test_create_missing_destination(capsys, tmp_path, small) -> None:
    answers = write(tmp_path / "answers.yaml", "title: Nowhere\n")
    missing = tmp_path / "missing"
    code, _, err = run(capsys, "create", "-t", str(small), "-a", str(answers), "-d", str(missing))
    assert code == 2 and "does not exist" in err
    assert not missing.exists()


def test_create_with_a_broken_template(capsys, dest, tmp_path) -> None:
    broken = write(tmp_path / "broken.yaml", BROKEN_TEMPLATE)
    code, _, err = run(capsys, "create", "-t", str(broken), "-d", str(dest))
    assert code == 2 and "template has 4 problems" in err
    assert list(dest.iterdir()) == []


def test_create_unusable_name(capsys, dest, small, tmp_path) -> None:
    answers = write(tmp_path / "answers.yaml", "title: ok\n")
    code, _, err = run(capsys, "create", "-t", str(small), "-a", str(answers), "-d", str(dest), "--name", "???")
    assert code == 2 and "no characters usable" in err
    assert list(dest.iterdir()) == []


def test_create_requires_template_and_dest(capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["create", "--template", "folder-only"])
    assert caught.value.code == 2
    assert "--dest" in capsys.readouterr().err


# --- unexpected errors ------------------------------------------------------------------------


def test_unexpected_error_is_exit_1_with_a_short_message(capsys, monkeypatch, dest, small, tmp_path) -> None:
    def explode(*args, **kwargs):
        raise RuntimeError("disk controller on fire")

    monkeypatch.setattr("metafold_widgets.workflows.create.apply_everywhere", explode)
    answers = write(tmp_path / "answers.yaml", "title: Boom\n")
    code, out, err = run(capsys, "create", "-t", str(small), "-a", str(answers), "-d", str(dest))
    assert code == 1 and out == ""
    assert "unexpected error (RuntimeError): disk controller on fire" in err
    assert "METAFOLD_DEBUG" in err
    assert "Traceback" not in err
    assert len(err.splitlines()) <= 3


def test_unexpected_error_while_listing(capsys, monkeypatch) -> None:
    def explode(folder=None):
        raise RuntimeError("listing broke")

    monkeypatch.setattr("metafold_widgets.core.loader.find_templates", explode)
    code, _, err = run(capsys, "templates", "list")
    assert code == 1 and "unexpected error (RuntimeError): listing broke" in err


def test_debug_mode_shows_the_exception(monkeypatch, small) -> None:
    monkeypatch.setenv("METAFOLD_DEBUG", "1")
    def explode(source):
        raise RuntimeError("raw")

    monkeypatch.setattr("metafold_widgets.core.loader.load_template", explode)
    with pytest.raises(RuntimeError, match="raw"):
        main(["templates", "validate", str(small)])


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.startswith("metafold-widgets ")


# --- the real console script ------------------------------------------------------------------


def test_script_templates_list(tmp_path) -> None:
    result = script("templates", "list", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "multi-modal-imaging" in result.stdout and "(built-in)" in result.stdout


def test_script_create_and_refuse_again(tmp_path, example_template_path, example_answers_path) -> None:
    args = ("create", "--template", str(example_template_path), "--answers", str(example_answers_path),
            "--dest", str(tmp_path))
    first = script(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == str(tmp_path / TUTORIAL_NAME)
    assert read_record(tmp_path / TUTORIAL_NAME)["answers"]["enable_omero"] is True
    again = script(*args, cwd=tmp_path)
    assert again.returncode == 2
    assert "already exists" in again.stderr and "Traceback" not in again.stderr


def test_script_invalid_answers(tmp_path, example_template_path) -> None:
    answers = write(tmp_path / "answers.yaml", "project_identifier: nope\nenable_omero: maybe\n")
    dest = tmp_path / "out"
    dest.mkdir()
    result = script("create", "-t", str(example_template_path), "-a", str(answers), "-d", str(dest), cwd=tmp_path)
    assert result.returncode == 2
    assert "Project identifier (project_identifier)" in result.stderr
    assert "Enable omero (enable_omero): must be checked or unchecked" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(dest.iterdir()) == []


def test_script_validate_broken_template(tmp_path) -> None:
    broken = write(tmp_path / "broken.yaml", BROKEN_TEMPLATE)
    result = script("templates", "validate", "broken.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "broken.yaml:5: field 'a': unknown type 'nope'" in result.stderr
    assert "Traceback" not in result.stderr
    assert broken.read_text() == BROKEN_TEMPLATE


def test_script_dry_run_json(tmp_path) -> None:
    write(tmp_path / "a.json", json.dumps({"project_name": "Dry", "owner": "Ada"}))
    result = script("create", "-t", "folder-only", "-a", "a.json", "-d", ".", "--dry-run", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["name"] == "Dry"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


# --- one parser, one dispatch, one exit-code map ------------------------------------------------


def leaf_parsers(parser, path=()):
    """(command words, parser) for every parser that runs something."""
    subcommands = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    if not subcommands:
        yield path, parser
        return
    for name, child in subcommands[0].choices.items():
        yield from leaf_parsers(child, (*path, name))


def test_every_command_names_its_handler() -> None:
    leaves = dict(leaf_parsers(build_parser()))
    assert len(leaves) == 24  # with note, publish, report and import
    for words, parser in leaves.items():
        assert callable(parser.get_default("handler")), words


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["templates"], ["config"]])
def test_no_command_runs_by_default(capsys, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "the following arguments are required" in err or "invalid choice" in err


def test_the_exit_code_map() -> None:
    assert (EXIT_OK, EXIT_FAILED, EXIT_USER) == (0, 1, 2)
    assert exit_code(UserError("bad answers")) == 2
    assert exit_code(OSError(errno.ENOSPC, "No space left on device")) == 1
    assert exit_code(RuntimeError("a bug")) == 1
    assert exit_code(KeyboardInterrupt()) == 130


def test_a_full_disk_exits_1(capsys, monkeypatch, dest, small, tmp_path) -> None:
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(dest / "Full"))

    monkeypatch.setattr("metafold_widgets.workflows.create.apply_everywhere", full)
    answers = write(tmp_path / "answers.yaml", "title: Full\n")
    code, out, err = run(capsys, "create", "-t", str(small), "-a", str(answers), "-d", str(dest))
    assert (code, out) == (1, "")
    assert err == f"error: No space left on device: {dest / 'Full'}\n"


def test_scan_builds_no_session(capsys, monkeypatch, tmp_path) -> None:
    """Finding projects needs the templates folder, not the elabFTW/OMERO credentials."""
    def no_session(*args, **kwargs):
        raise AssertionError("scan built a Session")

    monkeypatch.setattr("metafold_widgets.session.Session.from_environment", no_session)
    monkeypatch.setenv("METAFOLD_TEMPLATES_DIR", str(tmp_path))
    assert templates_folder() == tmp_path
    code, out, _ = run(capsys, "scan", str(tmp_path))
    assert code == 0 and "no projects found" in out


def test_sizes_are_printed_in_one_unit() -> None:
    assert [output.size(n) for n in (999, 1_000, 1_234_567, 5 * 10**12)] == \
        ["999 bytes", "1.0 kB", "1.2 MB", "5.0 TB"]


def test_archive_formats_match_the_workflow() -> None:
    from metafold_widgets.workflows.publishing.archive import ARCHIVE_FORMATS

    assert publishing.ARCHIVE_FORMATS == ARCHIVE_FORMATS


# --- start-up: a command imports only what it needs --------------------------------------------

HEAVY = ("pandas", "requests", "ipywidgets", "metafold_widgets.session", "metafold_widgets.workflows")


def imported_by(*argv: str, cwd: Path) -> set[str]:
    """The modules a fresh ``metafold ARGV`` has imported when it ends."""
    code = ("import atexit, json, sys\n"
            "atexit.register(lambda: print(json.dumps(sorted(sys.modules))))\n"
            "from metafold_widgets.cli import main\n"
            f"sys.exit(main({list(argv)!r}))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_help_imports_no_workflow(tmp_path) -> None:
    modules = imported_by("--help", cwd=tmp_path)
    assert [name for name in HEAVY if name in modules] == []


@pytest.fixture
def checksummed(tmp_path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.txt").write_text("a\n")
    (folder / "SHA256SUMS").write_text(f"{hashlib.sha256(b'a' + bytes([10])).hexdigest()}  a.txt\n")
    return folder


def test_verify_imports_no_pandas_widgets_or_other_workflows(tmp_path, checksummed) -> None:
    modules = imported_by("verify", str(checksummed), "-q", cwd=tmp_path)
    assert "metafold_widgets.workflows.publishing.verify" in modules  # it ran
    unneeded = ("pandas", "ipywidgets", "metafold_widgets.workflows.publishing.package",
                "metafold_widgets.workflows.publishing.eln_export", "metafold_widgets.workflows.scan",
                "metafold_widgets.workflows.batch", "metafold_widgets.workflows.sync",
                "metafold_widgets.workflows.check")
    assert [name for name in unneeded if name in modules] == []


def test_verify_imports_no_requests(tmp_path, checksummed) -> None:
    assert "requests" not in imported_by("verify", str(checksummed), "-q", cwd=tmp_path)
