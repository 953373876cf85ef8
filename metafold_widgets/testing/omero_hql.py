"""An HQL engine over the fake OMERO's in-memory store, with Hibernate 3.6's semantics.

``HqlEngine.run(query, params, groups, offset, limit)`` parses the query
(:mod:`.omero_hql_parse`), resolves every alias and path against OMERO's model
(:mod:`.omero_hql_paths`, raising :class:`QueryError` as Hibernate would), and evaluates it:

* ``from Entity a``: every stored object of the entity or a subclass whose group the query may
  read (the security filters OMERO enables: one group, or all the user's groups for -1);
  global entities (Experimenter, Event, enumerations...) are always visible;
* ``[inner] join`` drops rows without a match, ``left [outer] join`` keeps them with null;
  a reference join follows the stored id, a one-to-many collection is found through its
  inverse property, ``mapValue`` yields its NamedValue elements with their index;
* ``join fetch`` loads the association on the returned objects; a fetched collection holds the
  elements of the rows that passed the WHERE clause (Hibernate fills it from the result rows);
  the owner of a fetched association must be selected ("query specified join fetching, but the
  owner of the fetched association was not present in the select list");
* ``distinct`` removes duplicate rows (entities compare by id); without it a collection fetch
  returns its owner once per element. With a collection fetch and ``distinct`` or paging,
  Hibernate removes duplicate roots in memory and pages there (QueryTranslatorImpl.list);
* ``order by`` sorts (nulls last ascending, first descending, as PostgreSQL; with
  ``distinct`` only by what the SQL selects, else PostgreSQL's "for SELECT DISTINCT, ORDER BY
  expressions must appear in select list"); without it rows come back in reverse store order:
  PostgreSQL promises no order, and callers must not rely on one; then ``offset``/``limit`` page.

A WHERE conjunct ``a.id = :x`` or ``a.ref.id in (:x)`` on a root is looked up in the store's
index instead of scanning (the conjunct is still applied), as a database uses its indexes.

The result holds raw values; :mod:`.omero_hql_output` turns them into what the services return.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Mapping

from .omero_hql_expr import ExecutionError, ExpressionCompiler, ParameterMissing
from .omero_hql_parse import Binary, FromElement, HqlSyntaxError, In, Literal, Param, Path, Query, parse
from .omero_hql_paths import Alias, PathResolver, QueryError, Scope, StoreView, Typed, attribute_name, value_key
from .omero_model import Prop

__all__ = ["HqlEngine", "Result", "Fetch", "QueryError", "ExecutionError", "ParameterMissing"]

Row = list
Step = Callable[[list[Row]], list[Row]]


@dataclass
class Fetch:
    """A ``join fetch``: the owning entity, the path from it, where the target sits in a row."""

    owner: Callable[[Row], Any]
    path: tuple[str, ...]
    target_pos: int
    index_pos: int | None
    collection: bool


@dataclass
class Result:
    """Selected values per row (raw: entities are store objects), their types, and the fetched
    associations by (root entity, id, path)."""

    rows: list[list[Any]]
    types: list[tuple[str, ...]]
    fetched: dict[tuple[str, int, tuple[str, ...]], Any]


@dataclass
class _Level:
    scope: Scope
    steps: list[tuple[int, Step]] = field(default_factory=list)
    filters: list[Typed] = field(default_factory=list)
    select: list[Typed] = field(default_factory=list)
    order: list[tuple[Typed, bool]] = field(default_factory=list)
    group_by: list[Typed] = field(default_factory=list)
    fetches: list[Fetch] = field(default_factory=list)
    implicit: list[Alias] = field(default_factory=list)  # what "from A a join a.b b" selects
    distinct: bool = False

    def rows(self, base: Row) -> list[Row]:
        rows = [base]
        pending = sorted(self.filters, key=lambda f: f.depends)
        rows, pending = _filter(rows, pending, len(base) - 1)
        for end, step in self.steps:
            rows = step(rows)
            rows, pending = _filter(rows, pending, end)
        rows, _ = _filter(rows, pending, 1 << 30)
        return rows


def _filter(rows: list[Row], pending: list[Typed], upto: int) -> tuple[list[Row], list[Typed]]:
    ready = [f.fn for f in pending if f.depends <= upto]
    if ready:
        rows = [row for row in rows if all(fn(row) is True for fn in ready)]
    return rows, [f for f in pending if f.depends > upto]


def _conjuncts(node: Any) -> list[Any]:
    if isinstance(node, Binary) and node.op == "and":
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node] if node is not None else []


@lru_cache(maxsize=256)
def _parsed(text: str) -> Query:
    return parse(text)


class HqlEngine:
    """Runs HQL against a store (see the module docstring)."""

    def __init__(self, store: StoreView) -> None:
        self.store, self.model = store, store.model
        self._roots: dict[str, str] = {}

    def run(self, text: str, params: Mapping[str, Any], groups: frozenset[int], offset: int = 0,
            limit: int | None = None) -> Result:
        try:
            query = _parsed(text)
        except HqlSyntaxError as exc:
            raise QueryError(str(exc)) from None
        level = self._level(query, Scope(), params, groups, top=True)
        rows = level.rows([])
        fetched = self._collect(level.fetches, rows)
        selected = self._project(level, rows)
        if level.distinct:
            selected = _unique(selected, lambda item: tuple(_hashable(v) for v in item[0]))
        if level.order:
            for position in reversed(range(len(level.order))):
                descending = level.order[position][1]
                selected.sort(key=lambda item: _order_key(item[1][position]), reverse=descending)
        else:
            selected.reverse()
        values = [item[0] for item in selected]
        if any(f.collection for f in level.fetches) and (level.distinct or limit is not None) and \
                len(level.select) == 1:
            values = _unique(values, lambda v: _hashable(v[0]))
        end = None if limit is None else offset + limit
        return Result(values[offset:end], [item.type for item in level.select], fetched)

    # --- compiling a query level ------------------------------------------------------------

    def _level(self, query: Query, scope: Scope, params: Mapping[str, Any], groups: frozenset[int],
               top: bool) -> _Level:
        level = _Level(scope, distinct=query.distinct)
        paths = PathResolver(self.model, self.store, scope, level.filters.append)
        exprs = ExpressionCompiler(paths, params, lambda q, s: self._subquery(q, s, params, groups))
        fetch_ok = {item.expr.parts[0] for item in query.select
                    if isinstance(item.expr, Path) and len(item.expr.parts) == 1}
        narrowing = _narrowing(query.where, params)
        for element in query.elements:
            if element.entity is not None:
                alias = self._root(element, scope, level, groups, narrowing.get(element.alias or ""))
                level.implicit.append(alias)
                if not query.select:
                    fetch_ok.add(alias.name)
                continue
            alias = self._join(element, scope, paths, level, groups, top)
            if not element.fetch and alias.entity is not None:
                level.implicit.append(alias)
            if element.fetch and top:
                if element.path is None or element.path.parts[0] not in fetch_ok:
                    where = element.path.text if element.path else ""
                    raise QueryError("query specified join fetching, but the owner of the fetched association "
                                     f"was not present in the select list [{where}]")
                if element.alias:
                    fetch_ok.add(element.alias)
        for conjunct in _conjuncts(query.where):
            level.filters.append(exprs.condition(conjunct))
        if query.having is not None:
            raise NotImplementedError("the fake OMERO does not evaluate 'having'")
        if query.select:
            level.select = [exprs.value(item.expr, "select") for item in query.select]
        else:
            level.select = [Typed(_slot(a.pos), ("entity", a.entity or ""), a.pos) for a in level.implicit]
        level.group_by = [exprs.value(node) for node in query.group_by]
        level.order = [(exprs.value(item.expr, "order"), item.descending) for item in query.order_by]
        if query.distinct:
            _check_distinct_order(query, fetch_ok)
        return level

    def _root(self, element: FromElement, scope: Scope, level: _Level, groups: frozenset[int],
              narrowing: tuple[str, list[Any]] | None) -> Alias:
        entity = self.model.entity(element.entity or "")
        if entity is None:
            raise QueryError(f"{element.entity} is not mapped")
        pos = scope.slot()
        alias = Alias(element.alias or f"{entity.name}#{pos}", pos, entity=entity.name, label=entity.class_name)
        scope.aliases[alias.name] = alias
        store, name = self.store, entity.name
        cache: list[list[Any]] = []
        candidates = self._candidates(name, narrowing)

        def step(rows: list[Row]) -> list[Row]:
            if not cache:
                found = candidates() if candidates is not None else store.instances(name)
                cache.append([obj for obj in found if store.visible(obj, groups)])
            return [row + [obj] for row in rows for obj in cache[0]]
        level.steps.append((pos, step))
        return alias

    def _candidates(self, entity: str, narrowing: tuple[str, list[Any]] | None) -> Callable[[], list[Any]] | None:
        """The root's objects named by a WHERE conjunct ``a.id = :x`` or ``a.ref.id in (:x)`` (an
        index lookup instead of a scan; the conjunct is still applied), or None."""
        if narrowing is None:
            return None
        prop_name, ids = narrowing
        if prop_name != "id":
            prop = self.model.properties(entity).get(prop_name)
            if prop is None or prop.kind != "reference":
                return None
        store = self.store

        def candidates() -> list[Any]:
            if prop_name == "id":
                found = [store.get(entity, i) for i in ids]
                return sorted((o for o in found if o is not None), key=lambda o: o._id._val)
            objects = {o._id._val: o for i in ids for o in store.referrers(entity, prop_name, i)}
            return [objects[i] for i in sorted(objects)]
        return candidates

    def _join(self, element: FromElement, scope: Scope, paths: PathResolver, level: _Level,
              groups: frozenset[int], top: bool) -> Alias:
        assert element.path is not None
        _owner_alias, walk, prop = paths.association(element.path)
        pos = scope.slot()
        index_pos = scope.slot() if prop.ordered else None
        if prop.kind == "elements":
            label = f"component[{','.join(self.model.components[prop.component or ''].properties)}]"
            alias = Alias(element.alias or f"#{pos}", pos, component=prop.component, index_pos=index_pos, label=label)
        else:
            target = self.model.entities[prop.target or ""]
            alias = Alias(element.alias or f"#{pos}", pos, entity=target.name, index_pos=index_pos,
                          label=target.class_name)
        if element.alias:
            scope.aliases[element.alias] = alias
        step = self._expander(walk.fn, attribute_name(walk.component, prop.name), prop, element.join == "left",
                              groups)
        level.steps.append((index_pos if index_pos is not None else pos, step))
        if element.fetch and top:
            level.fetches.append(Fetch(walk.owner_fn, walk.owner_path + (prop.name,), pos, index_pos,
                                       prop.kind != "reference"))
        return alias

    def _expander(self, owner_fn: Callable[[Row], Any], attr: str, prop: Prop, left: bool,
                  groups: frozenset[int]) -> Step:
        store, target, widths = self.store, prop.target or "", 2 if prop.ordered else 1
        empty = [None] * widths

        def matches(owner: Any) -> list[list[Any]]:
            if owner is None:
                return []
            if prop.kind == "reference":
                proxy = getattr(owner, attr, None)
                found = store.resolve(proxy, target) if proxy is not None else None
                return [[found]] if found is not None and store.visible(found, groups) else []
            if prop.kind == "elements":
                values = getattr(owner, attr, None) or []
                return [[value, index] for index, value in enumerate(values)]
            elements = store.referrers(target, prop.inverse or "", owner._id._val)
            if prop.ordered:
                return [[e, index] for index, e in enumerate(elements) if store.visible(e, groups)]
            return [[e] for e in elements if store.visible(e, groups)]

        def step(rows: list[Row]) -> list[Row]:
            out: list[Row] = []
            for row in rows:
                found = matches(owner_fn(row))
                if found:
                    out.extend(row + extra for extra in found)
                elif left:
                    out.append(row + empty)
            return out
        return step

    def _subquery(self, query: Query, scope: Scope, params: Mapping[str, Any],
                  groups: frozenset[int]) -> Callable[[Row], list[Any]]:
        level = self._level(query, scope, params, groups, top=False)
        if len(level.select) != 1:
            raise QueryError("a subquery after 'in' must select one value")
        item = level.select[0]
        base_size = scope.parent.size if scope.parent is not None else 0

        def values(row: Row) -> list[Any]:
            base = list(row[:base_size]) + [None] * (base_size - len(row))
            return [item.fn(r) for r in level.rows(base)]
        return values

    # --- results ---------------------------------------------------------------------------

    def _project(self, level: _Level, rows: list[Row]) -> list[tuple[list[Any], list[Any]]]:
        aggregated = bool(level.group_by) or any(item.aggregate for item in level.select)
        if not aggregated:
            return [([item.fn(row) for item in level.select], [o.fn(row) for o, _ in level.order]) for row in rows]
        groups: dict[tuple[Any, ...], list[Row]] = {}
        for row in rows:
            groups.setdefault(tuple(_hashable(g.fn(row)) for g in level.group_by), []).append(row)
        if not level.group_by and not groups:
            groups[()] = []
        return [([_evaluate(item, members) for item in level.select], [_evaluate(o, members) for o, _ in level.order])
                for members in groups.values()]

    def _collect(self, fetches: list[Fetch], rows: list[Row]) -> dict[tuple[str, int, tuple[str, ...]], Any]:
        fetched: dict[tuple[str, int, tuple[str, ...]], Any] = {}
        for fetch in fetches:
            for row in rows:
                owner = fetch.owner(row)
                if owner is None:
                    continue
                key = (self.root_of(owner), owner._id._val, fetch.path)
                target = row[fetch.target_pos]
                if not fetch.collection:
                    fetched[key] = target
                    continue
                bucket = fetched.setdefault(key, {})
                if target is not None:
                    index = row[fetch.index_pos] if fetch.index_pos is not None else len(bucket)
                    bucket.setdefault(_hashable(target), (index, target))
        for key, value in fetched.items():
            if isinstance(value, dict):
                fetched[key] = [target for _, target in sorted(value.values(), key=lambda pair: pair[0])]
        return fetched

    def root_of(self, obj: Any) -> str:
        """The root entity (id space) of a stored object."""
        kind = type(obj).__name__
        root = self._roots.get(kind)
        if root is None:
            root = self._roots[kind] = self.model.root(kind[:-1] if kind.endswith("I") else kind)
        return root


def _check_distinct_order(query: Query, columns_of: set[str]) -> None:
    """PostgreSQL: "for SELECT DISTINCT, ORDER BY expressions must appear in select list". The SQL
    Hibernate writes selects the columns of the selected and fetched entities, so ordering by
    their properties works; anything else must be one of the selected expressions."""
    selected = [item.expr for item in query.select]
    for item in query.order_by:
        expr = item.expr
        if isinstance(expr, Path) and expr.parts[0] in columns_of:
            continue
        if expr not in selected:
            raise ExecutionError("for SELECT DISTINCT, ORDER BY expressions must appear in select list")


def _narrowing(where: Any, params: Mapping[str, Any]) -> dict[str, tuple[str, list[Any]]]:
    """Per root alias, an id-valued conjunct on it: ``a.id`` or ``a.ref.id`` compared to constants."""
    found: dict[str, tuple[str, list[Any]]] = {}
    for conjunct in _conjuncts(where):
        if isinstance(conjunct, Binary) and conjunct.op == "=":
            path, values = conjunct.left, [conjunct.right]
        elif isinstance(conjunct, In) and not conjunct.negated and isinstance(conjunct.values, list):
            path, values = conjunct.operand, conjunct.values
        else:
            continue
        if not isinstance(path, Path) or path.parts[-1] != "id" or len(path.parts) not in (2, 3):
            continue
        ids: list[Any] = []
        for value in values:
            constant = params.get(value.name) if isinstance(value, Param) else \
                value.value if isinstance(value, Literal) else None
            for item in constant if isinstance(constant, (list, tuple, set)) else [constant]:
                if not isinstance(item, int) or isinstance(item, bool):
                    ids = []
                    break
                ids.append(item)
            else:
                continue
            break
        if ids:
            found.setdefault(path.parts[0], (path.parts[1] if len(path.parts) == 3 else "id", ids))
    return found


def _slot(pos: int) -> Callable[[Row], Any]:
    return lambda row: row[pos]


def _hashable(value: Any) -> Any:
    key = value_key(value)
    try:
        hash(key)
        return (type(value).__name__ if key is not value else "", key)
    except TypeError:
        return ("id", id(value))


def _unique(items: list[Any], key: Callable[[Any], Any]) -> list[Any]:
    seen: set[Any] = set()
    out = []
    for item in items:
        k = key(item)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return out


def _order_key(value: Any) -> tuple[bool, Any]:
    """Nulls sort last ascending and (with reverse=True) first descending, as in PostgreSQL."""
    key = value_key(value)
    return (True, 0) if key is None else (False, key)


def _evaluate(item: Typed, rows: list[Row]) -> Any:
    if item.aggregate is None:
        return item.fn(rows[0]) if rows else None
    name, argument, distinct = item.aggregate
    if argument is None:
        return len(rows)
    values = [v for v in (argument.fn(row) for row in rows) if v is not None]
    if distinct:
        values = _unique(values, _hashable)
    if name == "count":
        return len(values)
    if not values:
        return None
    keys = [value_key(v) for v in values]
    if name == "min":
        return min(keys)
    if name == "max":
        return max(keys)
    total = sum(keys)
    return total if name == "sum" else total / len(keys)
