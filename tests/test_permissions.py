"""Permission checks: folder modes, elabFTW canread/canwrite per release, OMERO group permissions
(built from text here; from omero-py's PermissionsI in tests/omero)."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from metafold_widgets import load_template
from metafold_widgets.adapters.elabftw import ElabftwClient
from metafold_widgets.adapters.omero_permissions import DatasetAccess, GroupPermissions
from metafold_widgets.config import ElabftwSettings, Secret
from metafold_widgets.session import Session
from metafold_widgets.testing.fake_elabftw import WRITE_KEY
from metafold_widgets.testing.fake_elabftw.releases import EMULATED_RELEASES
from metafold_widgets.workflows import create_project_everywhere, permissions
from metafold_widgets.workflows.check import check_project
from metafold_widgets.workflows.permissions import elabftw_permissions, folder_permissions, omero_permissions

pytestmark = pytest.mark.filterwarnings("ignore::metafold_widgets.config.InsecureConnectionWarning")
needs_modes = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    (project / "data" / "image.tif").write_bytes(b"II*\0")
    (project / "README.md").write_text("# Run\n")
    for path in (project, project / "data"):
        path.chmod(0o755)
    for path in (project / "data" / "image.tif", project / "README.md"):
        path.chmod(0o644)
    return project


# --- folder ---------------------------------------------------------------------------------


@needs_modes
def test_owner_access_and_no_world_write_pass_for_a_group_project(folder):
    result = folder_permissions(folder, "Group")
    assert result.status == "pass" and "4 entries" in result.message and "drwxr-xr-x" in result.message


@needs_modes
def test_links_are_not_judged_by_their_own_mode(folder, tmp_path):
    (folder / "data" / "elsewhere").symlink_to(tmp_path)
    (folder / "latest.tif").symlink_to(folder / "data" / "image.tif")
    assert folder_permissions(folder, "Group").status == "pass"


@needs_modes
def test_world_writable_and_owner_unwritable_fail_without_changes(folder):
    image = folder / "data" / "image.tif"
    image.chmod(0o666)
    (folder / "README.md").chmod(0o444)
    result = folder_permissions(folder, "Group")
    assert result.status == "fail"
    assert "anyone on this computer can change data/image.tif" in result.message
    assert "the owner cannot read or write README.md" in result.message
    assert "chmod -R o-w" in result.fix and "chmod -R u+rwX" in result.fix and "Nothing was changed" in result.fix
    assert stat.S_IMODE(image.stat().st_mode) == 0o666  # reported, not changed


@needs_modes
def test_a_private_project_readable_by_everyone_fails_or_warns_by_where_it_is(folder, monkeypatch):
    monkeypatch.setattr(permissions, "closed_parent", lambda path: None)  # every parent folder is open
    result = folder_permissions(folder, "Private")
    assert result.status == "fail" and "Private but anyone on this computer can read" in result.message
    assert "chmod -R o-rwx" in result.fix
    monkeypatch.setattr(permissions, "closed_parent", lambda path: path.parent)
    assert folder_permissions(folder, "Private").status == "warn"  # safe until it is moved
    folder.chmod(0o750)  # others cannot enter: the files' modes do not matter
    assert folder_permissions(folder, "Private").status == "warn"  # the group still can
    folder.chmod(0o700)
    assert folder_permissions(folder, "Private").status == "pass"


@needs_modes
def test_closed_parent_finds_a_folder_others_cannot_enter(tmp_path):
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    (tmp_path / "a").chmod(0o700)
    assert permissions.closed_parent(inner) == (tmp_path / "a").resolve()


def test_sharing_level_is_read_from_the_answer():
    assert permissions.sharing_level({"data_sharing_level": " private "}) == "Private"
    assert permissions.sharing_level({"data_sharing_level": "Lab only"}) is None
    assert permissions.sharing_level({}) is None


# --- elabFTW --------------------------------------------------------------------------------


def as_52(read: int, write: int = 20, users: tuple[int, ...] = ()) -> dict[str, Any]:
    """canread/canwrite as 5.2.8 returns them (the base inside the JSON)."""
    return {"canread": json.dumps({"base": read, "teams": [], "users": list(users), "teamgroups": []}),
            "canwrite": json.dumps({"base": write, "teams": [], "users": [], "teamgroups": []})}


def as_56(read: int, write: int = 20, users: tuple[int, ...] = ()) -> dict[str, Any]:
    """canread/canwrite as 5.4+ returns them (the base in its own column)."""
    return {"canread": json.dumps({"teams": [], "users": list(users), "teamgroups": []}), "canread_base": read,
            "canwrite": json.dumps({"teams": [], "users": [], "teamgroups": []}), "canwrite_base": write}


@pytest.mark.parametrize("shape", [as_52, as_56])
@pytest.mark.parametrize(("level", "read", "write", "status"), [
    ("Private", 20, 20, "pass"), ("Private", 10, 10, "pass"), ("Private", 30, 20, "fail"),
    ("Group", 30, 20, "pass"), ("Group", 40, 20, "fail"), ("Group", 20, 20, "warn"), ("Group", 30, 40, "fail"),
    ("Institution", 40, 30, "pass"), ("Institution", 50, 20, "fail"), ("Public", 50, 20, "pass"),
    ("Public", 30, 20, "warn"),
])
def test_elabftw_rights_against_the_sharing_level(shape, level, read, write, status):
    result = elabftw_permissions(shape(read, write), level)
    assert result.status == status, result.message
    if status != "pass":
        assert str(permissions.ELABFTW_BASE[level]) in result.fix


def test_elabftw_private_experiment_shared_with_users_warns_and_unreadable_rights_warn():
    shared = elabftw_permissions(as_56(20, users=(4, 5)), "Private")
    assert shared.status == "warn" and "also shared with 2" in shared.message
    assert elabftw_permissions({"canread": "not json"}, "Group").status == "warn"
    assert elabftw_permissions(as_56(30), None).status == "skip"


@pytest.mark.parametrize("version", EMULATED_RELEASES)
def test_the_fake_returns_rights_as_each_release_does(fake_elabftw_factory, version):
    fake = fake_elabftw_factory(version=version)
    headers = {"Authorization": WRITE_KEY}
    created = requests.post(f"{fake.api_url}/experiments", json={"title": "Run"}, headers=headers, timeout=10)
    url = created.headers["Location"]
    experiment = requests.get(url, headers=headers, timeout=10).json()
    if fake.release.base_columns:
        assert (experiment["canread_base"], experiment["canwrite_base"]) == (30, 20)
        assert json.loads(experiment["canread"]) == {"teams": [], "users": [], "teamgroups": []}
        assert experiment["canread_base_human"] == "Only members of the team"
        change = {"canread_base": 40}
    else:
        assert "canread_base" not in experiment and json.loads(experiment["canread"])["base"] == 30
        change = {"canread": json.dumps({"base": 40, "teams": [], "users": [], "teamgroups": []})}
    assert requests.patch(url, json=change, headers=headers, timeout=10).status_code == 200
    assert permissions.elabftw_access(requests.get(url, headers=headers, timeout=10).json()).read_base == 40


@pytest.mark.parametrize("version", EMULATED_RELEASES)
def test_check_reports_an_experiment_wider_than_the_sharing_level(fake_elabftw_factory, example_answers_path,
                                                                  tmp_path, version):
    fake = fake_elabftw_factory(version=version)
    fake.add_category("Microscopy")
    client = ElabftwClient(ElabftwSettings(fake.url, Secret(WRITE_KEY)), sleep=lambda s: None)
    session = Session(elabftw=client)
    answers = yaml.safe_load(example_answers_path.read_text()) | {"enable_omero": False}
    result = create_project_everywhere(session, load_template("multi-modal-imaging"), answers, tmp_path)
    found = {r.check: r for r in check_project(result.path, session).results}
    assert found["permissions: elabFTW"].status == "pass"  # the team reads it; the level is Group
    assert found["permissions: OMERO"].status == "skip"
    change = ({"canread_base": 50} if fake.release.base_columns
              else {"canread": json.dumps({"base": 50, "teams": [], "users": [], "teamgroups": []})})
    client.update_experiment(int(result.outcomes["elabftw"].id), **change)
    report = check_project(result.path, session)
    elab = next(r for r in report.results if r.check == "permissions: elabFTW")
    assert elab.status == "fail" and "Everyone including anonymous users" in elab.message and report.failed
    assert "'Only members of the team' (30)" in elab.fix


# --- OMERO ----------------------------------------------------------------------------------


def access(text: str) -> DatasetAccess:
    return DatasetAccess(7, "Run", "", 3, "Imaging Lab", GroupPermissions.from_text(text))


@pytest.mark.parametrize(("text", "level"), [("rw----", "private"), ("rwr---", "read-only"),
                                             ("rwra--", "read-annotate"), ("rwrw--", "read-write")])
def test_group_permissions_read_as_omero_model_parses_them(text, level):
    perms = GroupPermissions.from_text(text)
    assert perms.level == level and perms.text == text and not perms.world_read
    assert GroupPermissions.from_text("rwr-r-").world_read
    with pytest.raises(ValueError, match="rwra--"):
        GroupPermissions.from_text("rwx---")


@pytest.mark.parametrize(("text", "level", "status"), [
    ("rw----", "Private", "pass"), ("rwr---", "Private", "fail"), ("rwra--", "Group", "pass"),
    ("rw----", "Group", "warn"), ("rwr-r-", "Group", "fail"), ("rwr-r-", "Institution", "pass"),
    ("rwra--", "Institution", "warn"), ("rwr-r-", "Public", "pass"), ("rwrw--", "Group", "pass"),
])
def test_omero_group_permissions_against_the_sharing_level(text, level, status):
    result = omero_permissions(access(text), level)
    assert result.status == status, result.message
    assert f"group 'Imaging Lab' ({GroupPermissions.from_text(text).level}, {text})" in result.message
    if status != "pass":
        assert "OMERO administrator" in result.fix
