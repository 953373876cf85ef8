"""Turn one raw answer into the canonical value of its field, and check its constraints.

Canonical values are JSON-friendly: text as ``str``, numbers as ``int``/``float``,
dates as ``YYYY-MM-DD``, times as ``HH:MM[:SS]``, datetimes as ``YYYY-MM-DDTHH:MM[:SS]``
(so that comparing two of them as strings compares them in time), checkboxes as
``bool``, multi-selects as ``list[str]``; a blank answer is ``None``.
Messages are written for researchers ("must be at least 4"), not for programmers.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from decimal import Decimal
from typing import Any, Sequence
from urllib.parse import urlsplit

from .fields import CHOICE_TYPES, LINK_TYPES, MULTI_CHOICE_TYPES, NUMBER_TYPES, TEXT_TYPES, Field, Option
from .patterns import PatternError, PatternTimeout, search

_TRUE = {"true", "yes", "on", "1", "y", "checked", "x"}
_FALSE = {"false", "no", "off", "0", "n", "unchecked", ""}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
_URL_SCHEMES = ("http", "https", "ftp", "sftp", "s3", "doi")
# The spellings we accept, on every Python: 3.11+ fromisoformat alone would also take
# "20250613", week dates or "0930", and 3.10 would not.
_TIME_TEXT = r"\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?"
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_TIME_RE = re.compile(_TIME_TEXT, re.ASCII)
_DATETIME_RE = re.compile(rf"\d{{4}}-\d{{2}}-\d{{2}}(?:[T ]{_TIME_TEXT})?", re.ASCII)


MAX_NUMBER = 10 ** 300  # beyond any measurement; keeps conversions to text and float safe


class ValueProblem(ValueError):
    """A raw answer cannot become a value of its field."""


def is_blank(value: Any) -> bool:
    """True for answers that mean "nothing entered"."""
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def coerce(field: Field, raw: Any, now: dt.datetime | None = None) -> Any:
    """The canonical value of ``raw`` for ``field``; raises ValueProblem with a readable message."""
    kind = field.type
    if kind == "checkbox":
        return _checkbox(raw)
    if is_blank(raw):
        return None
    if kind in TEXT_TYPES or kind in LINK_TYPES:
        return _text(raw)
    if kind in NUMBER_TYPES:
        return _number(raw, integer=kind == "integer")
    if kind == "date":
        return _date(raw, now)
    if kind == "time":
        return _time(raw, now)
    if kind == "datetime":
        return _datetime(raw, now)
    if kind in CHOICE_TYPES:
        return _choice(field, _text(raw))
    if kind in MULTI_CHOICE_TYPES:
        return _choices(field, raw)
    raise ValueProblem(f"has an unsupported type '{kind}'")


def constraint_problems(field: Field, value: Any, now: dt.datetime | None = None) -> list[str]:
    """Why a canonical, non-blank value breaks the field's constraints (empty when it does not)."""
    problems: list[str] = []
    if isinstance(value, str) and field.type in TEXT_TYPES + LINK_TYPES:
        if field.min_length is not None and len(value) < field.min_length:
            problems.append(f"must be at least {field.min_length} characters long (it has {len(value)})")
        too_long = field.max_length is not None and len(value) > field.max_length
        if too_long:
            problems.append(f"must be at most {field.max_length} characters long (it has {len(value)})")
        if field.pattern and not too_long:  # a too-long answer is wrong anyway: never spend time matching it
            problems.extend(_pattern_problems(field.pattern, value))
        if field.type == "email" and not _EMAIL.match(value):
            problems.append("must be an email address like name@example.org")
        if field.type == "url" and not _is_url(value):
            problems.append("must be a web address like https://example.org/page")
    if field.type in NUMBER_TYPES and value is not None:
        problems.extend(_number_problems(field, value))
    if field.type in ("date", "time", "datetime") and value is not None:
        low, high = (bound_value(field, b, now) for b in (field.minimum, field.maximum))
        if low is not None and value < low:
            problems.append(f"must not be before {low}")
        if high is not None and value > high:
            problems.append(f"must not be after {high}")
    if field.is_multi and isinstance(value, list):
        count = len(value)
        if field.min_selections is not None and count < field.min_selections:
            problems.append(f"needs at least {field.min_selections} selections (has {count})")
        if field.max_selections is not None and count > field.max_selections:
            problems.append(f"allows at most {field.max_selections} selections (has {count})")
    return problems


