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
