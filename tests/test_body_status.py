"""Template-configured experiment body, fixed status and OMERO description: validation, plan, and
creation against the test elabFTW server on every emulated release."""
from __future__ import annotations

import os

import pytest

from metafold_widgets import load_template, read_record
from metafold_widgets.adapters.elabftw import ElabftwClient
from metafold_widgets.config import ElabftwSettings, Secret
from metafold_widgets.core.plan import plan_project
from metafold_widgets.errors import TemplateError
from metafold_widgets.session import Session
from metafold_widgets.testing.fake_elabftw import EMULATED_RELEASES, WRITE_KEY
from metafold_widgets.workflows import create_project_everywhere

pytestmark = pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")

TEMPLATE = """\
id: bodied
name: Bodied experiment
project_name: "{title}"
fields:
  title: {type: text, required: true}
  microscope: {type: text}
  research_question: {type: textarea}
  channels: {type: checkboxes, options: [DAPI, GFP]}
body:
  - title: Protocol
    placeholder: step-by-step protocol, reagents and equipment
  - title: Imaging sessions
    text: "Microscope: {microscope}; channels: {channels}"
    placeholder: date, operator and settings of each session
  - title: Notes
integrations:
  elabftw: {title: "{title}", status: {value: Running}}
  omero: {description: "Images for {title}"}
"""
ANSWERS = {"title": "Heat <b>shock</b>", "microscope": "LSM 980 & Airyscan", "channels": ["DAPI", "GFP"],
           "research_question": "Does heat move the protein?\n\nSecond paragraph."}


def template_problems(text: str) -> list[str]:
    with pytest.raises(TemplateError) as caught:
        load_template(text)
    return [str(problem) for problem in caught.value.problems]


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("tail", "expected"), [
    ("body: Protocol\n", ":5: 'body' must be a list of sections"),
    ("body:\n  - placeholder: steps\n", ":6: a body section needs a 'title'"),
    ("body:\n  - {title: Protocol, txt: steps}\n",
     "unknown body section key 'txt' (known keys: title, text, placeholder)"),
    ("body:\n  - {title: Results, text: '{answer}'}\n", "refers to unknown field 'answer'"),
    ("body:\n  - {title: Results}\n  - {title: results}\n", ":7: duplicate body section 'results'"),
    ("body:\n  - {title: [a, b]}\n", "body section 'title' must be text"),
    ("integrations:\n  elabftw: {status: {value: ''}}\n",
     "elabftw status must be a field key or {value: <status name>}, e.g. {value: Running}"),
    ("integrations:\n  elabftw: {status: {value: Running, color: blue}}\n", "elabftw status must be a field key or"),
    ("integrations:\n  elabftw: {tags: {value: imaging}}\n",
     "elabftw tags must name a field; only category, status can be fixed with {value: ...}"),
    ("integrations:\n  elabftw: {status: stat}\n", "elabftw status refers to unknown field 'stat'"),
    ("integrations:\n  omero: {description: 'About {nothing}'}\n", "refers to unknown field 'nothing'"),
])
def test_template_mistakes_are_named_with_their_line(tail: str, expected: str) -> None:
    text = "id: t\nfields:\n  title: {type: text}\n  microscope: {type: text}\n" + tail
    problems = template_problems(text)
    assert any(expected in problem for problem in problems), problems


def test_a_fixed_status_replaces_the_conventional_status_field() -> None:
    template = load_template("id: t\nfields:\n  elabftw_status: {type: text}\n"
                             "integrations:\n  elabftw: {status: {value: Running}, category: {value: Imaging}}\n")
    assert template.role("elabftw", "status") is None
    assert template.fixed("elabftw", "status") == "Running" and template.fixed("elabftw", "category") == "Imaging"
    plan = plan_project(template, {"elabftw_status": "Fail"}, "/tmp/unused", name="p")
    payload = plan.integrations["elabftw"]["payload"]
    assert (payload["status"], payload["category"]) == ("Running", "Imaging")


def test_a_status_field_still_gives_the_status() -> None:
    template = load_template("id: t\nfields:\n  stage: {type: text}\nintegrations:\n  elabftw: {status: stage}\n")
    plan = plan_project(template, {"stage": "Success"}, "/tmp/unused", name="p")
    assert plan.integrations["elabftw"]["payload"]["status"] == "Success"


# --- plan ----------------------------------------------------------------------------------------


