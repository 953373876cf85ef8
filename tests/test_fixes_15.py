"""The small fixes: form options arriving during the build, the result panel's outcome text,
the user in every logged event, and the one-line plain-http warning."""
from __future__ import annotations

from concurrent.futures import Future
from typing import Any, Callable

import ipywidgets as widgets
import pytest

from metafold_widgets import OptionsProviders, load_template
from metafold_widgets.widgets import TemplateForm
from metafold_widgets.widgets import form as form_module


class _AnswerAtOnce:
    """An executor whose futures are done before anyone can add a callback (a fast server)."""

    def submit(self, function: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        future.set_result(function(*args))
        return future


# --- options that arrive while the form is still being built ------------------------------


def test_options_arriving_during_the_build_do_not_break_the_form(monkeypatch, caplog):
    """A provider that answers before the rest of the form exists (the demo's in-process servers):
    no KeyError for a section not built yet, and the options are used."""
    monkeypatch.setattr(form_module, "_options_pool", _AnswerAtOnce())
    providers = OptionsProviders()
    providers.register("omero_groups_api", lambda: ["Imaging Lab", "Other Lab"])
    providers.register("elabftw_categories_api", lambda: ["Microscopy"])
    form = TemplateForm(load_template("multi-modal-imaging"), value={"omero_group": "Other Lab"},
                        providers=providers)
    dropdown = form.inputs["omero_group"].widget
    assert isinstance(dropdown, widgets.Dropdown) and ("Other Lab", "Other Lab") in dropdown.options
    assert form.value["omero_group"] == "Other Lab"
    assert "Loading" not in form.messages["omero_group"].value
    assert set(form.rows) == {f.key for f in form.template.fields}
    # a failing done-callback is only logged by concurrent.futures: that log must stay empty
    assert not [r for r in caplog.records if r.name == "concurrent.futures"], caplog.text
