"""The tutorial's template and answers create the full project tree and files."""
from __future__ import annotations

import json

import yaml

from metafold_widgets import create_project, load_template, validate_answers


def test_example_template_with_answers_creates_full_tree(tmp_path, example_template_path, example_answers_path):
    template = load_template(example_template_path)
    answers = yaml.safe_load(example_answers_path.read_text())
    assert validate_answers(template, answers) == []
    project = create_project(template, answers, tmp_path)
    assert project.name == "IMG202501_Protein_Localization_in_Response_to_Heat_Stress"
    for folder in template.folders.folders:
        assert (project / folder).is_dir(), folder
    record = json.loads((project / "metafold.json").read_text())
    assert record["template"] == {"id": "multi-modal-imaging", "name": "Multi-Modal Imaging Workflow",
                                  "version": "1.0.0", "type": "experiment"}
    assert record["answers"]["project_identifier"] == "IMG202501"
    assert record["integrations"]["elabftw"]["state"] == "pending"
    metadata = json.loads((project / "elabftw-metadata.json").read_text())
    assert metadata["extra_fields"]["Project identifier"]["value"] == "IMG202501"
    assert "Protein Localization in Response to Heat Stress" in (project / "README.md").read_text()
    log = (project / "01_project_management/integration_logs/integration_log.jsonl").read_text().splitlines()
    assert json.loads(log[0])["action"] == "create_project"
    assert [p.name for p in tmp_path.iterdir()] == [project.name]  # no temporary left behind


def test_the_flat_public_api_resolves_every_name():
    import metafold_widgets
    missing = [name for name in metafold_widgets.__all__ if getattr(metafold_widgets, name, None) is None]
    assert missing == []
    assert {"Session", "create_project_everywhere", "check_project", "build_package", "ProjectRecord"} \
        <= set(metafold_widgets.__all__)


def test_importing_the_package_loads_no_http_or_widget_library():
    import subprocess
    import sys
    code = ("import sys, metafold_widgets; "
            "print(sorted(m for m in ('requests', 'ipywidgets', 'pandas', 'omero') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_package_says_it_is_typed():
    from importlib.resources import files
    assert files("metafold_widgets").joinpath("py.typed").is_file()
