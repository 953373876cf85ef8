"""``GET /api/v2/{experiments,items}?q=...`` searched the way each elabFTW release searches.

Read from the ``elabftw/elabftw`` source (``git show TAG:path``; ``src/models``, ``src/services`` up to
5.2, ``src/Models``, ``src/Services`` from 5.3) and, for the FULLTEXT path, from MySQL/InnoDB
(``storage/innobase/fts/fts0blex.l``, ``fts0pars.y``, ``fts0ast.cc``, ``fts0que.cc``). SQL semantics are
kept: ``LIKE`` is case-insensitive with ``%``/``_`` wildcards and ``\\`` escapes, and NULL is
three-valued (a row is listed only when the WHERE clause is TRUE). Not emulated: accent-insensitive
collations, compounds (an entity here has none) and the fields in ``_UNSUPPORTED``.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

__all__ = ["CompiledQuery", "SearchRow", "SearchSyntaxError", "UnsupportedSearch", "compile_query"]

Tri = bool | None  # an SQL truth value: None is NULL
Node = tuple[Any, ...]
T = TypeVar("T")

# INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD (MySQL 8): never indexed, hence never found.
INNODB_DEFAULT_STOPWORDS = frozenset({
    "a", "about", "an", "are", "as", "at", "be", "by", "com", "de", "en", "for", "from", "how", "i", "in", "is", "it",
    "la", "of", "on", "or", "that", "the", "this", "to", "was", "what", "when", "where", "who", "will", "with", "und",
    "www"})
_FT_MAX_TOKEN = 84  # innodb_ft_max_token_size default
_PHP_TRIM = " \t\n\r\0\x0b"
_ERROR_PREFIX = "Error with extended search: "  # src/Models/AbstractEntity.php@5.2.8..6.0.0-alpha4 processExtendedQuery
# src/Models/AbstractEntity.php@5.6.7 isAdvancedSearchQuery (same in 5.6.12, 6.0.0-alpha4); PCRE without /u.
_ADVANCED_FIELD = re.compile(
    r"(?:^|\s)(?:author|body|category|custom_id|date|elabid|extrafield|group|id|locked|owner|rating|state|status"
    r"|timestamped|timestamped_at|created_at|locked_at|title|visibility):", re.IGNORECASE | re.ASCII)
_ADVANCED_OPERATOR = re.compile(r"\b(?:AND|OR|NOT)\b|[()!&|\"']", re.ASCII)
# src/node/grammar/queryGrammar.pegjs (same rules 5.1.15..6.0.0-alpha4): the named operator rules (failures
# inside a named rule are silent, so a regular expression is enough), List1/List2 and String with their
# Escape alternatives. A PEG repetition never gives characters back: "(?=(X+))\1" is the possessive
# X++ written for Python 3.10, whose re module has no possessive quantifiers.
_WS = re.compile(r"[\t\n\r ]")
_OR_OP = re.compile(r"[\t\n\r ]+[oO][rR][\t\n\r ]+|[\t\n\r ]*\|[\t\n\r ]*")
_AND_OP = re.compile(r"[\t\n\r ]+[aA][nN][dD][\t\n\r ]+|[\t\n\r ]*&[\t\n\r ]*|[\t\n\r ]+")
_NOT_OP = re.compile(r"[nN][oO][tT][\t\n\r ]+|![\t\n\r ]*")
_LIST = {q: re.compile(rf"{q}(?=((?:[^\n\r\f\\{q}]|\\{q}|\\[%_]|\\)+))\1{q}") for q in "'\""}
_STRING = re.compile(r"""(?=((?:[^\n\r\f\\"'|&!(): ]|\\[%_]|\\)+))\1""")
_WORD = re.compile(r"(?:(?![\U00010000-\U0010ffff])\w)+")  # InnoDB true_word_char: BMP letter/digit or '_'
_PHP_NUMBER = re.compile(r"[ \t\n\r\v\f]*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DIGITS, _DIGITS19 = "0123456789", "123456789"
# Valid fields this fake does not answer for: their columns are not in SearchRow.
_UNSUPPORTED = frozenset({"group", "visibility", "timestamped", "attachment", "created_at", "locked_at",
                          "timestamped_at"})


class SearchSyntaxError(Exception):
    """The server answers HTTP 400; ``message`` is the text the release sends."""

    def __init__(self, message: str, version_int: int = 60000) -> None:
        super().__init__(message)
        self.message = message
        self.version_int = version_int

    @property
    def response_body(self) -> dict[str, Any]:
        """The JSON error: "Bad Request" + description up to 5.3 (src/controllers/Apiv2Controller.php@5.2.8,
        ImproperActionException), the AppException fields from 5.4.0 (src/Controllers/Apiv2Controller.php@5.4.6)."""
        if self.version_int < 50400:
            return {"code": 400, "message": "Bad Request", "description": self.message}
        return {"code": 400, "message": self.message, "description": ""}


class UnsupportedSearch(Exception):
    """A valid query using a feature this fake does not emulate (answer 501)."""


@dataclass(frozen=True)
class SearchRow:
    """What a query can see of one entity (``date`` is 'YYYY-MM-DD', ``body`` the stored HTML)."""

    id: int
    title: str
    body: str
    elabid: str
    custom_id: int | None
    date: str
    category_title: str | None
    status_title: str | None
    fullname: str
    rating: int
    locked: bool
    state: int
    tags: tuple[str, ...]
    metadata: Mapping[str, Any] | None


@dataclass(frozen=True)
class CompiledQuery:
    """A compiled ``q``. ``advanced``: the advanced grammar was used (a list read then returns every column).
    ``overrides_state_filter``: a ``state:`` term drops the default state filter
    (src/Models/AbstractEntity.php@5.3.0..6.0.0-alpha4 readShow, "dirty hack")."""

    advanced: bool
    predicate: Callable[[SearchRow], Tri] = field(default=lambda _row: True, repr=False, compare=False)
    overrides_state_filter: bool = False

    def matches(self, row: SearchRow) -> bool:
        """True when the release lists ``row`` for this query."""
        return self.predicate(row) is True


def compile_query(q: str, *, version_int: int, min_token_size: int = 3) -> CompiledQuery:
    """version_int is elabFTW's M*10000+m*100+p (5.6.12 -> 50612; 6.0.0-alpha4 -> 60000).
    Raises SearchSyntaxError / UnsupportedSearch."""
    query = q.strip(_PHP_TRIM)
    if version_int >= 50607:
        # src/Models/AbstractEntity.php@5.6.7 readShow: trim(q) !== '' and not advanced -> FULLTEXT join.
        if not query:
            return CompiledQuery(advanced=False)
        if not (_ADVANCED_FIELD.search(query) or _ADVANCED_OPERATOR.search(query)):
            return _simple_query(query, min_token_size)
    elif query in ("", "0"):
        # src/Params/DisplayParams.php@5.2.8 adjust, readShow: PHP's empty() is true for "" and "0": no search.
        return CompiledQuery(advanced=False)
    return _advanced_query(query, version_int)


# --- the advanced grammar (src/services/AdvancedSearchQuery.php@5.1.15..5.2.8, src/Services/...@5.3+) ---------


def _advanced_query(query: str, version: int) -> CompiledQuery:
    tree = _Peg(query, version).parse()
    fields = [n for n in _walk(tree) if n[0] == "field"]
    unsupported = sorted({n[1] for n in fields if n[1] in _UNSUPPORTED})
    if unsupported:
        raise UnsupportedSearch(f"search field(s) {', '.join(unsupported)} not emulated")
    # Services/AdvancedSearchQuery/Visitors/FieldValidatorVisitor.php@5.2.8..6.0.0-alpha4 visitDateField
    dates = [n[2] for n in fields if n[1] == "date"]
    errors = [f"date:{low}..{high}. Second date needs to be equal or greater than first date."
              for op, low, high in dates if op == ".." and low > high]
    if errors:
        raise SearchSyntaxError(_ERROR_PREFIX + "<br>".join(errors), version)
    return CompiledQuery(advanced=True, predicate=lambda row: _evaluate(tree, row, version),
                         overrides_state_filter=any(n[1] == "state" for n in fields))


class _Peg:
    """queryGrammar.pegjs as peggy+phpeggy compile it, failures recorded the same way (furthest position only,
    silent inside named rules) so that a syntax error reads as the server's."""

    def __init__(self, text: str, version: int) -> None:
        self.s, self.v, self.pos, self.silent, self.fail_pos = text, version, 0, 0, 0
        self.expected: set[str] = set()
        # Field: 'owner' from 5.2.0, 'state' from 5.3.0 (queryGrammar.pegjs@5.2.0, @5.3.0).
        self.names = ("author", "body", "category", "elabid", "group", *(("owner",) if version >= 50200 else ()),
                      *(("state",) if version >= 50300 else ()), "status", "title", "visibility")

    def parse(self) -> Node:
        node = self.or_expression()
        if node is not None and self.pos == len(self.s):
            return node
        if node is not None:
            self.fail("end of input")
        raise SearchSyntaxError(_ERROR_PREFIX + self.error_html(), self.v)

    def error_html(self) -> str:
        """phpeggy's SyntaxError message and format(), split by AdvancedSearchQuery::parse into the first line
        and an escaped ``<pre>`` (src/Services/AdvancedSearchQuery.php@5.6.12; phpeggy 3 peg_buildException)."""
        found = self.s[self.fail_pos] if self.fail_pos < len(self.s) else None
        descs = sorted(self.expected, key=lambda d: d.encode())
        wanted = ", ".join(descs[:-1]) + " or " + descs[-1] if len(descs) > 1 else descs[0]
        found_desc = json.dumps(found).replace("/", "\\/") if found and found != "0" else "end of input"  # PHP
        line, col = _line_col(self.s, self.fail_pos)
        end_line, end_col = _line_col(self.s, self.fail_pos + (found is not None))
        text = re.split(r"\r\n|\n|\r", self.s)[line - 1]
        hats = (end_col if end_line == line else len(text.encode()) + 1) - col or 1
        pad = " " * len(str(line))
        pre = f" --> Search query:{line}:{col}\n{pad} |\n{line} | {text}\n{pad} | {' ' * (col - 1)}{'^' * hats}"
        first = f"SyntaxError: Expected {wanted} but {found_desc} found."
        return f"{first}<pre class='alert-danger pb-3'>{_html5(pre)}</pre>"

    def fail(self, desc: str) -> None:
        if self.silent or self.pos < self.fail_pos:
            return
        if self.pos > self.fail_pos:
            self.fail_pos, self.expected = self.pos, set()
        self.expected.add(desc)

    def lit(self, *texts: str, ci: bool = False) -> str | None:  # 'text' / 'text'i, in order
        for text in texts:
            seg = self.s[self.pos:self.pos + len(text)]
            if (seg.lower() if ci else seg) == text:
                self.pos += len(text)
                return text
            self.fail(json.dumps(text))
        return None

    def cls(self, chars: str, desc: str) -> str | None:  # a character class
        if self.pos < len(self.s) and self.s[self.pos] in chars:
            self.pos += 1
            return self.s[self.pos - 1]
        self.fail(desc)
        return None

    def named(self, desc: str, rule: Callable[[], T | None]) -> T | None:
        start = self.pos
        self.silent += 1
        try:
            result = rule()
        finally:
            self.silent -= 1
        if result is None:
            self.pos = start
            self.fail(desc)
        return result

    def rx(self, desc: str, pattern: re.Pattern[str]) -> str | None:  # a named rule with silent internals
        if match := pattern.match(self.s, self.pos):
            return self._take(match.end(), match.group())
        self.fail(desc)
        return None

    def _take(self, end: int, value: T) -> T:
        self.pos = end
        return value

    def or_expression(self) -> Node | None:  # _* AndExpression OrOperand?
        return self._chain("or", '" OR ", "|"', _OR_OP, self.and_expression, leading_ws=True)

    def and_expression(self) -> Node | None:  # (NotExpression / Wrapper) AndOperand?
        return self._chain("and", 'space, " AND ", "&"', _AND_OP, self.operand, leading_ws=False)

    def _chain(self, kind: str, desc: str, op: re.Pattern[str], item: Callable[[], Node | None],
               leading_ws: bool) -> Node | None:
        start = self.pos
        while leading_ws and self.rx("whitespace", _WS) is not None:
            pass
        if (first := item()) is None:
            self.pos = start
            return None
        items = [first]
        while True:
            save = self.pos
            if self.rx(desc, op) is None or (nxt := item()) is None:
                self.pos = save
                return (kind, items)
            items.append(nxt)

    def operand(self) -> Node | None:  # NotExpression / Wrapper
        start = self.pos
        if self.rx('"NOT ", "!"', _NOT_OP) is not None:
            if (inner := self.wrapper()) is not None:
                return ("not", inner)
            self.pos = start
        return self.wrapper()

    def wrapper(self) -> Node | None:  # Parenthesis / Fields / List / Literal
        node = self.named("expression in parenthesis", self.parenthesis) or self.fields()
        if node is None and (value := self.quoted()) is not None:
            node = ("term", value)
        if node is None and (value := self.named("term", self.literal)) is not None:
            node = ("term", value)
        return node

    def parenthesis(self) -> Node | None:  # '(' @OrExpression _* ')'
        if self.lit("(") is None or (node := self.or_expression()) is None:
            return None
        while self.rx("whitespace", _WS) is not None:
            pass
        return node if self.lit(")") is not None else None

    def fields(self) -> Node | None:
        """Field / FieldDate / FieldTimestamp / FieldBoolean / FieldRating / FieldAttachment (until 5.3.8,
        queryGrammar.pegjs@5.3.9 drops it) / FieldId / FieldMetadata: ``name ':' value``."""
        rules: list[tuple[tuple[str, ...], Callable[[], Any]]] = [
            (self.names, self.text), (("date",), self.date_spec),
            (("created_at", "locked_at", "timestamped_at"), self.date_spec), (("locked", "timestamped"), self.boolean),
            (("rating",), lambda: self.cls("012345", "[0-5]") or ("0" if self.lit("unrated", ci=True) else None)),
            (("attachment",), lambda: (self.lit("s:"), self.boolean() or self.value())[1]),
            (("custom_id", "id"), self.number), (("extrafield",), self.extrafield)]
        for names, rule in rules if self.v < 50309 else rules[:5] + rules[6:]:
            start = self.pos
            name = self.lit(*names, ci=True)
            if name is not None and self.lit(":") is not None and (value := rule()) is not None:
                return ("field", name, value)
            self.pos = start
        return None

    def text(self) -> tuple[str, bool] | None:  # StrictOperator (List / LiteralInField)
        strict = self.lit("s:") is not None
        value = self.value()
        return None if value is None else (value, strict)

    def extrafield(self) -> tuple[str, str, bool] | None:  # StrictOperator key ':' value
        strict = self.lit("s:") is not None
        if (key := self.value()) is None or self.lit(":") is None or (value := self.value()) is None:
            return None
        return key, value, strict

    def number(self) -> str | None:  # $(Digit19 Digit*)
        start = self.pos
        if self.cls(_DIGITS19, "[1-9]") is None:
            return None
        while self.cls(_DIGITS, "[0-9]") is not None:
            pass
        return self.s[start:self.pos]

    def date_spec(self) -> tuple[str, str, str] | None:  # DateBetween / DateSimple -> (operator, from, to)
        start = self.pos
        if (low := self.date()) is not None and self.lit("..") is not None and (high := self.date()) is not None:
            return ("..", low, high)
        self.pos = start
        operator = ""  # ComparisonOperators = $([<>] '='? / '!'? '=')?
        if self.cls("<>", "[<>]") is not None:
            operator = self.s[start] + (self.lit("=") or "")
        elif (bang := self.lit("!") or "") + (self.lit("=") or "") in ("=", "!="):
            operator = bang + "="
        else:
            self.pos = start
        day = self.date()
        return None if day is None else (operator or "=", day, day)

    def date(self) -> str | None:  # $(Digit|4|) DateSeparator? MM DateSeparator? DD
        start, year, month, day = self.pos, "", None, None
        while len(year) < 4 and (digit := self.cls(_DIGITS, "[0-9]")) is not None:
            year += digit
        if len(year) == 4:
            self.cls(".,/-", "[.,/-]")
            month = self.pair(("0", '"0"', _DIGITS19, "[1-9]"), ("1", '"1"', "012", "[0-2]"))
        if month is not None:
            self.cls(".,/-", "[.,/-]")
            day = self.pair(("0", '"0"', _DIGITS19, "[1-9]"), ("12", "[1-2]", _DIGITS, "[0-9]"),
                            ("3", '"3"', "01", "[01]"))
        if day is None:
            self.pos = start
            return None
        return f"{year}{month}{day}"

    def pair(self, *alternatives: tuple[str, str, str, str]) -> str | None:
        for first, first_desc, second, second_desc in alternatives:
            start = self.pos
            if self.cls(first, first_desc) is not None and self.cls(second, second_desc) is not None:
                return self.s[start:self.pos]
            self.pos = start
        return None

    def boolean(self) -> str | None:
        if self.lit("0") or self.lit("false", "no", "off", ci=True):
            return "0"
        if self.lit("1") or self.lit("true", "yes", "on", ci=True):
            return "1"
        return None

    def value(self) -> str | None:  # List / LiteralInField
        value = self.quoted()
        return value if value is not None else self.named("term", self.string)

    def quoted(self) -> str | None:  # List 'quoted term' = List1 / List2
        def body() -> str | None:
            for quote, pattern in _LIST.items():
                if match := pattern.match(self.s, self.pos):
                    return self._take(match.end(), _unescape(match.group(1), quote))
            return None
        return self.named("quoted term", body)

    def string(self) -> str | None:
        match = _STRING.match(self.s, self.pos)
        return self._take(match.end(), _unescape(match.group(), "")) if match else None

    def literal(self) -> str | None:  # a String that is not an operator word
        value = self.string()
        return None if value is None or value.lower() in ("not", "and", "or") else value


def _unescape(raw: str, quote: str) -> str:
    """``\\<quote>`` is the quote, ``\\%``/``\\_`` stay (escaped LIKE wildcards), a lone ``\\`` is doubled."""
    def one(match: re.Match[str]) -> str:
        char = match.group(1)
        if char and char == quote:
            return quote
        return match.group() if char in ("%", "_") and char else "\\\\" + char
    return re.sub(r"\\(['\"%_]?)", one, raw)


def _walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node[1] if node[0] in ("or", "and") else [node[1]] if node[0] == "not" else []:
        yield from _walk(child)


def _evaluate(node: Node, row: SearchRow, version: int) -> Tri:
    """The WHERE clause of Services/AdvancedSearchQuery/Visitors/QueryBuilderVisitor.php."""
    kind = node[0]
    if kind in ("or", "and"):
        return (_any if kind == "or" else _all)(_evaluate(n, row, version) for n in node[1])
    if kind == "not":
        inner = _evaluate(node[1], row, version)
        return None if inner is None else not inner
    if kind == "term":
        # visitSimpleValueWrapper: title/date/elabid LIKE, custom_id = (PDO::PARAM_INT), compounds LIKE (LEFT
        # JOIN, so NULL here; @5.2.0+, absent @5.1.15) and body LIKE the HTML-escaped term (@5.1.15..6.0.0-alpha4).
        value, pattern = node[1], f"%{node[1]}%"
        compounds = [None] if version >= 50200 else []
        return _any([_like(row.title, pattern), _like(row.date, pattern), _like(row.elabid, pattern),
                     _equals(row.custom_id, _php_int(value)), *compounds, _like(row.body, f"%{_html401(value)}%")])
    name, value = node[1], node[2]
    if name == "date":  # visitDateField: entity.date <op> YYYYMMDD, or BETWEEN
        day, (op, low, high) = int(row.date.replace("-", "")), (value[0], int(value[1]), int(value[2]))
        return {"..": low <= day <= high, "=": day == low, "!=": day != low, "<": day < low, "<=": day <= low,
                ">": day > low, ">=": day >= low}[op]
    if name == "extrafield":
        return _extrafield(row.metadata, *value)
    if name in ("id", "custom_id", "rating", "locked"):  # visitFieldId/Rating/Locked: = (PDO::PARAM_INT)
        return _equals({"id": row.id, "custom_id": row.custom_id, "rating": row.rating,
                        "locked": int(row.locked)}[name], int(value))
    text, affix = value[0], "" if value[1] else "%"  # 's:' is strict: no '%' around the term
    if name == "state":
        return _equals(row.state, _php_int(text))
    column = {"author": row.fullname, "owner": row.fullname, "title": row.title, "elabid": row.elabid,
              "category": row.category_title, "status": row.status_title, "body": row.body}[name]
    # Grammar/Field.php getValue: a body: value is HTML-escaped as well
    return _like(column, affix + (_html401(text) if name == "body" else text) + affix)


def _extrafield(metadata: Mapping[str, Any] | None, key: str, value: str, strict: bool) -> Tri:
    """``JSON_UNQUOTE(JSON_EXTRACT(LOWER(metadata), LOWER('$.extra_fields."key".value'))) LIKE LOWER(v)``
    (visitMetadataField @5.2.8..6.0.0-alpha4); key ``**`` is the path ``$.extra_fields**.value``."""
    fields = _lowered(metadata).get("extra_fields") if metadata is not None else None
    if key == "**":
        found: Any = [n["value"] for n in _descendants(fields) if isinstance(n, dict) and "value" in n]
        if not found:
            return None  # no such path: NULL
    else:
        entry = fields.get(key.lower()) if isinstance(fields, dict) else None
        if not (isinstance(entry, dict) and "value" in entry):
            return None
        found = entry["value"]
    text = found if isinstance(found, str) else json.dumps(found, ensure_ascii=False)
    affix = "" if strict else "%"
    return _like(text, (affix + value + affix).lower())


def _lowered(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k).lower(): _lowered(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lowered(v) for v in value]
    return value.lower() if isinstance(value, str) else value


def _descendants(value: Any) -> Iterator[Any]:
    yield value
    for child in value.values() if isinstance(value, dict) else value if isinstance(value, list) else ():
        yield from _descendants(child)


# --- the simple FULLTEXT query (src/Models/AbstractEntity.php@5.6.7, unchanged to 6.0.0-alpha4) ------------


def _simple_query(query: str, min_token_size: int) -> CompiledQuery:
    """getEntitySimpleQuerySql: MATCH(title, body, elabid) AGAINST(toBooleanFulltextQuery IN BOOLEAN MODE)
    UNION custom_id = (PDO::PARAM_INT) q UNION, if hasShortFulltextToken, title/date/elabid LIKE %q%."""
    # toBooleanFulltextQuery / hasShortFulltextToken: [+\-><()~*"@]+ become ' ', explode(' '), array_filter
    # drops "" and "0", each token becomes '+token*'; strlen counts bytes.
    tokens = [t for t in re.sub(r'[+\-><()~*"@]+', " ", query).strip(_PHP_TRIM).split(" ") if t not in ("", "0")]
    required, optional = _innodb_plan(tokens, min_token_size)
    short, pattern, custom_id = any(len(t.encode()) < 3 for t in tokens), f"%{query}%", _php_int(query)

    def predicate(row: SearchRow) -> bool:
        if row.custom_id is not None and row.custom_id == custom_id:
            return True
        if short and _any(_like(c, pattern) for c in (row.title, row.date, row.elabid)):
            return True
        words = _indexed_words(row, min_token_size)
        if required:
            return all(_ft_hit(words, word, prefix) for word, prefix in required)
        return any(_ft_hit(words, word, prefix) for word, prefix in optional)

    return CompiledQuery(advanced=False, predicate=predicate)


def _innodb_plan(tokens: list[str], min_size: int) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """How InnoDB reads ``+tok1* +tok2* ...``: (required, optional) lists of (word, is_prefix).

    fts0blex.l: '\\n' and '%' are no term characters (skipped), a run of tabs alone is whitespace; fts0pars.y:
    '+' applies to the first term only, '*' to the last; fts0ast.cc fts_ast_create_node_term splits a term
    into words at non-word characters (``+project:abc*`` is ``+project +abc*``), keeps the first word whatever
    its length, drops later words shorter than innodb_ft_min_token_size and any longer than 84, and every
    word of a '+' term is required (fts_ast_visit). A '*' word is a prefix matched against the indexed words,
    even when it is a stopword or shorter than the minimum (MySQL manual, Boolean Full-Text Searches, the '*'
    operator); a plain word that is not indexed (short, stopword) finds nothing (fts0que.cc, intersection)."""
    required: list[tuple[str, bool]] = []
    optional: list[tuple[str, bool]] = []
    for token in tokens:
        terms = [p for p in re.split(r"[\n%]", token.lower()) if p.strip("\t")]
        if not terms:  # '+' right before '*': MySQL 8 raises ER_PARSE_ERROR and elabFTW answers 500
            raise UnsupportedSearch(f"MySQL rejects the FULLTEXT query for {token!r} (the server answers 500)")
        lists: list[list[str]] = []
        for term in terms:
            words: list[str] = []
            for word in (m.group() for m in _WORD.finditer(term)):
                if not ((words and len(word) < min_size) or len(word) > _FT_MAX_TOKEN):
                    words.append(word)
            lists.append(words)
        last = len(lists) - 1
        marked = [[(w, i == last and j == len(ws) - 1) for j, w in enumerate(ws)] for i, ws in enumerate(lists)]
        required += marked[0]
        optional += [w for ws in marked[1:] for w in ws]
    return required, optional


def _indexed_words(row: SearchRow, min_size: int) -> frozenset[str]:
    """The words InnoDB indexes for the row: lower-cased, min_size..84 characters, no stopwords."""
    words = (m.group() for text in (row.title, row.body, row.elabid) if text for m in _WORD.finditer(text))
    return frozenset(w.lower() for w in words
                     if min_size <= len(w) <= _FT_MAX_TOKEN and w.lower() not in INNODB_DEFAULT_STOPWORDS)


def _ft_hit(words: frozenset[str], word: str, prefix: bool) -> bool:
    return any(w.startswith(word) for w in words) if prefix else word in words


# --- SQL and PHP helpers -------------------------------------------------------------------------------------


def _any(values: Iterable[Tri]) -> Tri:  # SQL OR
    seen = list(values)
    return True if True in seen else None if None in seen else False


def _all(values: Iterable[Tri]) -> Tri:  # SQL AND
    seen = list(values)
    return False if False in seen else None if None in seen else True


def _like(value: str | None, pattern: str) -> Tri:
    return None if value is None else _like_regex(pattern).fullmatch(value) is not None


@lru_cache(maxsize=1024)
def _like_regex(pattern: str) -> re.Pattern[str]:
    parts = [re.escape(m[1:]) if m[0] == "\\" and len(m) == 2 else ".*" if m == "%" else "." if m == "_"
             else re.escape(m) for m in re.findall(r"\\.|.", pattern, re.DOTALL)]
    return re.compile("".join(parts), re.DOTALL | re.IGNORECASE)


def _equals(column: int | None, value: int) -> Tri:
    return None if column is None else column == value


def _php_int(text: str) -> int:
    """PHP's (int) of a string, as PDO::PARAM_INT binds it: its leading number, else 0."""
    if not (match := _PHP_NUMBER.match(text)):
        return 0
    try:
        return int(float(match.group())) if any(c in match.group() for c in ".eE") else int(match.group())
    except (OverflowError, ValueError):
        return 0


def _html401(text: str) -> str:
    """htmlspecialchars(ENT_NOQUOTES | ENT_SUBSTITUTE | ENT_HTML401): the body is stored as HTML."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _html5(text: str) -> str:
    """Tools::eLabHtmlspecialchars: ENT_QUOTES | ENT_HTML5, no double encoding."""
    text = re.sub(r"&(?!(?:[A-Za-z][A-Za-z0-9]*|#\d+|#[xX][0-9a-fA-F]+);)", "&amp;", text)
    return text.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("'", "&apos;")


def _line_col(text: str, pos: int) -> tuple[int, int]:
    """phpeggy peg_advancePos: "\\r" and a "\\n" not after "\\r" start a line."""
    line, col, seen_cr = 1, 1, False
    for char in text[:pos]:
        if char in "\r\n":
            line, col, seen_cr = line + (char == "\r" or not seen_cr), 1, char == "\r"
        else:
            col, seen_cr = col + 1, False
    return line, col
