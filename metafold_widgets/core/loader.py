"""Load a template from a file, text or data, in any format we read.

Formats are detected from the content, not the file name: our own YAML/JSON format,
the desktop MetaFold's native template JSON, and elabFTW ``metadata`` JSON.
Built-in templates are found by id.
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from ..errors import TemplateError, TemplateProblem
from .formats.desktop import from_desktop, is_desktop_template
from .formats.elabftw import from_elabftw, is_elabftw_metadata
from .source import MAX_SOURCE_CHARS, Located, located_data, parse_text
from .template import Template, build_template

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json")
BUILTIN_PACKAGE = "metafold_widgets.builtin_templates"


def load_template(source: str | os.PathLike[str] | Mapping[str, Any]) -> Template:
    """Load and check a template from a path, YAML/JSON text, parsed data or a built-in id.

    Raises TemplateError listing every problem (file, line, field) when it is broken.
    """
    if isinstance(source, Mapping):
        return template_from_located(located_data(source))
    if isinstance(source, os.PathLike):
        return _load_file(Path(source))
    text = str(source)
    if "\n" in text or text.lstrip()[:1] in ("{", "[") or ":" in text and not _is_path_like(text):
        return template_from_located(parse_text(text, "<text>"))
    path = Path(text).expanduser()
    if path.is_file() or any(sep in text for sep in ("/", os.sep)) or text.endswith(TEMPLATE_SUFFIXES):
        return _load_file(path)
    builtin = builtin_template_path(text)
    if builtin is not None:
        return _load_file(builtin, label=f"built-in template '{text}'")
    raise TemplateError([TemplateProblem(
        f"no template file or built-in template called '{text}' (built-ins: {', '.join(builtin_template_ids())})",
        text)])


def template_from_located(located: Located) -> Template:
    """Build a Template from parsed data in any supported format."""
    data = located.data
    if is_desktop_template(data):
        located = from_desktop(located)
    elif is_elabftw_metadata(data):
        located = from_elabftw(located)
    return build_template(located)


def builtin_template_ids() -> list[str]:
    """Ids of the templates shipped with the package."""
    folder = resources.files(BUILTIN_PACKAGE)
    return sorted(Path(entry.name).stem for entry in folder.iterdir() if entry.name.endswith(".yaml"))


def builtin_template_path(template_id: str) -> Path | None:
    """The file of a built-in template, or None."""
    candidate = resources.files(BUILTIN_PACKAGE) / f"{template_id}.yaml"
    return Path(str(candidate)) if candidate.is_file() else None


def find_templates(folder: str | os.PathLike[str] | None = None) -> list[tuple[Path, Template | TemplateError]]:
    """Every template file in ``folder`` (built-ins when None), loaded or with its error."""
    if folder is None:
        paths = [p for p in (builtin_template_path(i) for i in builtin_template_ids()) if p]
    else:
        root = Path(folder)
        if not root.is_dir():
            raise TemplateError([TemplateProblem("is not a folder", str(root))])
        paths = sorted(p for p in root.iterdir() if p.suffix.lower() in TEMPLATE_SUFFIXES and p.is_file())
    found: list[tuple[Path, Template | TemplateError]] = []
    for path in paths:
        try:
            found.append((path, _load_file(path)))
        except TemplateError as exc:
            found.append((path, exc))
    return found


def _load_file(path: Path, label: str | None = None) -> Template:
    name = label or str(path)
    try:
        if path.is_dir():
            raise IsADirectoryError(path)
        if not path.is_file():  # a FIFO or device would block or never end
            raise TemplateError([TemplateProblem("is not a regular file", name)]) if path.exists() else \
                FileNotFoundError(path)
        if path.stat().st_size > 4 * MAX_SOURCE_CHARS:
            raise TemplateError([TemplateProblem(f"file is too large ({path.stat().st_size:,} bytes)", name)])
        raw = path.read_bytes()
    except FileNotFoundError:
        raise TemplateError([TemplateProblem("file not found", name)]) from None
    except IsADirectoryError:
        raise TemplateError([TemplateProblem("is a folder, not a template file", name)]) from None
    except OSError as exc:
        raise TemplateError([TemplateProblem(f"cannot be read: {exc.strerror}", name)]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TemplateError([TemplateProblem(
            f"is not UTF-8 text (byte {exc.start}); save it as UTF-8", name)]) from None
    return template_from_located(parse_text(text, name))


def _is_path_like(text: str) -> bool:
    return text.endswith(TEMPLATE_SUFFIXES) or text.startswith((".", "~", os.sep)) or \
        (len(text) > 2 and text[1] == ":" and text[2] in "\\/")


def find_template_by_id(template_id: str, version: str | None = None,
                        folder: str | os.PathLike[str] | None = None) -> tuple[Template | None, bool]:
    """The template with ``template_id`` among the built-ins and ``folder``; (template, exact version?).

    The exact version wins; otherwise the first one found is returned with ``False``
    (:meth:`.catalogue.TemplateCatalogue.find`).
    """
    from .catalogue import TemplateCatalogue  # the catalogue loads templates through this module
    return TemplateCatalogue(folder).find(template_id, version)
