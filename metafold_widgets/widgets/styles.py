"""The few CSS rules the forms need, injected once through an HTML widget."""
from __future__ import annotations

import ipywidgets as widgets

CSS = """
<style>
.metafold-field { margin: 0.35em 0 0.6em 0; }
.metafold-section { border-left: 3px solid #d0d7de; padding-left: 0.8em; margin: 0.6em 0; }
.metafold-section-title { margin: 0.2em 0 0.4em 0; font-size: 1.1em; }
.metafold-help { color: #57606a; font-size: 0.9em; line-height: 1.3; }
.metafold-note { color: #7d4e00; font-size: 0.9em; }
.metafold-spinner { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.4em;
  border: 2px solid #d0d7de; border-top-color: #57606a; border-radius: 50%;
  animation: metafold-spin 0.8s linear infinite; vertical-align: -0.1em; }
@keyframes metafold-spin { to { transform: rotate(360deg); } }
.metafold-error { font-size: 0.9em; font-weight: 600; }
.metafold-plan { background: #f6f8fa; padding: 0.6em; max-height: 30em; overflow: auto; }
/* Inputs carry their field's label as description for screen readers; the label above shows it. */
.metafold-field > .widget-inline-hbox > .widget-label,
.metafold-field > .widget-radio > .widget-label,
.metafold-field > .widget-checkbox .widget-label-basic > span {
  position: absolute !important; width: 1px !important; height: 1px !important; margin: -1px !important;
  padding: 0 !important; border: 0 !important; overflow: hidden !important; clip: rect(0 0 0 0) !important;
  white-space: nowrap !important;
}
</style>
"""


def style_widget() -> widgets.HTML:
    """An invisible widget carrying the CSS; put it once in an app or form."""
    return widgets.HTML(CSS, layout=widgets.Layout(height="0px", overflow="hidden", margin="0"))
