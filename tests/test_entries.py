"""Lab record entries: kinds and templates, Markdown to HTML as elabFTW keeps it, writing an entry,
and publishing entries as sections and steps of the experiment on every emulated release."""
from __future__ import annotations

import os
from datetime import datetime

import pytest
import yaml

from metafold_widgets import load_template, read_record
from metafold_widgets.adapters.elabftw import ElabftwClient
from metafold_widgets.cli.records import ENTRY_KINDS
from metafold_widgets.config import ElabftwSettings, Secret
from metafold_widgets.core.entries import KINDS, entry_folder, entry_kind, parse_entry
from metafold_widgets.core.markdown_html import MAX_MARKDOWN_CHARS, markdown_to_html
from metafold_widgets.core.record import record_integration
from metafold_widgets.errors import InputFileError, TemplateError, UserError
from metafold_widgets.session import Session
from metafold_widgets.testing.fake_elabftw import WRITE_KEY
from metafold_widgets.testing.fake_elabftw.purifier import purify_body
from metafold_widgets.testing.fake_elabftw.releases import EMULATED_RELEASES, Release
from metafold_widgets.workflows import create_project_everywhere
from metafold_widgets.workflows.entries import (
    ENTRY_MAX_BYTES,
    documentation_files,
    find_section,
    new_entry,
    publish_entries,
    section_key,
)

pytestmark = pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")
DAY = datetime(2026, 12, 6, 10, 30)
RICH = """# Run 3 <script>alert(1)</script>

Text with *emphasis*, **strong**, `code <b>`, ~~struck~~ & "quotes".
A [paper](https://example.org/a?x=1&y=2), [mail](mailto:lab@example.org), [bad](javascript:alert(1)),
[relative](../secret.txt) and <img src=x onerror=alert(1)> raw HTML.

## Checklist
- [ ] Raw images saved
- [x] Data backed up
- plain item

1. first
2. second

> quoted

| a | b |
|---|---|
| 1 | 2 |

```python
x = "<y>"
```
"""


# --- core ----------------------------------------------------------------------------------------

def test_markdown_is_escaped_and_links_are_only_web_and_mail():
    html = markdown_to_html(RICH)
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html and "[bad](javascript:alert(1))" in html
    assert '<a href="https://example.org/a?x=1&amp;y=2" target="_blank" rel="noreferrer noopener">paper</a>' in html
    assert '<a href="mailto:lab@example.org">mail</a>' in html
    assert "../secret.txt" in html and 'href="../secret.txt"' not in html
    assert "<li>☐ Raw images saved</li>" in html and "<li>☑ Data backed up</li>" in html
    assert '<pre class="language-python"><code>x = "&lt;y&gt;"' in html


@pytest.mark.parametrize("version", EMULATED_RELEASES)
def test_the_purifier_keeps_the_html_as_sent(version):
    html = markdown_to_html(RICH)
    assert purify_body(Release.of(version), html) == html


def test_too_long_markdown_is_refused():
    with pytest.raises(InputFileError, match="too long"):
        markdown_to_html("a" * (MAX_MARKDOWN_CHARS + 1))


def test_an_entry_gives_its_title_and_checklist():
    parsed = parse_entry("intro\n# Imaging session: Run 3\n- [ ] Saved\n  * [X]  Backed   up \n"
                         "```\n- [ ] not a step\n```\n- [ ] " + "y" * 300 + "\n", "day.md")
    assert parsed.title == "Imaging session: Run 3"
    assert parsed.steps[:2] == (("Saved", False), ("Backed up", True))
    assert len(parsed.steps) == 3 and len(parsed.steps[2][0]) == 255
    assert parse_entry("no heading", "2026-12-06_protocol.md").title == "2026-12-06_protocol"


def test_unknown_kind_names_the_known_ones():
    with pytest.raises(UserError, match="known kinds: protocol, sample-preparation"):
        entry_kind("diary")
    assert ENTRY_KINDS == tuple(KINDS)  # the CLI's list (kept there for start-up speed)


