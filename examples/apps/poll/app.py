"""Poll: `/poll Lunch? | Pizza | Sushi` posts a message with a button per option; `/poll` alone opens a modal
form that does the same on submit. A click is a UIKit block action: the vote (one per user, changeable) is
stored in the app's persistence, the poll message is updated with the counts and the voter gets an ephemeral
confirmation.

Persistence records: the poll under `poll:<message id>`; each vote under `votes:<message id>` and
`vote:<message id>:<user id>` (so changing a vote replaces exactly one record); an open form under
`form:<view id>` (who opened it, in which room).
"""
from __future__ import annotations

import uuid
from typing import Any

from apps_sdk import App, CommandContext, Configuration, SlashCommand
from apps_sdk import uikit as ui

USAGE = "Usage: /poll Question? | first option | second option (2 to 10 options)"
MAX_OPTIONS = 10


def parse(params: str) -> tuple[str, list[str]] | None:
    question, *options = [part.strip() for part in params.split("|")]
    options = [o for o in options if o]
    if not question or not 2 <= len(options) <= MAX_OPTIONS:
        return None
    return question, options


def tally(poll: dict, votes: list[dict]) -> list[int]:
    counts = [0] * len(poll["options"])
    for vote in votes:
        if 0 <= vote.get("option", -1) < len(counts):
            counts[vote["option"]] += 1
    return counts


def summary(poll: dict, counts: list[int]) -> str:
    return " · ".join(f"{option} {count}" for option, count in zip(poll["options"], counts))


def render(poll: dict, counts: list[int], app_id: str) -> list[dict]:
    total = sum(counts)
    buttons = [ui.button(option, "vote", value=str(i)) for i, option in enumerate(poll["options"])]
    return ui.with_app_id([
        ui.section(ui.mrkdwn(f"*{poll['question']}*")),
        ui.actions(buttons, block_id="poll-options"),
        ui.context([ui.mrkdwn(f"{summary(poll, counts)}  ({total} vote{'s' if total != 1 else ''}, "
                              f"poll by @{poll['by']})")]),
    ], app_id)


def form(view_id: str) -> dict:
    return ui.modal(view_id, "New poll", [
        ui.input_block("Question", ui.plain_text_input("question", placeholder="Lunch?"), block_id="question"),
        ui.input_block("Options, one per line", ui.plain_text_input("options", multiline=True), block_id="options"),
    ], submit="Create")


class PollApp(App):
    def extend_configuration(self, config: Configuration) -> None:
        config.slash_command(SlashCommand("poll", self.start_poll, description="Start a poll",
                                          params_example="Question? | option | option"))

    async def start_poll(self, ctx: CommandContext) -> None:
        if not ctx.args and ctx.trigger_id:
            await self.open_form(ctx)
            return
        parsed = parse(" ".join(ctx.args))
        if parsed is None:
            await self.modifier.notify_user(ctx.sender["_id"], ctx.room["_id"], USAGE)
            return
        await self.post_poll(ctx.room["_id"], ctx.sender["username"], *parsed)

    async def post_poll(self, rid: str, by: str, question: str, options: list[str]) -> None:
        poll = {"question": question, "options": options, "rid": rid, "by": by}
        message = await self.modifier.send_message(rid, question, blocks=render(poll, [0] * len(options), self.id))
        await self.persistence.create({**poll, "mid": message["_id"]}, [f"poll:{message['_id']}"])

    # -- the modal form -------------------------------------------------------------------------------------
    async def open_form(self, ctx: CommandContext) -> None:
        view_id = f"poll-form-{uuid.uuid4().hex}"
        await self.persistence.create({"rid": ctx.room["_id"], "uid": ctx.sender["_id"]}, [f"form:{view_id}"])
        await self.ui.open_modal(form(view_id), ctx.trigger_id, ctx.sender["_id"])

    async def on_view_submit(self, interaction: dict) -> dict | None:
        view = (interaction.get("payload") or {}).get("view") or {}
        view_id = str(interaction.get("viewId") or view.get("id") or "")
        forms = await self.persistence.find(f"form:{view_id}") if view_id.startswith("poll-form-") else []
        user = interaction.get("user") or {}
        if not forms or forms[0]["uid"] != user.get("_id"):
            return {"success": False, "error": "This form has expired"}
        state = view.get("state") or {}
        question = str((state.get("question") or {}).get("question") or "").strip()
        lines = str((state.get("options") or {}).get("options") or "").splitlines()
        options = [line.strip() for line in lines if line.strip()]
        errors = {}
        if not question:
            errors["question"] = "Ask a question"
        if not 2 <= len(options) <= MAX_OPTIONS:
            errors["options"] = f"Give 2 to {MAX_OPTIONS} options, one per line"
        if errors:
            return ui.view_errors(view_id, errors)
        await self.persistence.remove_by_association(f"form:{view_id}")
        await self.post_poll(forms[0]["rid"], user["username"], question, options)
        return ui.success()

    async def on_block_action(self, interaction: dict) -> dict | None:
        if interaction.get("actionId") != "vote":
            return None
        mid = interaction.get("mid") or (interaction.get("container") or {}).get("id") or ""
        polls = await self.persistence.find(f"poll:{mid}") if mid else []
        value = str((interaction.get("payload") or {}).get("value", ""))
        if not polls or not value.isdigit() or int(value) >= len(polls[0]["options"]):
            return {"success": False, "error": "Unknown poll or option"}
        poll, option, user = polls[0], int(value), interaction["user"]
        await self.persistence.remove_by_association(f"vote:{mid}:{user['_id']}")
        await self.persistence.create({"option": option, "username": user["username"]},
                                      [f"votes:{mid}", f"vote:{mid}:{user['_id']}"])
        counts = tally(poll, await self.persistence.find(f"votes:{mid}"))
        await self._refresh(poll, counts)
        await self.modifier.notify_user(user["_id"], poll["rid"], f"You voted for \"{poll['options'][option]}\". "
                                        f"Now: {summary(poll, counts)}")
        return ui.success()

    async def _refresh(self, poll: dict[str, Any], counts: list[int]) -> None:
        """Show the counts on the poll message. A vote still counts if the message cannot be updated."""
        try:
            await self.modifier.update_message(poll["mid"], poll["question"], blocks=render(poll, counts, self.id))
        except Exception:
            self.logger.exception("could not update poll message %s", poll["mid"])
