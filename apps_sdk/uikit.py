"""UIKit block builders and interaction responses producing Rocket.Chat's JSON.

    from apps_sdk import uikit as ui
    blocks = [ui.section(ui.mrkdwn("*Lunch?*"), accessory=ui.button("Vote", "vote", value="yes")),
              ui.actions([ui.static_select("choice", [ui.option("Pizza", "p"), ui.option("Sushi", "s")])])]
"""
from __future__ import annotations

from typing import Any

Block = dict[str, Any]


def plain(text: str, emoji: bool = True) -> dict:
    return {"type": "plain_text", "text": text, "emoji": emoji}


def mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


def _text(value: str | dict) -> dict:
    return plain(value) if isinstance(value, str) else value


def _clean(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


def option(text: str, value: str, description: str | None = None) -> dict:
    return _clean({"text": plain(text), "value": value,
                   "description": plain(description) if description else None})


# -- elements -------------------------------------------------------------------------------------
def button(text: str, action_id: str, *, value: str | None = None, url: str | None = None,
           style: str | None = None, block_id: str | None = None) -> dict:
    if style not in (None, "primary", "secondary", "danger", "warning", "success"):
        raise ValueError(f"unknown button style {style!r}")
    return _clean({"type": "button", "text": plain(text), "actionId": action_id, "value": value, "url": url,
                   "style": style, "blockId": block_id})


def static_select(action_id: str, options: list[dict], *, placeholder: str = "Select",
                  initial_value: str | None = None) -> dict:
    return _clean({"type": "static_select", "actionId": action_id, "options": options,
                   "placeholder": plain(placeholder), "initialValue": initial_value})


def multi_static_select(action_id: str, options: list[dict], *, placeholder: str = "Select",
                        initial_value: list[str] | None = None) -> dict:
    return _clean({"type": "multi_static_select", "actionId": action_id, "options": options,
                   "placeholder": plain(placeholder), "initialValue": initial_value})


def plain_text_input(action_id: str, *, placeholder: str | None = None, initial_value: str | None = None,
                     multiline: bool = False, min_length: int | None = None,
                     max_length: int | None = None) -> dict:
    return _clean({"type": "plain_text_input", "actionId": action_id,
                   "placeholder": plain(placeholder) if placeholder else None, "initialValue": initial_value,
                   "multiline": multiline or None, "minLength": min_length, "maxLength": max_length})


def overflow(action_id: str, options: list[dict]) -> dict:
    return {"type": "overflow", "actionId": action_id, "options": options}


def datepicker(action_id: str, *, initial_date: str | None = None, placeholder: str | None = None) -> dict:
    return _clean({"type": "datepicker", "actionId": action_id, "initialDate": initial_date,
                   "placeholder": plain(placeholder) if placeholder else None})


def image_element(image_url: str, alt_text: str) -> dict:
    return {"type": "image", "imageUrl": image_url, "altText": alt_text}


# -- layout blocks ----------------------------------------------------------------------------------
def section(text: str | dict, *, fields: list[dict] | None = None, accessory: dict | None = None,
            block_id: str | None = None) -> Block:
    return _clean({"type": "section", "text": _text(text), "fields": fields, "accessory": accessory,
                   "blockId": block_id})


def actions(elements: list[dict], block_id: str | None = None) -> Block:
    return _clean({"type": "actions", "elements": elements, "blockId": block_id})


def context(elements: list[dict | str], block_id: str | None = None) -> Block:
    return _clean({"type": "context", "elements": [_text(e) if isinstance(e, str) else e for e in elements],
                   "blockId": block_id})


def input_block(label: str, element: dict, *, hint: str | None = None, optional: bool = False,
                block_id: str | None = None) -> Block:
    return _clean({"type": "input", "label": plain(label), "element": element,
                   "hint": plain(hint) if hint else None, "optional": optional or None, "blockId": block_id})


def divider(block_id: str | None = None) -> Block:
    return _clean({"type": "divider", "blockId": block_id})


def image(image_url: str, alt_text: str, *, title: str | None = None, block_id: str | None = None) -> Block:
    return _clean({"type": "image", "imageUrl": image_url, "altText": alt_text,
                   "title": plain(title) if title else None, "blockId": block_id})


def with_app_id(blocks: list[Block], app_id: str) -> list[Block]:
    """Every block and interactive element carries the app id (clients route interactions by it)."""
    out = []
    for b in blocks:
        b = {**b, "appId": app_id}
        if "elements" in b:
            b["elements"] = [{**e, "appId": app_id} if "actionId" in e else e for e in b["elements"]]
        for key in ("accessory", "element"):
            if isinstance(b.get(key), dict) and "actionId" in b[key]:
                b[key] = {**b[key], "appId": app_id}
        out.append(b)
    return out


# -- surfaces and interaction responses ---------------------------------------------------------
def modal(view_id: str, title: str, blocks: list[Block], *, submit: str | None = "Submit",
          close: str | None = "Cancel") -> dict:
    return _clean({"id": view_id, "type": "modal", "title": plain(title), "blocks": blocks,
                   "submit": button(submit, "submit", style="primary") if submit else None,
                   "close": button(close, "close") if close else None, "showIcon": True})


def contextual_bar(view_id: str, title: str, blocks: list[Block]) -> dict:
    return {"id": view_id, "type": "contextualBar", "title": plain(title), "blocks": blocks}


def success() -> dict:
    return {"success": True}


def open_modal(view: dict) -> dict:
    return {"success": True, "type": "modal.open", "view": {**view, "type": "modal"}}


def update_modal(view: dict) -> dict:
    return {"success": True, "type": "modal.update", "view": {**view, "type": "modal"}}


def open_contextual_bar(view: dict) -> dict:
    return {"success": True, "type": "contextual_bar.open", "view": {**view, "type": "contextualBar"}}


def view_errors(view_id: str, errors: dict[str, str]) -> dict:
    return {"success": False, "type": "errors", "viewId": view_id, "errors": errors}