def _pattern_problems(pattern: str, value: str) -> list[str]:
    """Why ``value`` breaks the field's pattern, checked within the time limit of :mod:`.patterns`."""
    try:
        if search(pattern, value):
            return []
    except PatternTimeout:
        return [f"could not be checked against the expected format {pattern} in time (the pattern is too "
                "slow for this answer: shorten the answer, or ask the template's author to simplify the pattern)"]
    except PatternError as exc:
        return [f"cannot be checked: the field's {exc}"]
    return [f"does not match the expected format {pattern}"]


def bound_value(field: Field, bound: Any, now: dt.datetime | None = None) -> Any:
    """A date/time bound or default as a canonical value (``today``/``now`` resolved)."""
    if bound is None:
        return None
    return coerce(field, bound, now)


def _checkbox(raw: Any) -> bool:
    if raw is None:
        return False
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ValueProblem(f"must be checked or unchecked (yes/no), not {_show(raw)}")


def _text(raw: Any) -> str:
    if isinstance(raw, str):
        try:
            raw.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueProblem("contains characters that are not valid Unicode text") from None
        return raw.strip()
    if isinstance(raw, bool) or isinstance(raw, (list, dict, set, tuple)):
        raise ValueProblem(f"must be text, not {_show(raw)}")
    if isinstance(raw, int) and abs(raw) > MAX_NUMBER:
        raise ValueProblem("is a number too large to store as text")
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


def _number(raw: Any, integer: bool) -> int | float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        raise ValueProblem(f"must be a number, not {_show(raw)}")
    if isinstance(raw, int) and abs(raw) > MAX_NUMBER or isinstance(raw, str) and len(raw) > 400:
        raise ValueProblem("is too large a number")
    if isinstance(raw, str):
        text = raw.strip().replace("\u2212", "-")
        if "," in text and "." not in text and text.count(",") == 1:
            text = text.replace(",", ".")  # decimal comma, as typed in many labs
        try:
            number: int | float = int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
        except ValueError:
            raise ValueProblem(f"must be a number, not {_show(raw)}") from None
    else:
        if isinstance(raw, Decimal) and not raw.is_finite():
            raise ValueProblem("must be a finite number")
        number = raw if isinstance(raw, int) else float(raw)
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueProblem("must be a finite number")
    if integer:
        if isinstance(number, float):
            if not number.is_integer():
                raise ValueProblem(f"must be a whole number, not {_show(raw)}")
            number = int(number)
    return number


def _number_problems(field: Field, value: int | float) -> list[str]:
    problems: list[str] = []
    unit = f" {field.unit}" if field.unit else ""
    if field.minimum is not None and value < field.minimum:
        problems.append(f"must be at least {_fmt(field.minimum)}{unit}")
    if field.maximum is not None and value > field.maximum:
        problems.append(f"must be at most {_fmt(field.maximum)}{unit}")
    if field.step:
        base = field.minimum if isinstance(field.minimum, (int, float)) else 0
        ratio = (Decimal(str(value)) - Decimal(str(base))) / Decimal(str(field.step))
        if ratio != ratio.to_integral_value():
            problems.append(f"must be in steps of {_fmt(field.step)}{unit}"
                            + (f" from {_fmt(base)}" if base else ""))
    if field.precision is not None and isinstance(value, float):
        exponent = Decimal(repr(value)).normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > field.precision:
            problems.append(f"allows at most {field.precision} decimal places")
    return problems


