"""Test users (shared with app authors' fixtures): see apps_sdk.testing.users."""
from apps_sdk.testing.users import TestUser, create_user, password_hash

__all__ = ["TestUser", "create_user", "password_hash"]
