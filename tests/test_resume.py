"""Resume after partial failure: every elabFTW step x every failure kind, then the final state.

(The OMERO half of the matrix runs with omero-py in tests/omero.)
"""
from __future__ import annotations

import pytest

from metafold_widgets import cli, load_template, read_record
from metafold_widgets.adapters.elabftw import ElabftwClient
from metafold_widgets.config import ElabftwSettings, Secret
from metafold_widgets.session import Session
from metafold_widgets.testing.fake_elabftw import EMULATED_RELEASES, WRITE_KEY, Fault
from metafold_widgets.workflows import create_project_everywhere
from metafold_widgets.workflows.check import check_project
from metafold_widgets.workflows.resume import resume_project

pytestmark = pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")

TEMPLATE = """
id: linked
name: Linked experiment
project_name: "{title}"
fields:
  title: {type: text, required: true}
  sample: {type: items, help_text: the sample resource}
integrations:
  elabftw: {title: "{title}"}
  omero: false
"""

STEPS = {"create": ("POST", "/api/v2/experiments"), "link": ("POST", "/api/v2/experiments/1/items_links")}
FAULTS = {
    "server error": lambda: (Fault.status(500), 20),
    "rate limited": lambda: (Fault.rate_limited(retry_after=1), 20),
    "dropped connection": lambda: (Fault.drop(), 20),
    "lost response": lambda: (Fault.lose_response(), 1),
    "timeout": lambda: (Fault.delay(1.5), 20),
    "forbidden": lambda: (Fault.status(403), 20),
}



@pytest.fixture(params=EMULATED_RELEASES)
def fake_elabftw(request, fake_elabftw_factory):
    """Every test of this module runs against each emulated elabFTW release."""
    return fake_elabftw_factory(version=request.param)

def make_session(fake) -> Session:
    client = ElabftwClient(ElabftwSettings(fake.url, Secret(WRITE_KEY)), sleep=lambda s: None,
                           timeout=(2.0, 0.75), retries=2)  # read timeout below the fault's delay
    return Session(elabftw=client)


@pytest.mark.parametrize("fault_name", FAULTS)
@pytest.mark.parametrize("step", STEPS)
def test_fault_then_resume_ends_complete_without_duplicates(tmp_path, fake_elabftw, step, fault_name):
    item = fake_elabftw.add_item("Sample S-7")
    method, prefix = STEPS[step]
    fault, times = FAULTS[fault_name]()
    fake_elabftw.inject(fault, method=method, path_prefix=prefix, times=times)
    session = make_session(fake_elabftw)
    template = load_template(TEMPLATE)
    first = create_project_everywhere(session, template, {"title": "Run 1", "sample": str(item)}, tmp_path)
    state = read_record(first.path)["integrations"]["elabftw"]
    assert first.path.is_dir()  # the local project always stays
    if fault_name == "lost response":
        assert state["state"] == "done"  # recovered at once by looking the marker up
    else:
        assert state["state"] == "failed" and state["error"]
        assert check_project(first.path).failed
    fake_elabftw.clear_faults()  # the server recovers ...
    assert fake_elabftw.wait_idle()  # ... and finishes what it was still doing, as it would before a resume
    outcomes = resume_project(session, first.path)
    assert outcomes["elabftw"].state == "done"
    experiments = fake_elabftw.experiments()
    assert len(experiments) == 1  # never a duplicate
    final = read_record(first.path)["integrations"]["elabftw"]
    assert final["state"] == "done" and final["id"] == experiments[0]["id"]
    assert [link["entityid"] for link in experiments[0]["items_links"]] == [item]
    again = resume_project(session, first.path)
    assert again["elabftw"].message == "already done" and len(fake_elabftw.experiments()) == 1
    session.close()


def test_unconfigured_system_is_created_by_resume_once_configured(tmp_path, fake_elabftw, monkeypatch, capsys):
    template_file = tmp_path / "t.yaml"
    template_file.write_text(TEMPLATE)
    result = create_project_everywhere(Session(), load_template(TEMPLATE), {"title": "Later"}, tmp_path)
    assert read_record(result.path)["integrations"]["elabftw"]["state"] == "pending"
    monkeypatch.setenv("ELABFTW_URL", fake_elabftw.url)
    monkeypatch.setenv("ELABFTW_API_KEY", WRITE_KEY)
    assert cli.main(["resume", str(result.path)]) == 0
    assert "elabFTW: done" in capsys.readouterr().err
    assert len(fake_elabftw.experiments()) == 1
    assert read_record(result.path)["integrations"]["elabftw"]["state"] == "done"


def test_skipped_on_request_stays_off(tmp_path, fake_elabftw):
    session = make_session(fake_elabftw)
    result = create_project_everywhere(session, load_template(TEMPLATE), {"title": "Local"}, tmp_path,
                                       skip={"elabftw"})
    assert resume_project(session, result.path)["elabftw"].state == "off"
    assert fake_elabftw.experiments() == []