def test_entry_folders_follow_the_template_tree():
    tree = ["a/protocols", "x/03_imaging/acquisition_protocols", "docs"]
    assert entry_folder(KINDS["protocol"], tree, ["docs"]) == "a/protocols"
    assert entry_folder(KINDS["imaging-session"], tree, ["docs"]) == "x/03_imaging/acquisition_protocols"
    assert entry_folder(KINDS["results-summary"], tree, ["docs"]) == "docs"  # the first documentation folder
    with pytest.raises(UserError, match="no documentation folder"):
        entry_folder(KINDS["results-summary"], ["raw"], [])


def _template(text):
    return load_template(yaml.safe_load(text))


def test_the_template_declares_its_documentation_folders():
    base = "id: t\nfolders: [notes, notes/old, raw, protocols]\nfields: {a: {type: text}}\n"
    assert _template(base + "documentation: [notes/old, notes]\n").documentation_folders == (
        "notes/old", "notes")
    assert _template(base).documentation_folders == ("protocols",)  # by name when not declared
    with pytest.raises(TemplateError) as caught:
        _template(base + "documentation: [missing, ../out]\n")
    text = str(caught.value)
    assert "documentation folder 'missing' is not in the folder tree" in text and "unsafe documentation" in text


# --- writing entries -----------------------------------------------------------------------------

@pytest.fixture
def answers(example_answers_path):
    return yaml.safe_load(example_answers_path.read_text())


def _session(fake):
    fake.add_category("Microscopy")
    return Session(elabftw=ElabftwClient(ElabftwSettings(fake.url, Secret(WRITE_KEY)), sleep=lambda s: None))


@pytest.fixture
def linked(tmp_path, fake_elabftw, answers):
    session = _session(fake_elabftw)
    result = create_project_everywhere(session, load_template("multi-modal-imaging"), answers, tmp_path)
    assert result.ok
    yield session, result.path, fake_elabftw
    session.close()


def test_new_entry_is_prefilled_and_never_overwrites(linked, answers):
    _, project, _ = linked
    first = new_entry(project, "imaging-session", now=DAY)
    assert first == project / "03_imaging/acquisition_protocols/2026-12-06_imaging-session.md"
    text = first.read_text()
    record = read_record(project)
    assert text.startswith(f"# Imaging session: {answers['experiment_title']}")
    assert answers["principal_investigator"] in text and answers["microscope_system"] in text
    assert record["integrations"]["elabftw"]["url"] in text and "- [ ] Data backed up" in text
    second = new_entry(project, "imaging-session", title="Second run", now=DAY)
    assert second.name == "2026-12-06_imaging-session-2.md" and second.read_text().startswith("# Second run\n")
    assert first.read_text() == text
    log = (project / "01_project_management/integration_logs/integration_log.jsonl").read_text()
    assert '"action": "new entry"' in log and "2026-12-06_imaging-session-2.md" in log


def test_images_imported_entry_takes_extra_facts(linked):
    _, project, _ = linked
    path = new_entry(project, "images-imported", facts={"image_ids": [11, 12], "count": 2}, now=DAY)
    assert path.parent == project / "05_documentation/daily_notes"
    assert "2 images imported into the OMERO dataset on 2026-12-06." in path.read_text()
    assert "11, 12" in path.read_text()


def test_every_kind_goes_to_its_folder(linked):
    _, project, _ = linked
    folders = {kind: new_entry(project, kind, now=DAY).parent.relative_to(project).as_posix() for kind in KINDS}
    assert folders["protocol"] == "01_project_management/protocols"
    assert folders["sample-preparation"] == "02_sample_preparation/batch_records"
    assert folders["results-summary"] == "05_documentation/final_reports"
    assert set(documentation_files(project)) == {project / f / f"2026-12-06_{k}.md" for k, f in folders.items()}


