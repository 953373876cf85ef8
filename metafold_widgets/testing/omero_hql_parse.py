"""Parse the HQL subset OMERO clients send into a small syntax tree (no model knowledge here).

``select [distinct] items from Entity [as] alias [, Entity alias] [[left [outer] | inner] join
[fetch] path [as] alias]* [where cond] [group by exprs] [order by expr [asc|desc], ...]``;
expressions are paths, ``:named`` parameters, literals, ``lower``/``upper``/``index``/``count``/
``min``/``max``/``sum``/``avg`` calls, arithmetic and parentheses; conditions are comparisons,
``[not] in (values | subquery)``, ``is [not] null``, ``[not] like``, ``[not] exists (subquery)``,
``and``, ``or``, ``not``. Keywords are case-insensitive, as in Hibernate. A syntax error raises
:class:`HqlSyntaxError` with Hibernate's wording ("unexpected token: ... near line 1, column N").
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Union

__all__ = ["HqlSyntaxError", "Path", "Param", "Literal", "Func", "Binary", "Not", "IsNull", "In", "Like",
           "Exists", "SelectItem", "FromElement", "OrderItem", "Query", "parse"]

KEYWORDS = {"select", "distinct", "from", "as", "join", "left", "right", "outer", "inner", "fetch", "where", "and",
            "or", "not", "in", "is", "null", "like", "escape", "order", "by", "asc", "desc", "group", "having",
            "exists", "true", "false", "with", "all"}
FUNCTIONS = {"lower", "upper", "index", "count", "min", "max", "sum", "avg", "length", "trim", "abs"}
COMPARISONS = {"=", "!=", "<>", "<", ">", "<=", ">="}
TOKEN = re.compile(r"""\s*(?:
    (?P<number>\d+\.\d*(?:[eE][-+]?\d+)?[fFdD]?|\d+(?:[eE][-+]?\d+)?[lLfFdD]?)
  | (?P<string>'(?:[^']|'')*')
  | (?P<param>:[A-Za-z_][A-Za-z0-9_]*)
  | (?P<ident>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<op><>|!=|<=|>=|=|<|>|\(|\)|,|\.|\*|\+|-|/)
)""", re.X)


class HqlSyntaxError(Exception):
    """The query is not HQL this parser (and Hibernate) accepts."""


@dataclass
class Path:
    parts: list[str]
    column: int = field(default=0, compare=False, repr=False)

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass
class Param:
    name: str


@dataclass
class Literal:
    value: Any
    java: str  # java.lang.Integer, java.lang.Long, java.lang.Double, java.lang.String, java.lang.Boolean


@dataclass
class Func:
    name: str
    args: list[Any]
    distinct: bool = False
    star: bool = False


@dataclass
class Binary:
    op: str  # and, or, a comparison, or + - * /
    left: Any
    right: Any


@dataclass
class Not:
    operand: Any


@dataclass
class IsNull:
    operand: Any
    negated: bool


@dataclass
class In:
    operand: Any
    values: Union[list[Any], "Query"]
    negated: bool


@dataclass
class Like:
    operand: Any
    pattern: Any
    negated: bool
    escape: Any = None


@dataclass
class Exists:
    query: "Query"


@dataclass
class SelectItem:
    expr: Any


@dataclass
class FromElement:
    """A root entity (``entity`` set) or a join (``path`` set) and the alias it introduces."""

    alias: str | None
    entity: str | None = None
    path: Path | None = None
    join: str = "inner"  # inner or left
    fetch: bool = False
    column: int = 0


@dataclass
class OrderItem:
    expr: Any
    descending: bool


@dataclass
class Query:
    text: str
    distinct: bool
    select: list[SelectItem]
    elements: list[FromElement]
    where: Any = None
    group_by: list[Any] = field(default_factory=list)
    having: Any = None
    order_by: list[OrderItem] = field(default_factory=list)


@dataclass
class _Token:
    kind: str  # number, string, param, ident, op, end
    text: str
    column: int

    @property
    def word(self) -> str:
        return self.text.lower() if self.kind == "ident" else ""


def _tokens(text: str) -> list[_Token]:
    tokens, position = [], 0
    while True:
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            rest = text[position:]
            if rest.strip():
                column = position + len(rest) - len(rest.lstrip()) + 1
                raise HqlSyntaxError(f"unexpected char: '{rest.strip()[0]}' near line 1, column {column}")
            tokens.append(_Token("end", "", len(text) + 1))
            return tokens
        kind = match.lastgroup or "op"
        tokens.append(_Token(kind, match.group(kind), match.start(kind) + 1))
        position = match.end()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.at = 0

    # --- token helpers -----------------------------------------------------------------

    @property
    def token(self) -> _Token:
        return self.tokens[self.at]

    def peek(self, offset: int = 1) -> _Token:
        return self.tokens[min(self.at + offset, len(self.tokens) - 1)]

    def error(self, token: _Token | None = None) -> HqlSyntaxError:
        token = token or self.token
        if token.kind == "end":
            return HqlSyntaxError("unexpected end of subtree")
        return HqlSyntaxError(f"unexpected token: {token.text} near line 1, column {token.column}")

    def accept(self, *words: str) -> bool:
        if self.token.word in words or (self.token.kind == "op" and self.token.text in words):
            self.at += 1
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.accept(*words):
            raise self.error()

    def identifier(self) -> str:
        token = self.token
        if token.kind != "ident" or token.word in KEYWORDS - {"desc", "asc"}:
            raise self.error()
        self.at += 1
        return token.text

    # --- clauses ---------------------------------------------------------------------------

    def query(self) -> Query:
        start = self.token.column - 1
        distinct, select = False, []
        if self.accept("select"):
            distinct = self.accept("distinct")
            select = [SelectItem(self.expression())]
            while self.accept(","):
                select.append(SelectItem(self.expression()))
        self.expect("from")
        elements = [self.root()]
        while True:
            if self.accept(","):
                elements.append(self.root())
            elif self.token.word in ("join", "left", "inner", "right"):
                elements.append(self.join())
            else:
                break
        query = Query("", distinct, select, elements)
        if self.accept("where"):
            query.where = self.condition()
        if self.token.word == "group":
            self.at += 1
            self.expect("by")
            query.group_by = self.expressions()
            if self.accept("having"):
                query.having = self.condition()
        if self.token.word == "order":
            self.at += 1
            self.expect("by")
            query.order_by = [self.order_item()]
            while self.accept(","):
                query.order_by.append(self.order_item())
        end = self.token.column - 1
        query.text = self.text[start:end].strip()
        return query

    def root(self) -> FromElement:
        column = self.token.column
        name = self.identifier()
        while self.token.text == "." and self.peek().kind == "ident":
            self.at += 1
            name += "." + self.identifier()
        return FromElement(self.alias(), entity=name, column=column)

    def join(self) -> FromElement:
        kind = "inner"
        if self.accept("left", "right"):
            if self.tokens[self.at - 1].word == "right":
                raise HqlSyntaxError("right outer joins are not emulated by the fake OMERO")
            self.accept("outer")
            kind = "left"
        else:
            self.accept("inner")
        self.expect("join")
        fetch = self.accept("fetch")
        column = self.token.column
        path = self.path()
        if self.token.word == "with":
            raise HqlSyntaxError("join ... with conditions are not emulated by the fake OMERO")
        return FromElement(self.alias(), path=path, join=kind, fetch=fetch, column=column)

    def alias(self) -> str | None:
        if self.accept("as"):
            return self.identifier()
        if self.token.kind == "ident" and self.token.word not in KEYWORDS:
            return self.identifier()
        return None

    def order_item(self) -> OrderItem:
        expr = self.expression()
        if self.accept("desc"):
            return OrderItem(expr, True)
        self.accept("asc")
        return OrderItem(expr, False)

    def expressions(self) -> list[Any]:
        items = [self.expression()]
        while self.accept(","):
            items.append(self.expression())
        return items

    # --- conditions ------------------------------------------------------------------------

    def condition(self) -> Any:
        left = self.conjunction()
        while self.accept("or"):
            left = Binary("or", left, self.conjunction())
        return left

    def conjunction(self) -> Any:
        left = self.negation()
        while self.accept("and"):
            left = Binary("and", left, self.negation())
        return left

    def negation(self) -> Any:
        if self.accept("not"):
            return Not(self.negation())
        return self.predicate()

    def predicate(self) -> Any:
        if self.accept("exists"):
            self.expect("(")
            query = self.query()
            self.expect(")")
            return Exists(query)
        if self.token.text == "(" and self.peek().word != "select":
            saved = self.at
            try:
                self.at += 1
                inner = self.condition()
                self.expect(")")
                if not self._continues_expression():
                    return inner
            except HqlSyntaxError:
                pass
            self.at = saved
        left = self.expression()
        negated = self.accept("not")
        if self.accept("in"):
            self.expect("(")
            if self.token.word == "select":
                values: Any = self.query()
            else:
                values = self.expressions()
            self.expect(")")
            return In(left, values, negated)
        if self.accept("like"):
            pattern = self.expression()
            escape = self.expression() if self.accept("escape") else None
            return Like(left, pattern, negated, escape)
        if negated:
            raise self.error()
        if self.accept("is"):
            negated = self.accept("not")
            self.expect("null")
            return IsNull(left, negated)
        if self.token.kind == "op" and self.token.text in COMPARISONS:
            op = self.token.text
            self.at += 1
            return Binary("!=" if op == "<>" else op, left, self.expression())
        raise self.error()

    def _continues_expression(self) -> bool:
        token = self.token
        return (token.kind == "op" and token.text in COMPARISONS | {"+", "-", "*", "/"}) or \
            token.word in ("in", "is", "like", "not")

    # --- expressions -----------------------------------------------------------------------

    def expression(self) -> Any:
        left = self.term()
        while self.token.kind == "op" and self.token.text in ("+", "-"):
            op = self.token.text
            self.at += 1
            left = Binary(op, left, self.term())
        return left

    def term(self) -> Any:
        left = self.factor()
        while self.token.kind == "op" and self.token.text in ("*", "/"):
            op = self.token.text
            self.at += 1
            left = Binary(op, left, self.factor())
        return left

    def factor(self) -> Any:
        token = self.token
        if token.kind == "op" and token.text == "-":
            self.at += 1
            return Binary("-", Literal(0, "java.lang.Integer"), self.factor())
        if token.kind == "op" and token.text == "(":
            self.at += 1
            if self.token.word == "select":
                raise HqlSyntaxError("a subquery is only emulated after 'in' or 'exists'")
            inner = self.expression()
            self.expect(")")
            return inner
        if token.kind == "param":
            self.at += 1
            return Param(token.text[1:])
        if token.kind == "number":
            self.at += 1
            return _number(token.text)
        if token.kind == "string":
            self.at += 1
            return Literal(token.text[1:-1].replace("''", "'"), "java.lang.String")
        if token.word in ("true", "false"):
            self.at += 1
            return Literal(token.word == "true", "java.lang.Boolean")
        if token.word == "null":
            self.at += 1
            return Literal(None, "null")
        if token.kind == "ident" and token.word in FUNCTIONS and self.peek().text == "(":
            return self.function()
        if token.kind == "ident" and token.word not in KEYWORDS:
            return self.path()
        raise self.error()

    def function(self) -> Func:
        name = self.token.word
        self.at += 2
        if self.accept("*"):
            self.expect(")")
            return Func(name, [], star=True)
        distinct = self.accept("distinct")
        args = self.expressions()
        self.expect(")")
        return Func(name, args, distinct=distinct)

    def path(self) -> Path:
        column = self.token.column
        parts = [self.identifier()]
        while self.token.text == ".":
            self.at += 1
            token = self.token
            if token.kind != "ident":
                raise self.error()
            parts.append(token.text)  # property names may be words like "value", "group" or "size"
            self.at += 1
        return Path(parts, column)


def _number(text: str) -> Literal:
    suffix = text[-1].lower()
    if suffix == "l":
        return Literal(int(text[:-1]), "java.lang.Long")
    if suffix in "fd" or "." in text or "e" in text.lower():
        java = "java.lang.Float" if suffix == "f" else "java.lang.Double"
        return Literal(float(text.rstrip("fFdD")), java)
    value = int(text)
    return Literal(value, "java.lang.Integer" if value < 2 ** 31 else "java.lang.Long")


def parse(text: str) -> Query:
    """The syntax tree of one HQL query; :class:`HqlSyntaxError` when it is not valid HQL."""
    parser = _Parser(text)
    query = parser.query()
    if parser.token.kind != "end":
        raise parser.error()
    return query
