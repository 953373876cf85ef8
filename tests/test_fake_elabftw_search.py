"""The fake elabFTW server's ``q`` search, release by release (metafold_widgets.testing.fake_elabftw.search)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from metafold_widgets.testing.fake_elabftw.search import (
    CompiledQuery,
    SearchRow,
    SearchSyntaxError,
    UnsupportedSearch,
    compile_query,
)

V528, V566, V5612, V600A4 = 50208, 50606, 50612, 60000
ALL = (V528, V566, V5612, V600A4)
GRAMMAR_ONLY = (V528, V566)  # every q goes through the advanced grammar
FULLTEXT = (V5612, V600A4)  # a simple q is a MySQL FULLTEXT search
UUID = "3f2a9c1e4b7d4e2a9f0c1d2e3f4a5b6c"
MARKER = f"metafold-project:{UUID}"


def row(**changes: Any) -> SearchRow:
    base = SearchRow(id=7, title="Untitled", body="<p>nothing here</p>", elabid="20240105-0a1b2c3d4e5f",
                     custom_id=None, date="2024-01-05", category_title=None, status_title=None,
                     fullname="Ada Lovelace", rating=0, locked=False, state=1, tags=(), metadata=None)
    return replace(base, **changes)


def hits(q: str, version: int, *rows: SearchRow, min_token_size: int = 3) -> list[bool]:
    compiled = compile_query(q, version_int=version, min_token_size=min_token_size)
    return [compiled.matches(r) for r in rows]


def compiled(q: str, version: int) -> CompiledQuery:
    return compile_query(q, version_int=version)


@pytest.mark.parametrize("version", ALL)
def test_quoted_marker_is_advanced_and_found_everywhere(version: int) -> None:
    marker_row = row(body="<p>mf7k2q9x4 in the body</p>")
    assert compiled('"mf7k2q9x4"', version).advanced is True
    assert hits('"mf7k2q9x4"', version, marker_row, row()) == [True, False]
    assert hits('"MF7K2Q9X4"', version, marker_row) == [True]  # LIKE under a case-insensitive collation
    assert hits(f'"{MARKER}"', version, row(body=f"<p>{MARKER}</p>"), row()) == [True, False]


@pytest.mark.parametrize("version", GRAMMAR_ONLY)
def test_unquoted_colon_term_is_a_syntax_error_before_5_6_7(version: int) -> None:
    with pytest.raises(SearchSyntaxError) as caught:
        compile_query(MARKER, version_int=version)
    assert caught.value.message == (
        'Error with extended search: SyntaxError: Expected " OR ", "|", end of input or space, " AND ", "&" but ":"'
        " found.<pre class='alert-danger pb-3'> --&gt; Search query:1:17\n  |\n"
        f"1 | {MARKER}\n  |                 ^</pre>")


def test_syntax_error_body_is_shaped_per_release() -> None:
    with pytest.raises(SearchSyntaxError) as old:
        compile_query("a:b", version_int=V528)
    assert old.value.response_body["message"] == "Bad Request"
    assert old.value.response_body["description"].startswith("Error with extended search: SyntaxError: ")
    with pytest.raises(SearchSyntaxError) as new:
        compile_query("a:b", version_int=V566)
    assert new.value.response_body == {"code": 400, "message": new.value.message, "description": ""}


@pytest.mark.parametrize("version", FULLTEXT)
def test_unquoted_marker_is_a_fulltext_query_from_5_6_7(version: int) -> None:
    query = compiled(MARKER, version)
    assert query.advanced is False
    # '+metafold* +project:<uuid>*': InnoDB requires the words metafold*, project and <uuid>* ...
    assert query.matches(row(body=f"<p>{MARKER}</p>"))
    assert not query.matches(row(body="<p>metafold-project:ffffffffffffffffffffffffffffffff</p>"))
    # ... anywhere in title, body or elabid, in any order: words, not the string.
    assert query.matches(row(title="project metafold", body=f"<p>{UUID}0</p>"))
    # A short first word stays a required plain word, which is never indexed: the text is there, not found.
    assert hits("xy:abcdef", version, row(body="<p>xy:abcdef</p>")) == [False]


@pytest.mark.parametrize("version", FULLTEXT)
def test_short_tokens_are_not_indexed(version: int) -> None:
    body_only = row(body="<p>xy sample</p>")
    assert hits("xy", version, body_only) == [False]  # 'xy' is not indexed; the LIKE fallback skips the body
    assert hits("xy", version, row(title="xy sample")) == [True]  # hasShortFulltextToken: title LIKE %xy%
    assert hits("sa", version, body_only) == [True]  # '+sa*' is a prefix of the indexed 'sample'
    assert hits("abc", version, row(body="abc"), min_token_size=3) == [True]
    assert hits("abc", version, row(body="abc"), min_token_size=4) == [False]


@pytest.mark.parametrize("version", FULLTEXT)
def test_innodb_query_parsing(version: int) -> None:
    assert hits("the", version, row(body="<p>theory</p>"), row(body="<p>the end</p>")) == [True, False]
    # '%' is no term character for InnoDB: '+foo%bar*' is '+foo bar*' (bar* optional)
    assert hits("foo%bar", version, row(title="foo"), row(title="bar")) == [True, False]


@pytest.mark.parametrize("version", GRAMMAR_ONLY)
def test_short_tokens_are_found_by_like_before_5_6_7(version: int) -> None:
    assert hits("xy", version, row(body="<p>xy sample</p>")) == [True]


@pytest.mark.parametrize("version", ALL)
def test_stopwords(version: int) -> None:
    about, abouts = row(body="<p>about</p>"), row(body="<p>aboutness</p>")
    expected = [False, True] if version in FULLTEXT else [True, True]
    assert hits("about", version, about, abouts) == expected
    assert hits('"about"', version, about) == [True]  # quoted: advanced LIKE everywhere


@pytest.mark.parametrize("version", ALL)
def test_and_or_not(version: int) -> None:
    both, alpha, beta = row(title="alpha beta"), row(title="alpha"), row(title="beta")
    assert compiled("alpha AND beta", version).advanced is True
    assert hits("alpha AND beta", version, both, alpha, beta) == [True, False, False]
    assert hits("alpha beta", version, both, alpha, beta) == [True, False, False]
    assert hits("alpha OR beta", version, both, alpha, beta, row()) == [True, True, True, False]
    assert hits("alpha | beta", version, both, alpha, beta) == [True, True, True]
    assert hits("(alpha | beta) & !title:beta", version, both, alpha, beta) == [False, True, False]
    assert hits("alpha NOT title:beta", version, both, alpha, beta) == [False, True, False]
    # NOT of an unqualified term is NULL, not TRUE, for an entity without compounds (LEFT JOIN -> NULL).
    assert hits("NOT beta", version, alpha, both) == [False, False]
    assert hits("alpha NOT beta", version, alpha) == [False]


def test_lower_case_operators_differ_by_release() -> None:
    both, alpha = row(title="alpha beta"), row(title="alpha")
    assert hits("alpha or beta", V566, both, alpha) == [True, True]  # 'OR'i in the grammar
    assert compiled("alpha or beta", V5612).advanced is False  # the regex wants upper case
    assert hits("alpha or beta", V5612, both, alpha) == [False, False]  # '+or*' needs a word starting with 'or'
    assert hits("alpha or beta", V5612, row(title="alpha beta order")) == [True]


@pytest.mark.parametrize("version", ALL)
def test_html_escaped_body(version: int) -> None:
    stored = row(body="<p>a &lt; b</p>")
    assert hits('"a < b"', version, stored, row(body="<p>a < b</p>")) == [True, False]
    assert hits('body:"a < b"', version, stored) == [True]
    assert hits('title:"a < b"', version, row(title="a < b")) == [True]  # only the body is escaped


def test_unquoted_html_term_by_release() -> None:
    stored = row(body="<p>x&lt;yz</p>")
    assert hits("x<yz", V528, stored) == [True]
    assert hits("x<yz", V5612, stored) == [False]  # '+x* +yz*': nothing indexed in the body matches


@pytest.mark.parametrize("version", ALL)
def test_field_qualified_terms(version: int) -> None:
    entity = row(id=42, title="Alpha run", body="<p>Beta</p>", custom_id=12, category_title="Imaging",
                 status_title="Running", rating=4, locked=True, date="2024-03-15",
                 metadata={"extra_fields": {"Sample ID": {"type": "text", "value": "S-17"}}})
    expect = {
        "title:alpha": True, "title:s:alpha": False, 'title:s:"alpha run"': True, "title:beta": False,
        "body:beta": True, "author:lovelace": True, "owner:ada": True, "category:imag": True,
        "status:running": True, "status:done": False, "rating:4": True, "rating:unrated": False,
        "locked:yes": True, "locked:0": False, "id:42": True, "id:41": False, "custom_id:12": True,
        "date:2024-03-15": True, "date:>=20240101": True, "date:<2024.03.15": False,
        "date:20240301..20240331": True, 'extrafield:"sample id":s-17': True, "extrafield:**:s-1": True,
        "extrafield:Sample:x": False, "state:1": version >= 50300, "title:a_pha": True,
    }
    for query, wanted in expect.items():
        if query.startswith("state:") and version < 50300:
            with pytest.raises(SearchSyntaxError):
                compile_query(query, version_int=version)
            continue
        assert hits(query, version, entity) == [wanted], query
    assert compiled("state:2", V566).overrides_state_filter is True
    assert hits("category:x", version, row()) == [False]  # NULL category


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize("query", ["group:lab", "visibility:team", "timestamped:1", "created_at:>2024-01-01"])
def test_fields_not_emulated(version: int, query: str) -> None:
    with pytest.raises(UnsupportedSearch):
        compile_query(query, version_int=version)


@pytest.mark.parametrize("version", ALL)
def test_syntax_errors_in_the_grammar(version: int) -> None:
    for query in ("rating:9", "id:0", "date:2024-13-01", '"unclosed', "(alpha", "title:"):
        with pytest.raises(SearchSyntaxError):
            compile_query(query, version_int=version)
    if version in GRAMMAR_ONLY:  # there is no tag field; 'tag' is no field prefix either
        with pytest.raises(SearchSyntaxError):
            compile_query("tag:x", version_int=version)
    else:
        # '+tag:x*' is '+tag*' for InnoDB: a word after the first one is dropped when short
        assert hits("tag:x", version, row(title="tagging"), row(title="x-ray")) == [True, False]
    with pytest.raises(SearchSyntaxError, match="Second date needs to be equal or greater than first date"):
        compile_query("date:20240201..20240101", version_int=version)


@pytest.mark.parametrize("version", ALL)
def test_case_insensitivity(version: int) -> None:
    entity = row(title="Spectroscopy Results", body="<p>Wavelength CALIBRATION</p>")
    assert hits("spectroscopy", version, entity) == [True]
    assert hits("calibration", version, entity) == [True]
    assert hits("TITLE:RESULTS", version, entity) == [True]


@pytest.mark.parametrize("version", ALL)
def test_empty_query_matches_everything(version: int) -> None:
    for q in ("", "   ", "\t\n"):
        query = compiled(q, version)
        assert query.advanced is False
        assert query.matches(row())


def test_zero_is_no_search_before_5_6_7_and_a_custom_id_after() -> None:
    assert hits("0", V566, row(), row(custom_id=0)) == [True, True]  # PHP empty("0")
    assert hits("0", V5612, row(), row(custom_id=0)) == [False, True]  # FULLTEXT '' finds nothing


@pytest.mark.parametrize("version", ALL)
def test_custom_id_and_date_are_searched_by_a_bare_term(version: int) -> None:
    assert hits("12", version, row(custom_id=12), row(custom_id=13)) == [True, False]
    assert hits("2024-01", version, row(), row(date="2023-12-31")) == [True, False]


def test_like_wildcards_and_escapes_in_the_grammar() -> None:
    assert hits('"a_c"', V566, row(title="abc")) == [True]
    assert hits('"a\\_c"', V566, row(title="abc"), row(title="a_c")) == [False, True]
    assert hits('"50%"', V566, row(title="50 percent")) == [True]


def test_fulltext_query_mysql_would_reject() -> None:
    with pytest.raises(UnsupportedSearch):
        compile_query("%", version_int=V5612)
