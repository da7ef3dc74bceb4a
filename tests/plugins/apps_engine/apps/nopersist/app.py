"""Test app: tries accessors it holds no permission for and reports what happened."""
from apps_sdk import App, Configuration, Endpoint


class NoPersist(App):
    def extend_configuration(self, config: Configuration) -> None:
        config.endpoint(Endpoint("try", self.attempt, methods=("POST",)))

    async def attempt(self, request):
        area, method = request["content"]["accessor"].split(".")
        try:
            result = await getattr(getattr(self, area), method)(*request["content"].get("args", []))
            return {"status": 200, "content": {"allowed": True, "result": result}}
        except Exception as exc:
            return {"status": 200, "content": {"allowed": False, "error": str(exc)}}
