"""Pure text helpers: mentions and channel references, reaction names, dates, chat.search syntax.

Nothing here touches the database; every regex that runs on client text is built from `re.escape`d input
or from the server's own patterns.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from core.errors import MeteorError

DEFAULT_NAME_PATTERN = "[0-9a-zA-Z-_.]+"
GROUP_MENTIONS = ("all", "here")
EMOJI_NAME = re.compile(r"^[A-Za-z0-9_+\-]{1,64}$")


def _compile(pattern: str, sigil: str) -> re.Pattern[str]:
    try:
        re.compile(pattern)
    except re.error:
        pattern = DEFAULT_NAME_PATTERN
    # Rocket.Chat's MentionsParser: a mention starts the text or follows whitespace or `>` (quotes).
    return re.compile(rf"(?:^|(?<=[\s>(\[]))[{sigil}]({pattern}(?:@{pattern})?)", re.MULTILINE)


@dataclass
class MentionParser:
    user_pattern: str = DEFAULT_NAME_PATTERN
    channel_pattern: str = DEFAULT_NAME_PATTERN
    _users: re.Pattern[str] = field(init=False, repr=False)
    _channels: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._users = _compile(self.user_pattern, "@")
        self._channels = _compile(self.channel_pattern, "#")

    def usernames(self, text: str) -> list[str]:
        """`@name` references in order of first appearance (trailing sentence dots dropped)."""
        return _unique(m.rstrip(".") for m in self._users.findall(text or ""))

    def channel_names(self, text: str) -> list[str]:
        return _unique(m.rstrip(".") for m in self._channels.findall(text or ""))


def _unique(items: Any) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        if item and item not in seen:
            seen[item] = None
    return list(seen)


# Rocket.Chat's getMessageUrlRegex: scheme://[user@]host[:port][/path][?query][#fragment]
URL_PATTERN = re.compile(r"([A-Za-z]{3,9}):\/\/([-;:&=\+\$,\w]+@{1})?([-A-Za-z0-9\.]+)+:?(\d+)?"
                         r"((\/[-\+=!:~%\/\.@\,\(\)\w]*)?\??([-\+=&!:;%@\/\.\,\w]+)?(?:#([^\s\)]+))?)?")
MAX_URLS = 20


def urls_in(text: str) -> list[dict[str, str]]:
    """`urls` of a message (parseUrlsInMessage): each distinct link, in order, as `{url}`."""
    if not text or "://" not in text:
        return []
    found = (m.group(0).rstrip(".,;:!?") for m in URL_PATTERN.finditer(text))   # sentence punctuation
    return [{"url": u} for u in _unique(found)][:MAX_URLS]


def reaction_key(raw: str) -> str:
    """`smile`, `:smile:` or `::smile::` -> `:smile:`; anything that is not an emoji name is refused.

    The name becomes part of an update path (`reactions.:smile:.usernames`), so dots and `$` must never
    get through.
    """
    name = raw.replace(":", "") if isinstance(raw, str) else ""
    if not EMOJI_NAME.match(name):
        raise MeteorError("error-not-allowed", "Invalid emoji provided.", {"method": "setReaction"})
    return f":{name}:"


def parse_date(value: Any, name: str) -> datetime:
    """An ISO-8601 string (what REST clients send) or a datetime (DDP) as an aware UTC datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, str) and value:
        text = value.strip()
        if re.fullmatch(r"\d{10,15}", text):
            return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise MeteorError("error-invalid-date", f"The \"{name}\" parameter must be a valid date")


# -- chat.search ------------------------------------------------------------------------------------

@dataclass
class SearchQuery:
    """What `chat.search` text means: a predicate over messages plus an optional `ts` range and order."""

    predicate: Callable[[dict], bool]
    after: datetime | None = None
    before: datetime | None = None
    ascending: bool = False


def _day(text: str) -> datetime | None:
    for fmt in ("%d-%m-%Y", "%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def parse_search(text: str, user: dict) -> SearchQuery:
    """Rocket.Chat's search operators (`from:`, `mention:`, `has:star`, `is:pinned`, `has:url`,
    `before:`/`after:`/`on:` dates, `order:asc`); the rest is matched literally, case-insensitively.
    A `/regex/` is searched as literal text: a client never supplies a pattern."""
    tests: list[Callable[[dict], bool]] = []
    query = SearchQuery(predicate=lambda m: True)
    words: list[str] = []
    for token in text.split():
        key, _, value = token.partition(":")
        key = key.lower()
        if value and key == "from":
            name = user.get("username") if value == "me" else value.lstrip("@")
            tests.append(lambda m, n=name: (m.get("u") or {}).get("username") == n)
        elif value and key == "mention":
            name = user.get("username") if value == "me" else value.lstrip("@")
            tests.append(lambda m, n=name: any(x.get("username") == n for x in m.get("mentions") or ()))
        elif key in ("has", "is") and value.lower() in ("star", "starred"):
            uid = user.get("_id")
            tests.append(lambda m, u=uid: any(s.get("_id") == u for s in m.get("starred") or ()))
        elif key in ("has", "is") and value.lower() in ("pin", "pinned"):
            tests.append(lambda m: m.get("pinned") is True)
        elif key == "has" and value.lower() in ("url", "link"):
            tests.append(lambda m: bool(m.get("urls")) or "http" in (m.get("msg") or ""))
        elif key in ("before", "after", "on") and _day(value) is not None:
            day = _day(value)
            assert day is not None
            if key == "before":
                query.before = day
            elif key == "after":
                query.after = day + timedelta(days=1)
            else:
                query.after, query.before = day, day + timedelta(days=1)
        elif key == "order" and value.lower() in ("asc", "desc"):
            query.ascending = value.lower() == "asc"
        else:
            words.append(token)
    phrase = " ".join(words).strip()
    if phrase:
        if len(phrase) > 2 and phrase.startswith("/") and phrase.rstrip("imxs").endswith("/"):
            phrase = phrase.rstrip("imxs")[1:-1]
        needle = re.compile(re.escape(phrase), re.IGNORECASE)
        tests.append(lambda m: bool(needle.search(m.get("msg") or "")))
    query.predicate = lambda m: all(t(m) for t in tests)
    return query