def test_unknown_kind_writes_nothing(linked):
    _, project, _ = linked
    with pytest.raises(UserError, match="unknown entry kind 'diary'"):
        new_entry(project, "diary")
    assert documentation_files(project) == []


# --- publishing ----------------------------------------------------------------------------------

def _body(fake, project):
    return fake.experiment(read_record(project)["integrations"]["elabftw"]["id"])["body"]


def _steps(fake, project):
    return [(s["body"], s["finished"]) for s in fake.experiment(read_record(project)["integrations"]["elabftw"]["id"])
            ["steps"]]


@pytest.mark.parametrize("version", EMULATED_RELEASES)
def test_publishing_adds_sections_and_steps_once(tmp_path, fake_elabftw_factory, answers, version):
    fake = fake_elabftw_factory(version=version)
    session = _session(fake)
    try:
        project = create_project_everywhere(session, load_template("multi-modal-imaging"), answers, tmp_path).path
        session_entry = new_entry(project, "imaging-session", now=DAY)
        nested = project / "05_documentation/daily_notes/week1/monday.md"
        nested.parent.mkdir()
        nested.write_text("# Monday\n- [x] Checked the incubator\n")
        first = publish_entries(session, project)
        assert sorted(first.added) == ["03_imaging/acquisition_protocols/2026-12-06_imaging-session.md",
                                       "05_documentation/daily_notes/week1/monday.md"]
        assert "Checked the incubator" in first.steps_finished and not first.errors
        body = _body(fake, project)
        assert "<h1>Imaging session: " in body and "<h1>Monday</h1>" in body
        steps = _steps(fake, project)
        assert ("Data backed up", 0) in steps and ("Checked the incubator", 1) in steps
        sent = len(fake.requests_log)
        second = publish_entries(session, project)
        assert not second.changed and "entries already published (2 files)" in second.summary()
        assert {r.method for r in fake.requests_log[sent:]} == {"GET"}  # one read, nothing sent
        assert _steps(fake, project) == steps and _body(fake, project) == body
        assert session_entry.exists()
    finally:
        session.close()


def test_a_changed_file_replaces_its_section_in_place_and_keeps_the_researchers_text(linked):
    session, project, fake = linked
    entry = new_entry(project, "protocol", now=DAY)
    publish_entries(session, project)
    experiment_id = read_record(project)["integrations"]["elabftw"]["id"]
    body = session.elabftw.get_experiment(experiment_id)["body"]
    session.elabftw.update_experiment(experiment_id, body="<p>Before, by hand.</p>\n" + body
                                      + "\n<p>After, by hand.</p>")
    entry.write_text(entry.read_text().replace("## Procedure", "## Procedure\n1. Fix for 10 min\n- [x] Gloves on"))
    report = publish_entries(session, project)
    assert report.updated == ["01_project_management/protocols/2026-12-06_protocol.md"] and not report.added
    new_body = _body(fake, project)
    assert new_body.startswith("<p>Before, by hand.</p>") and new_body.endswith("<p>After, by hand.</p>")
    assert "Fix for 10 min" in new_body and new_body.count("Lab record entry:") == 1
    assert ("Gloves on", 1) in _steps(fake, project)


def test_a_ticked_item_finishes_its_step_once_and_nothing_is_unfinished(linked):
    session, project, fake = linked
    entry = new_entry(project, "imaging-session", now=DAY)
    publish_entries(session, project)
    entry.write_text(entry.read_text().replace("- [ ] Data backed up", "- [x] Data backed up"))
    report = publish_entries(session, project)
    assert report.steps_finished == ["Data backed up"] and not report.steps_added
    entry.write_text(entry.read_text().replace("- [x] Data backed up", "- [ ] Data backed up") + "\nMore.\n")
    again = publish_entries(session, project)
    assert not again.steps_finished and ("Data backed up", 1) in _steps(fake, project)
    assert [s for s, _ in _steps(fake, project)].count("Data backed up") == 1


