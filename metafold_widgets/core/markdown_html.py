"""Markdown to HTML that elabFTW keeps as sent.

elabFTW runs every experiment body through HTMLPurifier (``Filter::body``,
src/Services/Filter.php@5.6.12, the same list from 5.2.8 to 6.0.0-alpha4): only the tags and
attributes of its ``HTML.Allowed`` list survive, comments are dropped, and ``HTML.TargetBlank``
plus HTMLPurifier's default ``TargetNoreferrer``/``TargetNoopener`` give every outbound link
``target="_blank" rel="noreferrer noopener"``. This renderer emits only what that purifier
leaves unchanged, so a body read back equals the body sent:

- raw HTML in the Markdown is never passed on: it is shown as text (markdown-it, ``html`` off);
- links only for ``http``, ``https`` and ``mailto`` (anything else, ``javascript:`` included,
  stays plain text); images become links to the image;
- text is escaped as HTMLPurifier's generator does (``&``, ``<``, ``>``; ``"`` in attributes);
- no void elements (``<br>``, ``<hr>``, ``<img>``): how they are written back depends on the
  purifier's doctype, so a hard line break becomes a plain newline and a rule is left out;
- checklist lines ``- [ ] item`` / ``- [x] item`` show as ``☐ item`` / ``☑ item``.
"""
from __future__ import annotations

import re
from typing import Any, Sequence

from markdown_it import MarkdownIt

from ..errors import InputFileError

MAX_MARKDOWN_CHARS = 1_000_000  # an entry is a page of notes; elabFTW's body limit is ~4 MB
ALLOWED_SCHEMES = ("http", "https", "mailto")
# Attr.AllowedClasses of Filter::body (src/Services/Filter.php@5.6.12): the code languages
CODE_LANGUAGES = frozenset({
    "bash", "c", "cpp", "css", "diff", "fortran", "go", "igor", "java", "javascript", "json", "julia", "latex",
    "lua", "makefile", "matlab", "perl", "php", "python", "r", "ruby", "rust", "sql", "tcl", "vhdl", "yaml"})
# characters HTMLPurifier removes as non-SGML (HTMLPurifier_Encoder::cleanUTF8)
_NON_SGML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SIMPLE_TAGS = {
    "paragraph": "p", "blockquote": "blockquote", "bullet_list": "ul", "ordered_list": "ol", "list_item": "li",
    "table": "table", "tr": "tr", "th": "th", "td": "td", "strong": "strong", "em": "em", "s": "s",
}
_CHECKBOX = re.compile(r"^\[([ xX])\]\s+")


def escape_text(text: str) -> str:
    """Text as HTMLPurifier writes it (``htmlspecialchars`` with ``ENT_NOQUOTES``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attribute(text: str) -> str:
    """An attribute value as HTMLPurifier writes it (``ENT_COMPAT``: double quotes too)."""
    return escape_text(text).replace('"', "&quot;")


def safe_href(url: str) -> str | None:
    """``url`` when its scheme is ``http``, ``https`` or ``mailto``; None otherwise (relative
    links, ``javascript:``, ``data:``... are refused)."""
    url = url.strip()
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", url)
    if match is None or match.group(1).lower() not in ALLOWED_SCHEMES:
        return None
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    return url


def link_open(url: str) -> str:
    """The opening ``<a>`` tag of a safe link, with the attributes the purifier adds to outbound ones."""
    href = escape_attribute(url)
    if url.lower().startswith("mailto:"):
        return f'<a href="{href}">'  # mailto is not "browsable": TargetBlank leaves it alone
    return f'<a href="{href}" target="_blank" rel="noreferrer noopener">'


def markdown_to_html(markdown: str) -> str:
    """Safe HTML for elabFTW from Markdown text; InputFileError when the text is too long."""
    if len(markdown) > MAX_MARKDOWN_CHARS:
        raise InputFileError(f"Markdown text of {len(markdown):,} characters is too long for an experiment "
                             f"section (at most {MAX_MARKDOWN_CHARS:,})")
    text = _NON_SGML.sub("", markdown.replace("\r\n", "\n").replace("\r", "\n"))
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.enable(["table", "strikethrough"])
    tokens = parser.parse(text)
    return _Renderer().blocks(tokens).strip("\n")


class _Renderer:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.item_start = False  # the next inline is the first of a list item

    def blocks(self, tokens: Sequence[Any]) -> str:
        for token in tokens:
            kind = token.type
            if kind == "inline":
                self.out.append(self.inline(token.children or []))
                self.item_start = False
            elif kind in ("fence", "code_block"):
                language = (token.info or "").strip().split(" ")[0].lower()
                opening = f'<pre class="language-{language}">' if language in CODE_LANGUAGES else "<pre>"
                self.out.append(f"{opening}<code>{escape_text(token.content)}</code></pre>\n")
            elif kind.endswith("_open") or kind.endswith("_close"):
                self.block_tag(token)
        return "".join(self.out)

    def block_tag(self, token: Any) -> None:
        kind, closing = token.type.rsplit("_", 1)
        if kind == "heading":
            tag = token.tag if token.tag in ("h1", "h2", "h3", "h4", "h5", "h6") else "h6"
        else:
            tag = _SIMPLE_TAGS.get(kind, "")
        if not tag or (kind == "paragraph" and token.hidden):
            return  # thead/tbody are not in the purifier's list; tight list paragraphs are hidden
        if closing == "open":
            self.out.append(f"<{tag}>")
            self.item_start = kind == "list_item"
        else:
            self.out.append(f"</{tag}>\n")

    def inline(self, children: Sequence[Any]) -> str:
        parts: list[str] = []
        link_depth: list[str | None] = []  # per open link: None when emitted, else its refused address
        for index, token in enumerate(children):
            kind = token.type
            if kind == "text":
                content = token.content
                if index == 0 and self.item_start:
                    content = _CHECKBOX.sub(lambda m: "☐ " if m.group(1) == " " else "☑ ", content)
                parts.append(escape_text(content))
            elif kind in ("softbreak", "hardbreak"):
                parts.append("\n")
            elif kind == "code_inline":
                parts.append(f"<code>{escape_text(token.content)}</code>")
            elif kind == "link_open":
                raw = str(token.attrGet("href") or "")
                href = safe_href(raw)
                emitted = href is not None and not link_depth
                link_depth.append(None if emitted else raw)
                if emitted:
                    parts.append(link_open(raw.strip()))
            elif kind == "link_close":
                refused = link_depth.pop() if link_depth else ""
                # a refused address is shown as text, so nothing the author wrote is lost
                parts.append("</a>" if refused is None else (f" ({escape_text(refused)})" if refused else ""))
            elif kind == "image":
                alt = escape_text(token.content or "image")
                href = safe_href(str(token.attrGet("src") or ""))
                parts.append(f"{link_open(href)}{alt}</a>" if href and not link_depth else alt)
            elif kind.endswith("_open") or kind.endswith("_close"):
                name, closing = kind.rsplit("_", 1)
                tag = _SIMPLE_TAGS.get(name)
                if tag:
                    parts.append(f"<{tag}>" if closing == "open" else f"</{tag}>")
            elif token.content:
                parts.append(escape_text(token.content))
        return "".join(parts)
