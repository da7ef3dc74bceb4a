"""Test app with the default permission set: an endpoint that runs any accessor, a job processor that
records its runs, and a post-send hook that remembers the last message it saw."""
from apps_sdk import App, Configuration, Endpoint, Processor, SlashCommand


class Toolbox(App):
    def extend_configuration(self, config: Configuration) -> None:
        config.endpoint(Endpoint("call", self.call, methods=("POST",)))
        config.processor(Processor("tick", self.tick))
        config.slash_command(SlashCommand("pick", self.pick, previewer=self.options, preview_executor=self.chosen))

    async def call(self, request):
        body = request["content"]
        area, method = body["accessor"].split(".")
        try:
            result = await getattr(getattr(self, area), method)(*body.get("args", []), **body.get("kwargs", {}))
            return {"status": 200, "content": {"ok": True, "result": result}}
        except Exception as exc:
            return {"status": 200, "content": {"ok": False, "error": str(exc)}}

    async def tick(self, job):
        await self.persistence.create({"job": job["jobId"], "note": job.get("note")}, ["ticks"])

    async def post_message_sent(self, message, room, ctx):
        await self.persistence.create({"msg": message["msg"], "by": ctx["user"]["username"]}, ["seen"])

    async def on_settings_updated(self, setting_id, value):
        await self.persistence.create({"setting": setting_id, "value": value}, ["settings"])

    async def options(self, ctx):
        return [{"id": "1", "type": "text", "value": "one " + " ".join(ctx.args)}]

    async def pick(self, ctx):
        return None

    async def chosen(self, ctx, item):
        await self.modifier.notify_user(ctx.sender["_id"], ctx.room["_id"], "picked " + item["value"])
