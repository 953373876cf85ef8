"""The experiment body as elabFTW stores it: ``Filter::body`` (src/Services/Filter.php@5.6.12;
src/services/Filter.php@5.2.8 has the same list) runs HTMLPurifier with an ``HTML.Allowed`` list,
``HTML.TargetBlank`` and a list of allowed classes and CSS properties.

What this emulates (enough for the tags clients send; not a full HTMLPurifier):

- elements outside the list are removed and their text kept; ``script`` and ``style`` lose their
  content too (``Core.HiddenElements``); comments go;
- attributes outside the list go; a boolean one is written ``open="open"``; ``class`` keeps the
  ``language-*`` classes of ``Attr.AllowedClasses``; ``style`` keeps the declarations of ``CSS.AllowedProperties``;
- ``href``/``src`` keep relative addresses and the schemes HTMLPurifier allows by default
  (http, https, mailto, ftp, nntp, news, tel); any other (``javascript:``) is removed;
- a link leaving the site gets ``target="_blank"`` and ``rel="noreferrer noopener"``
  (TargetBlank, then HTMLPurifier's default TargetNoreferrer and TargetNoopener);
- text is written back with ``&``, ``<`` and ``>`` escaped, attributes with ``"`` too; unclosed
  elements are closed at the end, stray end tags dropped;
- more than 4,120,000 bytes is refused: "Content is too big! Cannot save!" (MAX_BODY_SIZE).

6.0.0-alpha4 also allows ``a[target]`` and ``details[class|open]`` (src/Services/Filter.php@6.0.0-alpha4).
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

from .releases import Release
from .wire import ApiError

MAX_BODY_SIZE = 4_120_000
_ALLOWED = ("div[class|style],br,p[class|style],sub,img[src|class|style|width|height],sup,strong,b,em,u,a[href],s,"
            "span[style],ul[style],li[style],ol[style],dl,dt,dd,blockquote,h1[class|style],h2[class|style],"
            "h3[class|style],h4[class|style],h5[class|style],h6[class|style],hr,table[style|data-table-sort|border],"
            "tr[style],td[style|colspan|rowspan],th[style|colspan|rowspan],code,source[src|type],"
            "video[src|controls|style|width|height],audio[src|controls],pre[class],details,summary,caption,figure,"
            "figcaption")
_CLASSES = frozenset(f"language-{name}" for name in (
    "bash", "c", "cpp", "css", "diff", "fortran", "go", "igor", "java", "javascript", "json", "julia", "latex",
    "lua", "makefile", "matlab", "perl", "php", "python", "r", "ruby", "rust", "sql", "tcl", "vhdl", "yaml"))
_CSS = frozenset({"background-color", "border", "border-color", "color", "display", "font-family", "font-size",
                  "font-style", "font-weight", "font-variant", "height", "line-height", "list-style-type",
                  "margin-left", "margin-right", "min-width", "text-align", "text-decoration", "word-spacing",
                  "width", "white-space"})
_SCHEMES = frozenset({"http", "https", "mailto", "ftp", "nntp", "news", "tel"})
_BROWSABLE = frozenset({"http", "https", "ftp", "nntp", "news"})
_VOID = frozenset({"br", "hr", "img", "source"})
_HIDDEN = frozenset({"script", "style"})


def _allowed(release: Release) -> dict[str, frozenset[str]]:
    spec = _ALLOWED
    if release.at_least("6.0.0"):
        spec = spec.replace("a[href]", "a[href|target]").replace(",details,", ",details[class|open],")
    out: dict[str, frozenset[str]] = {}
    for item in spec.split(","):
        name, _, attrs = item.partition("[")
        out[name] = frozenset(a for a in attrs.rstrip("]").split("|") if a)
    return out


def purify_body(release: Release, body: str) -> str:
    """``Filter::body``: the body as the server stores it; 400 when too big."""
    if len(body.encode("utf-8")) > MAX_BODY_SIZE:
        raise ApiError(400, "Content is too big! Cannot save!")
    parser = _Purifier(_allowed(release))
    parser.feed(body)
    parser.close()
    return parser.result()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _uri(value: str) -> tuple[str | None, str | None]:
    """The address kept (None when refused) and its scheme (None when relative)."""
    value = value.strip()
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", value)
    if match is None:
        return value, None
    scheme = match.group(1).lower()
    return (value, scheme) if scheme in _SCHEMES else (None, scheme)


class _Purifier(HTMLParser):
    def __init__(self, allowed: dict[str, frozenset[str]]):
        super().__init__(convert_charrefs=True)
        self.allowed = allowed
        self.out: list[str] = []
        self.open: list[str] = []
        self.hidden = 0

    def result(self) -> str:
        return "".join(self.out) + "".join(f"</{tag}>" for tag in reversed(self.open))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
            return
        if self.hidden or tag not in self.allowed:
            return
        kept = self._attributes(tag, attrs)
        text = "".join(f' {name}="{_escape(value).replace(chr(34), "&quot;")}"' for name, value in kept)
        if tag in _VOID:
            self.out.append(f"<{tag}{text} />")
        else:
            self.out.append(f"<{tag}{text}>")
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.open and self.open[-1] == tag:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
            return
        if self.hidden or tag not in self.open:
            return
        while self.open:
            current = self.open.pop()
            self.out.append(f"</{current}>")
            if current == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.out.append(_escape(data))

    def handle_comment(self, data: str) -> None:
        return

    def _attributes(self, tag: str, attrs: list[tuple[str, str | None]]) -> list[tuple[str, str]]:
        kept: list[tuple[str, str]] = []
        scheme: str | None = None
        for name, raw in attrs:
            value = raw or ""
            if name not in self.allowed[tag] or name == "target":
                continue
            if name in ("href", "src"):
                address, scheme = _uri(value)
                if address is None:
                    continue
                value = address
            elif name in ("open", "controls"):
                value = name  # HTMLPurifier_AttrDef_HTML_Bool writes a boolean attribute as its own name
            elif name == "class":
                value = " ".join(c for c in value.split() if c in _CLASSES)
            elif name == "style":
                value = "".join(f"{prop.strip().lower()}:{val.strip()};" for prop, _, val in
                                (d.partition(":") for d in value.split(";") if ":" in d)
                                if prop.strip().lower() in _CSS)
            if value or name in ("href", "src"):
                kept.append((name, value))
        if tag == "a" and any(n == "href" for n, _ in kept) and scheme in _BROWSABLE:
            kept += [("target", "_blank"), ("rel", "noreferrer noopener")]
        return kept