def test_a_section_removed_in_elabftw_is_not_put_back_until_the_file_changes(linked):
    session, project, fake = linked
    new_entry(project, "protocol", now=DAY)
    publish_entries(session, project)
    experiment_id = read_record(project)["integrations"]["elabftw"]["id"]
    session.elabftw.update_experiment(experiment_id, body="<p>only mine</p>")
    report = publish_entries(session, project)
    assert report.left_out and not report.changed and _body(fake, project) == "<p>only mine</p>"
    assert "change the file to publish it again" in report.summary()


def test_dry_run_sends_nothing(linked):
    session, project, fake = linked
    new_entry(project, "imaging-session", now=DAY)
    sent = len(fake.requests_log)
    report = publish_entries(session, project, dry_run=True)
    assert report.added and "Data backed up" in report.steps_added and "would add section" in report.summary()
    assert {r.method for r in fake.requests_log[sent:]} == {"GET"}
    assert "entries" not in read_record(project)["integrations"]["elabftw"]


def test_hostile_entries(linked, tmp_path):
    session, project, fake = linked
    notes = project / "05_documentation/daily_notes"
    (notes / "evil.md").write_text("# Evil\n<script>alert(1)</script>\n[x](javascript:alert(1))\n"
                                   '<p><a href="#metafold-entry-0000000000000000">fake marker</a></p>\n')
    (notes / "huge.md").write_bytes(b"a" * (ENTRY_MAX_BYTES + 1))
    outside = tmp_path / "outside.md"
    outside.write_text("# secret outside the project\n")
    os.symlink(outside, notes / "link.md")
    os.symlink(tmp_path, notes / "linked_folder")
    (notes / "binary.md").write_bytes(b"\xff\xfe\x00")
    report = publish_entries(session, project)
    assert report.added == ["05_documentation/daily_notes/evil.md"]
    errors = "\n".join(report.errors)
    assert "huge.md" in errors and "too large" in errors and "binary.md: is not UTF-8" in errors
    body = _body(fake, project)
    assert "<script" not in body and "href=\"javascript" not in body and "secret outside" not in body
    assert find_section(body, section_key("05_documentation/daily_notes/evil.md")) is not None
    assert all("link" not in p.name for p in documentation_files(project))


def test_publishing_needs_an_experiment(tmp_path, answers):
    answers = dict(answers, enable_elabftw=False, enable_omero=False)
    session = Session()
    project = create_project_everywhere(session, load_template("multi-modal-imaging"), answers, tmp_path).path
    with pytest.raises(UserError, match="has no elabFTW experiment"):
        publish_entries(session, project)


def test_an_entry_says_where_each_record_is_even_without_a_web_address(linked):
    _, project, _ = linked
    record_integration(project, "omero", action="create", result="done", state="done", id=7, url=None)
    text = new_entry(project, "protocol", now=DAY).read_text()
    elabftw = read_record(project)["integrations"]["elabftw"]
    assert f"- elabFTW: [experiment {elabftw['id']}]({elabftw['url']})" in text
    assert "- OMERO: dataset 7 (no web address configured)" in text and "not linked" not in text


def test_a_server_that_drops_the_markers_gets_the_section_again_next_time(linked, monkeypatch):
    """A body whose section links the server did not keep is not recorded as published."""
    import re

    from metafold_widgets.testing.fake_elabftw import experiments as fake_experiments
    session, project, fake = linked
    (project / "05_documentation/daily_notes/day1.md").write_text("# Day 1\n\nCells plated.\n")
    monkeypatch.setattr(fake_experiments, "purify_body",
                        lambda release, text: re.sub(r"<a [^>]*>|</a>", "", purify_body(release, text)))
    first = publish_entries(session, project)
    assert any("did not keep the section markers" in error for error in first.errors)
    monkeypatch.undo()
    again = publish_entries(session, project)
    assert again.added == ["05_documentation/daily_notes/day1.md"] and not again.errors
