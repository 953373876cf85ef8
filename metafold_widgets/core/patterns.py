"""Template patterns: Python ``re`` syntax, matched with a time limit so that no pattern can hang a form.

A field's ``pattern`` comes from a template file, which anyone may have written. Python's
``re`` has no time limit: ``(a+)+$`` against forty ``a`` and a ``!`` runs for hours
(catastrophic backtracking) and blocks the CLI, or the kernel serving a web form. So:

- ``re`` decides what a valid pattern is, so templates keep the syntax and meaning they had;
- the ``regex`` package runs the match, because it reads the same syntax and stops after a
  time limit (``timeout=``); a linear-time engine such as RE2 would be safer still, but it
  lacks backreferences and lookarounds and reads ``$`` differently, so patterns that work
  today would break or change meaning;
- at template load a pattern is compiled and tried on a few hostile answers; one that takes
  too long, or that ``regex`` would unroll into a huge program (``(?:a{1000}){1000}``), is a
  template error, so it never reaches a researcher's form.
"""
from __future__ import annotations

import contextlib
import functools
import importlib
import re
import time
import warnings
from typing import Any, Iterator

import regex

MAX_PATTERN_CHARS = 2_000  # real formats are a few dozen characters; bounds compile time
# Items once required repeats are written out, as ``regex`` compiles them: up to 270 bytes and 0.4 µs
# each, so 5,000 (real formats need a few dozen) keep a compiled pattern under 1.5 MB.
MAX_UNROLLED = 5_000
MATCH_SECONDS = 0.5  # one answer against one pattern; a plain pattern checks a 10 MB answer in less
CHECK_SECONDS = 0.1  # every hostile sample of one pattern at template load; a sound pattern needs ~1 ms
SAMPLE_CHARS = 1_024  # length of a hostile sample (or the field's max_length, when shorter)
SAMPLE_RUNS = 8  # characters whose long runs are tried

# The parser that ``re`` itself uses (``sre_parse`` before Python 3.11): counting the repeats of
# the very tree ``re`` reads is the only exact way to bound what a pattern unrolls into.
_sre_parse: Any = importlib.import_module("re._parser" if hasattr(re, "_parser") else "sre_parse")
_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})
# Inside a set, ``regex`` reads [:alpha:] as a POSIX class where ``re`` reads the characters.
_POSIX_CLASS = re.compile(r"(?<!\\)(?:\\\\)*\[:\^?\w+:\]")
_CATEGORY_SAMPLES = {"DIGIT": "0", "WORD": "a", "SPACE": " ", "LINEBREAK": "\n"}
_TERMINATOR = "\x00"  # ends each hostile run: matched by hardly any pattern, so the engine backtracks


class PatternError(ValueError):
    """A pattern that cannot be used; the message says why, for the template's author."""


class PatternTimeout(Exception):
    """Matching one answer took longer than the time limit."""


