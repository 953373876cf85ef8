"""The few CSS rules the forms need, injected once through an HTML widget."""
from __future__ import annotations

import ipywidgets as widgets

# Integration states: the badges' classes below and the charts' SVG fills use the same colours.
STATE_COLOURS = {"done": "#1b5e20", "pending": "#8a6d00", "failed": "#b00020", "off": "#8c959f"}
NO_STATE_COLOUR = "#d0d7de"
OTHER_STATE_COLOUR = "#57606a"

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
/* A field: one HTML text (label, help, note, error) above its input */
.metafold-field .metafold-help, .metafold-field .metafold-note, .metafold-field .metafold-error { margin-top: 0.1em; }
.metafold-plan { background: #f6f8fa; padding: 0.6em; max-height: 30em; overflow: auto; }
/* Messages: errors and success, wherever they are shown */
.metafold-error, .metafold-required, .metafold-blocked, .metafold-template-problems, .metafold-outcome-failed,
.metafold-connection-error, .metafold-problem { color: #b00020; }
.metafold-ok, .metafold-connection-ok { color: #1b5e20; }
.metafold-connection-info { color: #57606a; }
/* Check reports: one class per status */
.metafold-status { white-space: nowrap; font-weight: 600; }
.metafold-status-pass { color: #1b5e20; }
.metafold-status-warn { color: #8a6d00; }
.metafold-status-fail { color: #b00020; }
.metafold-status-skip { color: #57606a; }
/* Inputs carry their field's label as description for screen readers; the label above shows it. */
.metafold-field > .widget-inline-hbox > .widget-label,
.metafold-field > .widget-radio > .widget-label,
.metafold-field > .widget-checkbox .widget-label-basic > span {
  position: absolute !important; width: 1px !important; height: 1px !important; margin: -1px !important;
  padding: 0 !important; border: 0 !important; overflow: hidden !important; clip: rect(0 0 0 0) !important;
  white-space: nowrap !important;
}
/* The projects dashboard */
.metafold-dashboard .metafold-table-box { max-height: 30em; overflow: auto; border: 1px solid #d0d7de; }
.metafold-projects { border-collapse: collapse; width: 100%; font-size: 0.92em; }
.metafold-projects th { position: sticky; top: 0; background: #f6f8fa; text-align: left; }
.metafold-projects th, .metafold-projects td { padding: 0.25em 0.6em; border-bottom: 1px solid #eaeef2;
  vertical-align: top; overflow-wrap: anywhere; }
.metafold-badge { display: inline-block; padding: 0 0.45em; border-radius: 0.7em; color: #fff; font-size: 0.85em; }
.metafold-bar { display: inline-block; width: 4em; height: 0.6em; background: #eaeef2; margin-right: 0.4em; }
.metafold-bar > span { display: block; height: 100%; background: #2f81f7; }
.metafold-chart-grid { display: flex; flex-wrap: wrap; gap: 0.6em; }
.metafold-chart { max-width: 100%; height: auto; border: 1px solid #eaeef2; border-radius: 4px; }
.metafold-details dt { font-weight: 600; float: left; clear: left; width: 9em; }
.metafold-details dd { margin-left: 9.5em; overflow-wrap: anywhere; }
.metafold-details td, .metafold-details th { text-align: left; vertical-align: top; padding: 0.1em 0.6em; }
.metafold-badge-desktop, .metafold-state-other { background: #57606a; }
.metafold-state-done { background: #1b5e20; }
.metafold-state-pending { background: #8a6d00; }
.metafold-state-failed { background: #b00020; }
.metafold-state-off { background: #8c959f; }
/* Dark themes (JupyterLab and Voila mark them on <body>): the colours above, and those set inline on
   messages, are for a light page; use the theme's own light-on-dark shades instead. */
[data-jp-theme-light="false"] .metafold-help,
[data-jp-theme-light="false"] .metafold-connection-info { color: var(--jp-content-font-color2, #b1bac4) !important; }
[data-jp-theme-light="false"] .metafold-note { color: var(--jp-warn-color1, #ff9800); }
[data-jp-theme-light="false"] .metafold-error,
[data-jp-theme-light="false"] .metafold-required,
[data-jp-theme-light="false"] .metafold-blocked,
[data-jp-theme-light="false"] .metafold-template-problems,
[data-jp-theme-light="false"] .metafold-outcome-failed,
[data-jp-theme-light="false"] .metafold-connection-error { color: var(--jp-error-color1, #f44336) !important; }
[data-jp-theme-light="false"] .metafold-ok,
[data-jp-theme-light="false"] .metafold-connection-ok { color: var(--jp-success-color1, #4caf50) !important; }
[data-jp-theme-light="false"] .metafold-plan { background: var(--jp-layout-color2, #424242); }
[data-jp-theme-light="false"] .metafold-projects th { background: var(--jp-layout-color2, #424242); }
[data-jp-theme-light="false"] .metafold-bar { background: var(--jp-layout-color3, #616161); }
[data-jp-theme-light="false"] .metafold-status-pass { color: var(--jp-success-color1, #4caf50); }
[data-jp-theme-light="false"] .metafold-status-warn { color: var(--jp-warn-color1, #ff9800); }
[data-jp-theme-light="false"] .metafold-status-fail { color: var(--jp-error-color1, #f44336); }
[data-jp-theme-light="false"] .metafold-status-skip { color: var(--jp-content-font-color2, #b1bac4); }
[data-jp-theme-light="false"] .metafold-section { border-left-color: var(--jp-border-color1, #616161); }
[data-jp-theme-light="false"] .metafold-spinner { border-color: var(--jp-border-color1, #616161);
  border-top-color: var(--jp-content-font-color2, #b1bac4); }
/* ipywidgets' closed accordion titles and its green button are just below 4.5:1 contrast in either theme */
.metafold-create-app .lm-AccordionPanel-title,
.metafold-create-app .jupyter-widget-Collapse-header { color: var(--jp-ui-font-color1, rgba(0, 0, 0, 0.87)); }
body:not([data-jp-theme-light="false"]) .metafold-create-app .jupyter-button.mod-success { background-color: #1b5e20; }
</style>
"""


_INVISIBLE = widgets.Layout(height="0px", overflow="hidden", margin="0")  # shared: never mutated
_CSS_STYLE = widgets.HTML().style


def style_widget() -> widgets.HTML:
    """An invisible widget carrying the CSS; put it once in an app or form."""
    return widgets.HTML(CSS, layout=_INVISIBLE, style=_CSS_STYLE)
