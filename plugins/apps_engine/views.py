"""Records in the shapes Rocket.Chat's `/api/apps` clients expect."""
from __future__ import annotations

from typing import Any

INFO_FIELDS = ("id", "name", "nameSlug", "version", "description", "author", "requiredApiVersion", "classFile",
               "iconFile", "permissions", "implements")


def settings_view(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {sid: {"id": sid, **s} for sid, s in (record.get("settings") or {}).items() if not s.get("hidden")}


def app_view(record: dict[str, Any], *, with_settings: bool = False) -> dict[str, Any]:
    info = record.get("info") or {}
    out: dict[str, Any] = {k: info[k] for k in INFO_FIELDS if k in info}
    out.update({"status": record.get("status", "unknown"), "languages": record.get("languageContent") or {},
                "private": record.get("installationSource", "private") == "private",
                "installedAt": record.get("installedAt") or record.get("createdAt"),
                "updatedAt": record.get("updatedAt"), "migrated": bool(record.get("migrated")),
                "permissionsGranted": record.get("permissionsGranted", [])})
    if record.get("iconFileContent"):
        out["iconFileContent"] = record["iconFileContent"]
    if with_settings:
        out["settings"] = settings_view(record)
    return out


def install_view(record: dict[str, Any]) -> dict[str, Any]:
    """`POST /api/apps` answer: `{app, implemented, licenseValidation}`."""
    return {"app": app_view(record), "implemented": record.get("implemented") or {},
            "licenseValidation": {"errors": {}, "warnings": {}}}


def log_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {"_id": doc["_id"], "appId": doc["appId"], "method": doc.get("method"), "entries": doc.get("entries", []),
            "instanceId": doc.get("instanceId"), "_createdAt": doc.get("_createdAt"),
            "_updatedAt": doc.get("_updatedAt")}
