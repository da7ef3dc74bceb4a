"""REST plumbing: route declarations, request value, pagination."""
from core.rest.params import Page
from core.rest.request import RestRequest
from core.rest.route import DEFAULT_LIMIT, Route


def raw_json(body: object, status: int = 200):
    """A response whose body is exactly `body` (no `success` added), for routes Rocket.Chat answers that way."""
    from core.rest.dispatch import json_response
    return json_response(body, status)


__all__ = ["DEFAULT_LIMIT", "Page", "RestRequest", "Route", "raw_json"]
