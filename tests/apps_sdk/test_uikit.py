"""UIKit builders produce Rocket.Chat's block JSON."""
import pytest

from apps_sdk import uikit as ui


def test_section_with_button_accessory_and_app_id():
    blocks = ui.with_app_id([ui.section(ui.mrkdwn("*Lunch?*"), accessory=ui.button("Vote", "vote", value="y",
                                                                                    style="primary"))], "poll")
    assert blocks == [{"type": "section", "text": {"type": "mrkdwn", "text": "*Lunch?*"}, "appId": "poll",
                       "accessory": {"type": "button", "text": {"type": "plain_text", "text": "Vote", "emoji": True},
                                     "actionId": "vote", "value": "y", "style": "primary", "appId": "poll"}}]


def test_actions_selects_overflow_datepicker():
    opts = [ui.option("Pizza", "p"), ui.option("Sushi", "s", description="raw")]
    block = ui.actions([ui.static_select("one", opts, initial_value="p"), ui.multi_static_select("many", opts),
                        ui.overflow("more", opts), ui.datepicker("when", initial_date="2026-12-01")], block_id="b1")
    kinds = [e["type"] for e in block["elements"]]
    assert kinds == ["static_select", "multi_static_select", "overflow", "datepicker"]
    assert block["blockId"] == "b1"
    assert opts[1]["description"] == {"type": "plain_text", "text": "raw", "emoji": True}
    assert block["elements"][3]["initialDate"] == "2026-12-01"


def test_input_context_divider_image_and_modal_response():
    view = ui.modal("v1", "Feedback", [
        ui.input_block("Comment", ui.plain_text_input("comment", multiline=True, max_length=200), optional=True),
        ui.context(["small print", ui.image_element("https://x/i.png", "i")]),
        ui.divider(), ui.image("https://x/big.png", "big", title="Big"),
    ])
    resp = ui.open_modal(view)
    assert resp["type"] == "modal.open" and resp["view"]["type"] == "modal" and resp["success"] is True
    assert [b["type"] for b in view["blocks"]] == ["input", "context", "divider", "image"]
    assert view["blocks"][0]["element"] == {"type": "plain_text_input", "actionId": "comment", "multiline": True,
                                            "maxLength": 200}
    assert ui.view_errors("v1", {"comment": "too short"}) == {
        "success": False, "type": "errors", "viewId": "v1", "errors": {"comment": "too short"}}


def test_unknown_button_style_refused():
    with pytest.raises(ValueError):
        ui.button("x", "y", style="blinking")
