"""The whole tutorial flow with both systems: create, cross-links, failures x resume, batch.

elabFTW is the contract-checked fake server; OMERO is the fake connection of real omero-py
objects. Failures are injected at each OMERO server call (before it applies: the call is
refused; after it applies: the reply is lost) and at each elabFTW step.
"""
from __future__ import annotations

import json
from pathlib import Path

import omero
import pytest

from metafold_widgets import load_template, read_record
from metafold_widgets.adapters.elabftw import ElabftwClient
from metafold_widgets.adapters.omero import PRODUCT_NS
from metafold_widgets.config import ElabftwSettings, Secret
from metafold_widgets.session import Session
from metafold_widgets.testing.fake_elabftw import WRITE_KEY, Fault
from metafold_widgets.testing.fake_omero import _UpdateService
from metafold_widgets.workflows import create_project_everywhere
from metafold_widgets.workflows.batch import create_batch
from metafold_widgets.workflows.check import check_project
from metafold_widgets.workflows.resume import resume_project

pytestmark = pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")


@pytest.fixture
def both(fake_elabftw, conn, answers):
    fake_elabftw.add_category("Microscopy")
    client = ElabftwClient(ElabftwSettings(fake_elabftw.url, Secret(WRITE_KEY)), sleep=lambda s: None,
                           retries=1, timeout=(2.0, 0.3))
    session = Session(elabftw=client, omero=conn)
    answers.update(enable_elabftw=True, elabftw_experiment_type="Microscopy", elabftw_tags="stress, confocal")
    yield session
    session.close()


def datasets_of(conn, uid):
    return [ds for ds in conn.objects("Dataset")
            if ("project_uid", uid) in conn.pairs("Dataset", ds.getId().val, PRODUCT_NS)]


def test_one_action_creates_everything_linked_to_each_other(both, conn, fake_elabftw, answers, tmp_path):
    result = create_project_everywhere(both, load_template("multi-modal-imaging"), answers, tmp_path)
    assert result.ok
    record = read_record(result.path)
    experiment_id, dataset_id = record["integrations"]["elabftw"]["id"], record["integrations"]["omero"]["id"]
    fields = both.elabftw.get_experiment(experiment_id)["metadata"]["extra_fields"]
    assert fields["OMERO dataset"]["value"] == f"OMERO Dataset:id:{dataset_id}"  # no OMERO.web address here
    provenance = dict(conn.pairs("Dataset", dataset_id, PRODUCT_NS))
    assert provenance["elabftw_url"] == record["integrations"]["elabftw"]["url"]
    assert provenance["project_path"] == str(result.path)
    readme = (result.path / "README.md").read_text()
    assert record["integrations"]["elabftw"]["url"] in readme and f"- OMERO dataset: id {dataset_id}" in readme
    events = [json.loads(line) for line in (result.path / record["project"]["log"]).read_text().splitlines()]
    assert [(e["system"], e["action"]) for e in events] == [
        ("local", "create_project"), ("elabftw", "create"), ("omero", "create"), ("elabftw", "cross-link")]
    assert not check_project(result.path, both).failed


def _failing_saves(monkeypatch, when: str, remaining: list[int]):
    """Make the next OMERO save fail before it applies ('refused') or after ('lost reply')."""
    for name in ("saveAndReturnObject", "saveAndReturnArray", "saveObject"):
        original = getattr(_UpdateService, name)

        def patched(self, *args, _original=original, **kwargs):
            if not remaining:
                return _original(self, *args, **kwargs)
            remaining.pop()
            if when == "refused":
                raise omero.ServerError("refused by the test")
            _original(self, *args, **kwargs)
            raise omero.ClientError("connection lost after the save")

        monkeypatch.setattr(_UpdateService, name, patched)


@pytest.mark.parametrize("when", ["refused", "lost reply"])
def test_omero_failure_then_resume(both, conn, answers, tmp_path, monkeypatch, when):
    remaining = [1]
    _failing_saves(monkeypatch, when, remaining)
    result = create_project_everywhere(both, load_template("multi-modal-imaging"), answers, tmp_path)
    record = read_record(result.path)
    assert record["integrations"]["elabftw"]["state"] == "done"  # what succeeded stays done
    assert record["integrations"]["omero"]["state"] == "failed" and record["integrations"]["omero"]["error"]
    outcomes = resume_project(both, result.path)
    assert outcomes["elabftw"].message == "already done" and outcomes["omero"].state == "done"
    uid = record["project"]["uid"]
    assert len(datasets_of(conn, uid)) == 1  # never a duplicate, even when the first save had applied
    final = read_record(result.path)
    assert final["integrations"]["omero"]["state"] == "done"
    fields = both.elabftw.get_experiment(final["integrations"]["elabftw"]["id"])["metadata"]["extra_fields"]
    assert fields["OMERO dataset"]["value"].endswith(str(final["integrations"]["omero"]["id"]))