def test_body_carries_sections_placeholders_answers_and_project_link(tmp_path) -> None:
    plan = plan_project(load_template(TEMPLATE), ANSWERS, tmp_path, uid="uid-1")
    body = plan.integrations["elabftw"]["payload"]["body"]
    assert "<h3>Research question</h3><p>Does heat move the protein?</p><p>Second paragraph.</p>" in body
    assert "<h3>Protocol</h3><p><em>[To be completed: step-by-step protocol, reagents and equipment]</em></p>" in body
    assert ("<h3>Imaging sessions</h3><p>Microscope: LSM 980 &amp; Airyscan; channels: DAPI, GFP</p>"
            "<p><em>[To be completed: date, operator and settings of each session]</em></p>") in body
    assert "<h3>Notes</h3><p><em>[To be completed.]</em></p>" in body
    assert body.index("Protocol") < body.index("Imaging sessions") < body.index("Notes") < body.index("Project uid")
    assert f"<li>Project folder: {plan.name}</li>" in body and "<li>Project uid: uid-1</li>" in body
    assert f"<li>Folder path: <code>{os.path.abspath(plan.path)}</code></li>" in body
    assert "<b>" not in body  # the title's markup arrives as text


def test_answers_cannot_inject_markup_into_a_section(tmp_path) -> None:
    answers = {**ANSWERS, "microscope": "<script>alert(1)</script>"}
    body = plan_project(load_template(TEMPLATE), answers, tmp_path)\
        .integrations["elabftw"]["payload"]["body"]
    assert "<script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_a_blank_answer_leaves_the_section_marked_to_be_completed(tmp_path) -> None:
    text = TEMPLATE.replace('text: "Microscope: {microscope}; channels: {channels}"', 'text: "{microscope}"')
    body = plan_project(load_template(text), {"title": "Run"}, tmp_path)\
        .integrations["elabftw"]["payload"]["body"]
    assert "<h3>Imaging sessions</h3><p><em>[To be completed: date, operator" in body


def test_omero_description_comes_from_the_template_pattern_or_a_default(tmp_path) -> None:
    plan = plan_project(load_template(TEMPLATE), ANSWERS, tmp_path)
    assert plan.integrations["omero"]["payload"]["description"] == "Images for Heat <b>shock</b>"
    plain = load_template(TEMPLATE.replace('  omero: {description: "Images for {title}"}\n', ""))
    described = plan_project(plain, ANSWERS, tmp_path).integrations["omero"]["payload"]["description"]
    assert described == "Does heat move the protein?\n\nSecond paragraph."
    unanswered = plan_project(plain, {"title": "Run"}, tmp_path)
    assert unanswered.integrations["omero"]["payload"]["description"] == "Images of the project Run."


def test_plan_preview_shows_the_status_and_description(tmp_path) -> None:
    text = plan_project(load_template(TEMPLATE), ANSWERS, tmp_path).describe()
    assert 'status: "Running"' in text and 'description: "Images for Heat <b>shock</b>"' in text


def test_the_built_in_imaging_template_has_the_tutorial_sections_status_and_description(tmp_path) -> None:
    template = load_template("multi-modal-imaging")
    assert [s.title for s in template.body] == ["Protocol", "Sample preparation", "Microscope configuration",
                                                "Imaging sessions", "Analysis", "Results", "Notes"]
    assert template.fixed("elabftw", "status") == "Running"
    assert template.role("omero", "description")


# --- creation on every emulated release ----------------------------------------------------------


@pytest.fixture(params=EMULATED_RELEASES)
def fake(request, fake_elabftw_factory):
    """A test server of each emulated release in turn."""
    return fake_elabftw_factory(version=request.param)


@pytest.fixture
def session(fake):
    client = ElabftwClient(ElabftwSettings(fake.url, Secret(WRITE_KEY)), sleep=lambda s: None,
                           timeout=(5.0, 10.0))
    created = Session(elabftw=client)
    yield created
    created.close()


def test_creation_sets_body_sections_project_link_and_fixed_status(tmp_path, fake, session) -> None:
    result = create_project_everywhere(session, load_template(TEMPLATE), ANSWERS, tmp_path)
    outcome = result.outcomes["elabftw"]
    assert outcome.state == "done", outcome.message
    experiment = fake.experiment(outcome.id)
    assert experiment["status_title"] == "Running"
    body = experiment["body"]
    for heading in ("Protocol", "Imaging sessions", "Notes", "Project"):
        assert f"<h3>{heading}</h3>" in body
    record = read_record(result.path)
    assert f"<li>Project uid: {record['project']['uid']}</li>" in body
    assert f"<code>{result.path}</code>" in body
    assert "[To be completed: step-by-step protocol" in body