def _fmt(number: Any) -> str:
    return str(int(number)) if isinstance(number, float) and number.is_integer() else str(number)


def _now(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now()).replace(microsecond=0)


def _date(raw: Any, now: dt.datetime | None) -> str:
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    text = _text(raw)
    if text.lower() in ("today", "now"):
        return _now(now).date().isoformat()
    try:
        if not _DATE_RE.fullmatch(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueProblem(f"must be a date like 2025-06-13, not {_show(raw)}") from None


def _time(raw: Any, now: dt.datetime | None) -> str:
    if isinstance(raw, dt.time):
        return _canonical_time(raw)
    text = _text(raw)
    if text.lower() == "now":
        return _canonical_time(_now(now).time())
    try:
        if not _TIME_RE.fullmatch(text):
            raise ValueError(text)
        parsed = dt.time.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueProblem(f"must be a time like 09:30, not {_show(raw)}") from None
    if parsed.tzinfo is not None:
        raise ValueProblem("must be a local time without a time zone")
    return _canonical_time(parsed)


def _canonical_time(value: dt.time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def _datetime(raw: Any, now: dt.datetime | None) -> str:
    if isinstance(raw, dt.datetime):
        parsed = raw
    elif isinstance(raw, dt.date):
        parsed = dt.datetime.combine(raw, dt.time())
    else:
        text = _text(raw)
        if text.lower() in ("now", "today"):
            parsed = _now(now) if text.lower() == "now" else dt.datetime.combine(_now(now).date(), dt.time())
        else:
            try:
                if not _DATETIME_RE.fullmatch(text):
                    raise ValueError(text)
                parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise ValueProblem(f"must be a date and time like 2025-06-13T09:30, not {_show(raw)}") from None
    if parsed.tzinfo is not None:
        raise ValueProblem("must be a local date and time without a time zone")
    return f"{parsed.date().isoformat()}T{_canonical_time(parsed.time())}"


def _choice(field: Field, text: str) -> str:
    if not field.options:  # options come from a named source at form time
        return text
    match = _match_option(field.options, text)
    if match is None:
        raise ValueProblem(f"must be one of: {_list_options(field.options)} (got {_show(text)})")
    return match


def _choices(field: Field, raw: Any) -> list[str] | None:
    if isinstance(raw, str):
        text = raw.strip()
        items: Sequence[Any] = [text] if _match_option(field.options, text) is not None else text.split(",")
    elif isinstance(raw, (list, tuple, set)):
        items = list(raw)
    else:
        items = [raw]
    chosen: list[str] = []
    for item in items:
        if is_blank(item):
            continue
        value = _choice(field, _text(item))
        if value not in chosen:
            chosen.append(value)
    return chosen or None


def _match_option(options: Sequence[Option], text: str) -> str | None:
    text = unicodedata.normalize("NFC", text)
    for option in options:
        if text == option.value:
            return option.value
    folded = text.casefold()
    for option in options:
        if folded in (unicodedata.normalize("NFC", option.value).casefold(),
                      unicodedata.normalize("NFC", option.label).casefold()):
            return option.value
    return None


def _list_options(options: Sequence[Option], limit: int = 12) -> str:
    values = [option.value for option in options]
    shown = ", ".join(values[:limit])
    return shown + (f" ... ({len(values) - limit} more)" if len(values) > limit else "")


def _is_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    if parts.scheme.lower() == "doi":
        return bool(parts.path)
    return parts.scheme.lower() in _URL_SCHEMES and bool(parts.netloc) and " " not in text


def _show(raw: Any) -> str:
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) > MAX_NUMBER:
        return "a very large number"
    text = repr(raw) if not isinstance(raw, str) else f"'{raw}'"
    return text if len(text) <= 60 else text[:57] + "...'"
