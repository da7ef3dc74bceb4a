"""REST plumbing: route declarations, request value, pagination."""
from core.rest.params import Page
from core.rest.route import DEFAULT_LIMIT, Route
from core.rest.request import RestRequest

__all__ = ["DEFAULT_LIMIT", "Page", "RestRequest", "Route"]
