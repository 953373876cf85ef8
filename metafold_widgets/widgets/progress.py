"""A progress bar for long work in notebooks (batches, checks): pass ``bar.update`` as ``progress``."""
from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets


class ProgressBar(widgets.VBox):
    """``progress(done, total, message)`` callbacks shown as a bar and the latest message."""

    def __init__(self, title: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        self.bar = widgets.IntProgress(value=0, min=0, max=1, description=title,
                                       layout=widgets.Layout(width="auto", max_width="46em"))
        self.message = widgets.HTML()
        self.add_class("metafold-progress")
        self.children = [self.bar, self.message]

    def update(self, done: int, total: int, message: str = "") -> None:
        """Show ``done`` of ``total`` and the message (thread-safe enough for worker callbacks)."""
        self.bar.max = max(total, 1)
        self.bar.value = min(done, self.bar.max)
        self.message.value = f"<small>{done}/{total} {html.escape(message)}</small>"
