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
