"""Word filter: refuses messages containing a banned word, masks the softer ones (both lists are settings).

The lists are read once and then kept up to date by `on_settings_updated`, so a message costs no extra
round trip to the server.
"""
from __future__ import annotations

import re
from typing import Any

from apps_sdk import App

SETTINGS = ("banned_words", "masked_words", "mask")


def word_pattern(words: str) -> re.Pattern | None:
    """A case-insensitive pattern matching any of the comma-separated words as whole words."""
    items = sorted({w.strip() for w in (words or "").split(",") if w.strip()}, key=len, reverse=True)
    if not items:
        return None
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(w) for w in items) + r")(?!\w)", re.IGNORECASE)


def mask_word(word: str, mask: str) -> str:
    """Keep the first and last letters: darn → d**n (short words are masked entirely)."""
    if len(word) <= 2:
        return mask * len(word)
    return word[0] + mask * (len(word) - 2) + word[-1]


class WordFilterApp(App):
    values: dict[str, Any] | None = None

    async def _settings(self) -> dict[str, Any]:
        if self.values is None:
            self.values = {sid: await self.settings.get(sid) for sid in SETTINGS}
        return self.values

    async def on_settings_updated(self, setting_id: str, value: Any) -> None:
        if self.values is not None:
            self.values[setting_id] = value

    async def pre_message_sent_prevent(self, message: dict, room: dict, ctx: Any) -> str | bool:
        pattern = word_pattern((await self._settings())["banned_words"])
        found = pattern.search(message.get("msg") or "") if pattern else None
        if found:
            self.logger.info("refused a message in %s: contains %r", room.get("name"), found.group(1).lower())
            return f"Your message contains a banned word ({found.group(1).lower()})"
        return False

    async def pre_message_sent_modify(self, message: dict, room: dict, ctx: Any) -> dict | None:
        values = await self._settings()
        pattern = word_pattern(values["masked_words"])
        text = message.get("msg") or ""
        if pattern is None or not pattern.search(text):
            return None
        mask = (values.get("mask") or "*")[:1]
        return {**message, "msg": pattern.sub(lambda m: mask_word(m.group(1), mask), text)}