@functools.lru_cache(maxsize=128)
def compile_pattern(pattern: str) -> Any:
    """The compiled pattern, ready for :func:`search`; raises PatternError with a readable reason."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(f"pattern is longer than {MAX_PATTERN_CHARS:,} characters")
    try:
        with _quiet():
            re.compile(pattern)
        unrolled = _unrolled_size(_parse(pattern))
    except (re.error, OverflowError, ValueError) as exc:  # a{99999999999}: "the repetition number is too large"
        raise PatternError(f"pattern is not a valid regular expression: {exc}") from None
    except RecursionError:
        raise PatternError("pattern is not a valid regular expression: it is nested too deeply") from None
    if unrolled > MAX_UNROLLED:
        raise PatternError("pattern repeats too much: written out, its counted repeats come to more than "
                           f"{MAX_UNROLLED:,} items (as in (?:a{{100}}){{1000}})")
    posix = _POSIX_CLASS.search(pattern)
    if posix:
        raise PatternError(f"pattern uses {posix.group().lstrip(chr(92))}, a POSIX class that Python regular "
                           r"expressions do not have: write [a-zA-Z], \d or \s instead, or \[ for a literal '['")
    try:
        with _quiet():
            return regex.compile(pattern, regex.VERSION0)
    except (regex.error, OverflowError, ValueError, RecursionError, MemoryError) as exc:
        raise PatternError(f"pattern is not a valid regular expression: {exc}") from None


def search(pattern: str, value: str, seconds: float = MATCH_SECONDS) -> bool:
    """True when ``pattern`` occurs in ``value`` (as ``re.search``), within ``seconds``.

    Raises PatternError for an unusable pattern and PatternTimeout when the limit is reached.
    """
    compiled = compile_pattern(pattern)
    try:
        return compiled.search(value, timeout=seconds) is not None
    except TimeoutError:
        raise PatternTimeout(f"matching took longer than {seconds:g} s") from None


def pattern_problem(pattern: str, max_length: int | None = None, seconds: float = CHECK_SECONDS) -> str | None:
    """Why a template cannot use ``pattern`` (None when it can): invalid, or too slow on hostile answers.

    The hostile answers are long runs of the characters the pattern names, each followed by a
    character that breaks the match: what makes a backtracking engine try every way to split
    the run. They are no longer than ``max_length``, since a longer answer is never matched.
    """
    try:
        compiled = compile_pattern(pattern)
    except PatternError as exc:
        return str(exc)
    length = SAMPLE_CHARS if max_length is None else min(max_length, SAMPLE_CHARS)
    try:
        samples = hostile_samples(pattern, length)
    except RecursionError:
        return "pattern is not a valid regular expression: it is nested too deeply"
    deadline = time.monotonic() + seconds
    for sample in samples:
        left = deadline - time.monotonic()
        try:
            if left <= 0:
                raise TimeoutError
            compiled.search(sample, timeout=left)
        except TimeoutError:
            return (f"pattern takes too long to check an answer (catastrophic backtracking, as in (a+)+ "
                    f"or (a|aa)+): more than {seconds:g} s for {len(sample):,} characters; simplify it")
    return None


def hostile_samples(pattern: str, length: int) -> list[str]:
    """Answers of ``length`` characters that make a backtracking pattern slow: runs, then a stop."""
    if length < 2:
        return []
    named = list(dict.fromkeys(_characters(_parse(pattern))))[:SAMPLE_RUNS - 2]
    chars = list(dict.fromkeys(named + ["a", "0"]))  # "a" and "0" for classes such as [^,] or \S
    runs = [c * (length - 1) for c in chars]
    cycle = "".join(named or chars)
    runs.append((cycle * (length // len(cycle) + 1))[:length - 1])
    return [run + _TERMINATOR for run in dict.fromkeys(runs)]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence "possible nested set" and the like: meant for programmers, not template authors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _parse(pattern: str) -> Any:
    """The tree that ``re`` itself reads ``pattern`` into."""
    with _quiet():
        return _sre_parse.parse(pattern)


def _children(value: Any) -> Iterator[Any]:
    """The sub-patterns held in one node's argument (a group, a branch, a lookaround...)."""
    if isinstance(value, _sre_parse.SubPattern):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _children(item)


def _unrolled_size(tree: Any) -> int:
    """Items in ``tree`` once every required repeat is written out (``x{3}`` and ``x{3,9}`` count 3)."""
    total = 0
    for op, argument in tree:
        inner = sum(_unrolled_size(child) for child in _children(argument))
        if str(op) in _REPEATS:
            total += max(argument[0], 1) * inner
        else:
            total += 1 + inner
        if total > MAX_UNROLLED:
            return total
    return total


def _characters(tree: Any) -> Iterator[str]:
    """Characters that ``tree`` can match, in pattern order: the stuff of hostile runs."""
    for op, argument in tree:
        name = str(op)
        if name == "LITERAL":
            yield chr(argument)
        elif name == "RANGE":
            yield chr(argument[0])
        elif name == "CATEGORY":
            sample = _CATEGORY_SAMPLES.get(str(argument).removeprefix("CATEGORY_").removeprefix("UNI_"))
            if sample:
                yield sample
        elif name == "ANY":
            yield "a"
        elif name == "IN":
            yield from _characters(argument)
        for child in _children(argument):
            yield from _characters(child)
