"""Settings the accounts service declares (Rocket.Chat's ids and defaults)."""
from __future__ import annotations

ACCOUNTS = {"group": "Accounts"}
BLOCK = {"group": "Accounts", "section": "Login_Attempts"}

SETTINGS = [
    {"_id": "Accounts_LoginExpiration", "type": "int", "value": 90, **ACCOUNTS},
    {"_id": "Accounts_RegistrationForm", "type": "select", "value": "Public", "public": True,
     "values": [{"key": "Public", "i18nLabel": "Public"}, {"key": "Disabled", "i18nLabel": "Disabled"},
                {"key": "Secret URL", "i18nLabel": "Secret_URL"}], **ACCOUNTS, "section": "Registration"},
    {"_id": "Accounts_RegistrationForm_SecretURL", "type": "string", "value": "", **ACCOUNTS,
     "section": "Registration"},
    {"_id": "Accounts_Registration_AuthenticationServices_Default_Roles", "type": "string", "value": "user",
     **ACCOUNTS, "section": "Registration"},
    {"_id": "Accounts_AllowUserProfileChange", "type": "boolean", "value": True, "public": True, **ACCOUNTS},
    {"_id": "Accounts_AllowRealNameChange", "type": "boolean", "value": True, "public": True, **ACCOUNTS},
    {"_id": "Accounts_AllowUsernameChange", "type": "boolean", "value": True, "public": True, **ACCOUNTS},
    {"_id": "Accounts_AllowEmailChange", "type": "boolean", "value": True, "public": True, **ACCOUNTS},
    {"_id": "Accounts_AllowPasswordChange", "type": "boolean", "value": True, "public": True, **ACCOUNTS},
    {"_id": "Accounts_AllowUserStatusMessageChange", "type": "boolean", "value": True, "public": True,
     **ACCOUNTS},
    {"_id": "Accounts_AllowInvisibleStatusOption", "type": "boolean", "value": True, "public": True,
     **ACCOUNTS},
    {"_id": "Accounts_AllowDeleteOwnAccount", "type": "boolean", "value": False, "public": True, **ACCOUNTS},
    {"_id": "UTF8_User_Names_Validation", "type": "string", "value": "[0-9a-zA-Z-_.]+", "public": True,
     "group": "General", "section": "UTF8"},
    {"_id": "API_Apply_permission_view-outside-room_on_users-list", "type": "boolean", "value": False,
     "group": "General", "section": "REST API"},
    {"_id": "Block_Multiple_Failed_Logins_Enabled", "type": "boolean", "value": True, **BLOCK},
    {"_id": "Block_Multiple_Failed_Logins_By_User", "type": "boolean", "value": True, **BLOCK},
    {"_id": "Block_Multiple_Failed_Logins_By_Ip", "type": "boolean", "value": True, **BLOCK},
    {"_id": "Block_Multiple_Failed_Logins_Attempts_Until_Block_by_User", "type": "int", "value": 10, **BLOCK},
    {"_id": "Block_Multiple_Failed_Logins_Attempts_Until_Block_By_Ip", "type": "int", "value": 50, **BLOCK},
    {"_id": "Block_Multiple_Failed_Logins_Time_To_Unblock_By_User_In_Minutes", "type": "int", "value": 5,
     **BLOCK},
    {"_id": "Block_Multiple_Failed_Logins_Time_To_Unblock_By_Ip_In_Minutes", "type": "int", "value": 5,
     **BLOCK},
    {"_id": "Block_Multiple_Failed_Logins_Ip_Whitelist", "type": "string", "value": "", **BLOCK},
]
