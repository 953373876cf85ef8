"""The notebooks' demo set-up: stand-ins only when asked for, the configured servers otherwise."""
from __future__ import annotations

import requests

from metafold_widgets.testing.demo import demo_session
from metafold_widgets.testing.fake_omero import FakeBlitzGateway


def test_demo_mode_gives_stand_ins_and_stops_them(tmp_path):
    env = {"METAFOLD_DEMO_OMERO": "1", "METAFOLD_PROJECTS_DIR": str(tmp_path)}
    demo = demo_session(env)
    assert demo.active and isinstance(demo.session.omero, FakeBlitzGateway)
    assert env["ELABFTW_URL"] == demo.elabftw.url and demo.session.elabftw.test_connection()["userid"] == 1
    demo.close()
    try:
        requests.get(env["ELABFTW_URL"] + "/api/v2/info", timeout=2)
        raise AssertionError("the fake elabFTW server is still answering")
    except requests.ConnectionError:
        pass


def test_without_the_variable_nothing_is_faked(tmp_path):
    demo = demo_session({"METAFOLD_PROJECTS_DIR": str(tmp_path)})
    assert not demo.active and demo.omero is None and demo.elabftw is None
    assert not demo.session.is_configured("elabftw") and not demo.session.is_configured("omero")
    demo.close()


def test_the_fake_imports_first_in_a_fresh_process(tmp_path):
    """A notebook kernel imports the fake before anything else of omero-py: that must work."""
    import subprocess
    import sys
    code = ("from metafold_widgets.testing.demo import demo_session; "
            f"d = demo_session({{'METAFOLD_DEMO_OMERO': '1', 'METAFOLD_PROJECTS_DIR': {str(tmp_path)!r}}}); "
            "print(d.active); d.close()")
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr[-2000:]


def test_demo_importer_runs_the_whole_import_and_announce_workflow(tmp_path, example_answers_path):
    """The demo's stand-in importer takes the importer's command line: the workflow around it is real."""
    import warnings

    import yaml

    from metafold_widgets import load_template, read_record
    from metafold_widgets.adapters.omero_sizes import dataset_size
    from metafold_widgets.workflows import create_project_everywhere
    from metafold_widgets.workflows.image_import import import_and_announce

    env = {"METAFOLD_DEMO_OMERO": "1", "METAFOLD_PROJECTS_DIR": str(tmp_path)}
    demo = demo_session(env)
    assert demo_session({"METAFOLD_PROJECTS_DIR": str(tmp_path)}).importer is None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            answers = yaml.safe_load(example_answers_path.read_text())
            result = create_project_everywhere(demo.session, load_template("multi-modal-imaging"), answers, tmp_path)
        assert result.ok, result.outcomes
        raw = result.path / "03_imaging/raw_images/condition_1"
        for name in ("cell_01.tif", "cell_02.tif"):
            (raw / name).write_bytes(b"II*\0")
        report = import_and_announce(demo.session, result.path, [raw], status="Success", runner=demo.importer)
        assert report.ok and len(report.run.image_ids) == 2 and report.published and report.status == "Success"
        record = read_record(result.path)
        dataset_id = record["integrations"]["omero"]["id"]
        assert sorted(record["integrations"]["omero"]["image_ids"]) == sorted(report.run.image_ids)
        assert dataset_size(demo.omero, dataset_id).image_count == 2
        experiment = demo.session.elabftw.get_experiment(record["integrations"]["elabftw"]["id"])
        assert "2 images imported" in experiment["body"]
        assert "Image:" in report.run.log_file.read_text()
    finally:
        demo.close()
