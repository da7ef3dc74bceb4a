"""The REST route table of the rooms service: channels.*, groups.*, im.* / dm.*, rooms.*, subscriptions.*."""
from __future__ import annotations

from core.rest import Route
from plugins.rooms import schemas as s
from plugins.rooms.routes_im import DirectRoutes
from plugins.rooms.routes_misc import MiscRoutes
from plugins.rooms.routes_rooms import FILTERS, SORTS, RoomRoutes
from plugins.rooms.service import RoomsService


def room_routes(r: RoomRoutes) -> list[Route]:
    p = r.prefix
    listing = {"paginated": True, "query": s.NO_QUERY, "filter_fields": FILTERS, "sort_fields": SORTS}
    routes = [
        Route("POST", f"{p}.create", r.create, body=s.CREATE),
        Route("GET", f"{p}.info", r.info, query=s.ROOM_ONLY),
        Route("GET", f"{p}.list", r.list, **listing,
              any_permission=("view-c-room", "view-joined-room") if r.kind == "c" else ()),
        Route("GET", f"{p}.members", r.members, query=s.MEMBERS, paginated=True, sort_fields=("username",)),
        Route("GET", f"{p}.roles", r.roles, query=s.ROOM_ONLY),
        Route("GET", f"{p}.counters", r.counters, query=s.COUNTERS),
        Route("POST", f"{p}.leave", r.leave, body=s.ROOM_ONLY),
        Route("POST", f"{p}.invite", r.invite, body=s.INVITE),
        Route("POST", f"{p}.kick", r.kick, body=s.USER_IN_ROOM),
        Route("POST", f"{p}.open", r.open, body=s.ROOM_ONLY),
        Route("POST", f"{p}.close", r.close, body=s.ROOM_ONLY),
        Route("POST", f"{p}.delete", r.delete, body=s.ROOM_ONLY),
        Route("POST", f"{p}.archive", r.archive, body=s.ROOM_ONLY),
        Route("POST", f"{p}.unarchive", r.unarchive, body=s.ROOM_ONLY),
        Route("POST", f"{p}.rename", r.rename, body=s.RENAME),
        Route("POST", f"{p}.setTopic", r.text_setter("topic", "topic", "roomTopic"), body=s.SET_TOPIC),
        Route("POST", f"{p}.setDescription", r.text_setter("description", "description", "roomDescription"),
              body=s.SET_DESCRIPTION),
        Route("POST", f"{p}.setPurpose", r.text_setter("purpose", "description", "roomDescription"),
              body=s.SET_PURPOSE),
        Route("POST", f"{p}.setAnnouncement",
              r.text_setter("announcement", "announcement", "roomAnnouncement", same_check=False),
              body=s.SET_ANNOUNCEMENT),
        Route("POST", f"{p}.setReadOnly", r.value_setter("readOnly", "ro", "readOnly", "read only setting"),
              body=s.SET_READ_ONLY),
        Route("POST", f"{p}.setType", r.value_setter("type", "t", "roomType", "type"), body=s.SET_TYPE),
        Route("POST", f"{p}.setCustomFields", r.value_setter("customFields", "", "roomCustomFields", ""),
              body=s.SET_CUSTOM_FIELDS),
    ]
    for role in ("Owner", "Moderator", "Leader"):
        for verb, add in (("add", True), ("remove", False)):
            routes.append(Route("POST", f"{p}.{verb}{role}", r.role_handler(role.lower(), add), body=s.USER_IN_ROOM))
    if r.kind == "c":
        routes += [
            Route("GET", "channels.list.joined", r.list_joined, **listing),
            Route("POST", "channels.join", r.join, body=s.JOIN),
            Route("GET", "channels.moderators", r.moderators, query=s.ROOM_ONLY),
            Route("POST", "channels.setJoinCode", r.value_setter("joinCode", "", "joinCode", ""),
                  body=s.SET_JOIN_CODE),
            Route("POST", "channels.setDefault", r.value_setter("default", "default", "default", "default setting"),
                  body=s.SET_DEFAULT),
        ]
    else:
        routes.append(Route("GET", "groups.listAll", r.list_all, **listing, permission="view-room-administration"))
    return routes


def direct_routes(d: DirectRoutes) -> list[Route]:
    routes = []
    for p in ("im", "dm"):
        routes += [
            Route("POST", f"{p}.create", d.create, body=s.IM_CREATE),
            Route("GET", f"{p}.list", d.list, paginated=True, query=s.NO_QUERY, sort_fields=SORTS),
            Route("GET", f"{p}.list.everyone", d.list_everyone, paginated=True, query=s.NO_QUERY,
                  sort_fields=SORTS, filter_fields=("_id", "usernames", "uids"),
                  permission="view-room-administration"),
            Route("GET", f"{p}.members", d.members, query=s.IM_MEMBERS, paginated=True, sort_fields=("username",)),
            Route("GET", f"{p}.counters", d.counters, query=s.IM_COUNTERS),
            Route("POST", f"{p}.open", d.open, body=s.IM_ROOM_ID),
            Route("POST", f"{p}.close", d.close, body=s.IM_ROOM_ID),
            Route("POST", f"{p}.delete", d.delete, body=s.IM_ROOM),
            Route("POST", f"{p}.setTopic", d.set_topic, body=s.IM_SET_TOPIC),
        ]
    return routes


def misc_routes(m: MiscRoutes) -> list[Route]:
    return [
        Route("GET", "rooms.get", m.rooms_get, query=s.UPDATED_SINCE),
        Route("GET", "rooms.info", m.rooms_info, query=s.ROOMS_INFO, paginated=True),
        Route("POST", "rooms.leave", m.rooms_leave, body=s.ROOM_ONLY),
        Route("POST", "rooms.delete", m.rooms_delete, body=s.ROOMS_DELETE),
        Route("POST", "rooms.favorite", m.rooms_favorite, body=s.ROOMS_FAVORITE),
        Route("POST", "rooms.saveRoomSettings", m.save_room_settings, body=s.SAVE_ROOM_SETTINGS),
        Route("GET", "rooms.nameExists", m.name_exists, query=s.NAME_EXISTS),
        Route("GET", "subscriptions.get", m.subscriptions_get, query=s.UPDATED_SINCE),
        Route("GET", "subscriptions.getOne", m.subscriptions_get_one, query=s.SUBSCRIPTION_ONE),
        Route("POST", "subscriptions.read", m.subscriptions_read, body=s.SUBSCRIPTIONS_READ),
        Route("POST", "subscriptions.unread", m.subscriptions_unread, body=s.SUBSCRIPTIONS_UNREAD),
    ]


def routes(service: RoomsService) -> list[Route]:
    return [*room_routes(RoomRoutes(service, "c")), *room_routes(RoomRoutes(service, "p")),
            *direct_routes(DirectRoutes(service)), *misc_routes(MiscRoutes(service))]
