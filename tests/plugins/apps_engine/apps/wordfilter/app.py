"""Test app: refuses messages containing BANNED, replaces RUDE, counts refusals in its persistence."""
from apps_sdk import App, Configuration, Endpoint, SlashCommand

BANNED = "badword"
RUDE = "darn"


class WordFilter(App):
    async def pre_message_sent_prevent(self, message, room, ctx):
        if BANNED in (message.get("msg") or ""):
            await self.persistence.create({"rid": room["_id"], "text": message["msg"]}, ["refused"])
            return f"contains {BANNED}"
        return False

    async def pre_message_sent_modify(self, message, room, ctx):
        text = message.get("msg") or ""
        if RUDE in text:
            replacement = await self.settings.get("replacement")
            return {**message, "msg": text.replace(RUDE, replacement)}
        return None

    def extend_configuration(self, config: Configuration) -> None:
        config.slash_command(SlashCommand("filterstats", self.stats_command, description="Refusal count",
                                          params_example="[room]"))
        config.endpoint(Endpoint("stats", self.stats_endpoint, methods=("GET", "POST")))
        config.endpoint(Endpoint("items/:item", self.item_endpoint, methods=("GET",)))

    async def refused(self):
        return await self.persistence.find("refused")

    async def stats_command(self, ctx):
        records = await self.refused()
        await self.modifier.send_message(ctx.room["_id"], f"refused {len(records)} (args {' '.join(ctx.args)})")

    async def stats_endpoint(self, request):
        records = await self.refused()
        return {"status": 200, "headers": {"X-Filter": BANNED},
                "content": {"refused": len(records), "method": request["method"], "query": request["query"],
                            "body": request.get("content"), "user": (request.get("user") or {}).get("username"),
                            "sawToken": "x-auth-token" in request["headers"]}}

    async def item_endpoint(self, request):
        return {"status": 201, "content": f"item {request['params']['item']}"}