def test_an_unknown_fixed_status_fails_the_step_with_its_name(tmp_path, fake, session) -> None:
    text = TEMPLATE.replace("{value: Running}", "{value: Imaging started}")
    result = create_project_everywhere(session, load_template(text), ANSWERS, tmp_path)
    outcome = result.outcomes["elabftw"]
    assert outcome.state == "failed" and "Imaging started" in outcome.message
    assert fake.experiments() == []


def test_replanning_an_existing_project_keeps_its_link_and_the_elabftw_address(tmp_path) -> None:
    from metafold_widgets.core.formats.elabftw import to_elabftw
    from metafold_widgets.core.plan import plan_integrations, project_link
    from metafold_widgets.core.project import apply_plan
    from metafold_widgets.core.record import load_record
    from metafold_widgets.core.validation import resolve_answers

    template = load_template(TEMPLATE)
    path = apply_plan(plan_project(template, ANSWERS, tmp_path))
    record = load_record(path)
    checked = resolve_answers(template, ANSWERS, str(path))
    plans = plan_integrations(template, checked, record.name, to_elabftw(template, ANSWERS),
                              link=project_link(record, path), elabftw_url="https://elab/experiments.php?id=3")
    assert f"<li>Project uid: {record.uid}</li>" in plans["elabftw"]["payload"]["body"]
    assert plans["omero"]["payload"]["description"] == \
        "Images for Heat <b>shock</b>\n\nelabFTW experiment: https://elab/experiments.php?id=3"


# --- the project folder's web address --------------------------------------------------------------


def test_a_project_inside_the_served_folder_has_a_web_address(tmp_path) -> None:
    from metafold_widgets.core.web_folders import WebFolders
    from metafold_widgets.errors import ConfigError
    web = WebFolders("https://hub.example.org/user/ada/lab/tree/projects/", tmp_path / "projects")
    assert web.url_for(tmp_path / "projects" / "lab 2" / "IMG#1") == \
        "https://hub.example.org/user/ada/lab/tree/projects/lab%202/IMG%231"
    assert web.url_for(tmp_path / "elsewhere" / "IMG1") is None and web.url_for(tmp_path / "projects") is None
    for bad in ("javascript:alert(1)", "ftp://files/x", "https://ada:pw@hub.example.org/", "hub.example.org"):
        with pytest.raises(ConfigError):
            WebFolders(bad, tmp_path)


def test_the_web_address_comes_from_the_environment_or_the_config_file(tmp_path) -> None:
    env = {"METAFOLD_PROJECTS_DIR": str(tmp_path), "METAFOLD_PROJECTS_URL": "https://files.example.org/p"}
    assert Session.from_environment(env, config={}).web_folders.url_for(tmp_path / "x") == \
        "https://files.example.org/p/x"
    config = {"paths": {"projects": str(tmp_path), "projects_url": "https://files.example.org/q"}}
    assert Session.from_environment({}, config=config).web_folders.base_url == "https://files.example.org/q"
    assert Session.from_environment({}, config={}).web_folders is None


def test_the_body_links_the_served_folder_and_reads_back_as_sent(tmp_path, fake) -> None:
    served, outside = tmp_path / "served", tmp_path / "outside"
    served.mkdir()
    outside.mkdir()
    client = ElabftwClient(ElabftwSettings(fake.url, Secret(WRITE_KEY)), sleep=lambda s: None)
    fake_session = Session(served, elabftw=client, projects_url="https://hub.example.org/files")
    result = create_project_everywhere(fake_session, load_template(TEMPLATE), ANSWERS, served)
    address = f"https://hub.example.org/files/{result.path.name}"
    body = fake.experiment(result.outcomes["elabftw"].id)["body"]
    assert f'<a href="{address}" target="_blank" rel="noreferrer noopener">{address}</a>' in body
    sent = read_record(result.path)["integrations"]["elabftw"]["payload"]["body"]
    assert body.startswith(sent + "\n<p>metafold")  # the purifier kept it as sent; the marker follows
    elsewhere = create_project_everywhere(fake_session, load_template(TEMPLATE), ANSWERS, outside)
    assert "Open the folder" not in fake.experiment(elsewhere.outcomes["elabftw"].id)["body"]
    fake_session.close()