def test_unknown_group_fails_clearly(both, conn, answers, tmp_path):
    answers["omero_group"] = "No Such Lab"
    result = create_project_everywhere(both, load_template("multi-modal-imaging"), answers, tmp_path)
    state = read_record(result.path)["integrations"]["omero"]
    assert state["state"] == "failed" and "No Such Lab" in state["error"]


@pytest.mark.parametrize("fault", ["server error", "lost response"])
def test_elabftw_failure_then_resume_keeps_the_omero_dataset(both, conn, fake_elabftw, answers, tmp_path, fault):
    injected = Fault.status(500) if fault == "server error" else Fault.lose_response()
    fake_elabftw.inject(injected, method="POST", path_prefix="/api/v2/experiments",
                        times=5 if fault == "server error" else 1)
    result = create_project_everywhere(both, load_template("multi-modal-imaging"), answers, tmp_path)
    record = read_record(result.path)
    assert record["integrations"]["omero"]["state"] == "done"
    fake_elabftw.clear_faults()
    resume_project(both, result.path)
    final = read_record(result.path)
    assert final["integrations"]["elabftw"]["state"] == "done" and len(fake_elabftw.experiments()) == 1
    fields = both.elabftw.get_experiment(final["integrations"]["elabftw"]["id"])["metadata"]["extra_fields"]
    assert "OMERO dataset" in fields
    assert len(datasets_of(conn, record["project"]["uid"])) == 1
    provenance = dict(conn.pairs("Dataset", final["integrations"]["omero"]["id"], PRODUCT_NS))
    assert provenance["elabftw_url"] == final["integrations"]["elabftw"]["url"]  # named once elabFTW exists


def test_batch_with_both_systems_has_no_duplicates(both, conn, fake_elabftw, answers, tmp_path):
    rows = [dict(answers, project_identifier=f"ABC{n:06d}", experiment_title=f"Run {n}") for n in range(12)]
    result = create_batch(both, load_template("multi-modal-imaging"), rows, tmp_path, jobs=4)
    assert result.ok, result.to_dataframe()
    frame = result.to_dataframe()
    assert frame["elabftw_id"].nunique() == 12 and frame["omero_id"].nunique() == 12
    assert len(fake_elabftw.experiments()) == 12 and conn.count("Dataset") == 12
    for path, experiment_id, dataset_id in frame[["path", "elabftw_id", "omero_id"]].itertuples(index=False):
        fields = both.elabftw.get_experiment(int(experiment_id))["metadata"]["extra_fields"]
        assert fields["OMERO dataset"]["value"] == f"OMERO Dataset:id:{dataset_id}"  # experiment -> dataset
        experiment_url = read_record(path)["integrations"]["elabftw"]["url"]
        assert ("elabftw_url", experiment_url) in conn.pairs("Dataset", int(dataset_id), PRODUCT_NS)  # and back
        assert f"OMERO dataset: id {dataset_id}" in (Path(path) / "README.md").read_text()  # README shows it


def test_check_compares_the_omero_dataset_live(both, conn, answers, tmp_path):
    result = create_project_everywhere(both, load_template("multi-modal-imaging"), answers, tmp_path)
    found = {r.check: r for r in check_project(result.path, both).results}
    assert found["OMERO dataset"].status == "pass" and found["elabFTW experiment"].status == "pass"
    dataset_id = read_record(result.path)["integrations"]["omero"]["id"]
    client_ns = "openmicroscopy.org/omero/client/mapAnnotation"
    annotation_id = conn.map_annotations("Dataset", dataset_id, ns=client_ns)[0][0]
    pairs = [(k, "Tissue" if k == "Sample type" else v) for k, v in conn.pairs("Dataset", dataset_id)]
    conn.edit_annotation(annotation_id, pairs)
    report = check_project(result.path, both)
    found = {r.check: r for r in report.results}
    assert found["OMERO dataset"].status == "fail" and "Sample type" in found["OMERO dataset"].message
