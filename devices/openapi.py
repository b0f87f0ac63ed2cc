"""The OpenAPI 3.1 description of the app API, served at ``/api/v1/openapi.json``.

Hand-written, next to the views it describes; ``tests/devices/test_contract.py`` checks every
endpoint's responses against it.
"""

from __future__ import annotations

from typing import Any

from .models import ObservationSource, PermissionName, PermissionState, Platform

MAX_ID = 2**63 - 1
TIMESTAMP = {"type": "string", "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
    }


def _json(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(schema)}}}


BAD = _problem("Malformed JSON, wrong content type or invalid fields (see errors).")
UNAUTHORIZED = _problem("No token, or an unknown, expired or revoked one.")
NOT_FOUND = _problem("No such device for this account (another customer's device included).")
TOO_LARGE = _problem("The body is over 64 KiB.")
NOT_ALLOWED = {
    **_problem("Method not allowed: the Allow header lists the methods of this path."),
    "headers": {"Allow": {"required": True, "schema": {"type": "string"}}},
}
BEARER = [{"bearer": []}]
# The methods a client may try on any path; those a path does not serve answer 405.
METHODS = ("get", "put", "post", "delete", "patch")
DEVICE_ID = {
    "name": "device_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}


def _schemas() -> dict[str, Any]:
    text = {"type": "string", "minLength": 1}
    permission_state = {
        "type": "object",
        "additionalProperties": False,
        "required": ["state", "observed_at", "source"],
        "properties": {
            "state": {"enum": PermissionState.values},
            "observed_at": TIMESTAMP,
            "source": {"enum": ObservationSource.values},
        },
    }
    stored_state = {
        "type": "object",
        "additionalProperties": False,
        "required": ["state", "observed_at", "source"],
        "properties": {
            "state": {"enum": PermissionState.values},
            "observed_at": {"oneOf": [TIMESTAMP, {"type": "null"}]},
            "source": {"enum": [*ObservationSource.values, None]},
        },
    }
    names = PermissionName.values
    permissions_state = {
        "type": "object",
        "additionalProperties": False,
        "required": ["device_id", "permissions", "features_off"],
        "properties": {
            "device_id": {"type": "integer"},
            "permissions": {
                "type": "object",
                "additionalProperties": False,
                "required": names,
                "properties": {name: stored_state for name in names},
            },
            "features_off": {"type": "array", "items": _ref("FeatureOff")},
        },
    }
    return {
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details.",
            "required": ["type", "title", "status"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "instance": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["pointer", "detail", "code"],
                        "properties": {
                            "pointer": {"type": "string", "description": "JSON Pointer"},
                            "detail": {"type": "string"},
                            "code": {"type": "string"},
                        },
                    },
                },
            },
        },
        "TokenRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["email", "password"],
            "properties": {
                "email": {**text, "maxLength": 254},
                "password": {**text, "maxLength": 4096},
                "name": {"type": "string", "maxLength": 100},
            },
        },
        "Token": {
            "type": "object",
            "additionalProperties": False,
            "required": ["token", "token_type", "expires_at"],
            "properties": {
                "token": {"type": "string"},
                "token_type": {"const": "Bearer"},
                "expires_at": TIMESTAMP,
            },
        },
        "DeviceRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["install_id", "platform", "model", "os_version", "app_version"],
            "properties": {
                "install_id": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,64}$"},
                "platform": {"enum": Platform.values},
                "model": {**text, "maxLength": 100},
                "os_version": {**text, "maxLength": 40},
                "app_version": {**text, "maxLength": 40},
            },
        },
        "Device": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "id",
                "install_id",
                "platform",
                "model",
                "os_version",
                "app_version",
                "registered_at",
                "last_seen",
            ],
            "properties": {
                "id": {"type": "integer"},
                "install_id": {"type": "string"},
                "platform": {"enum": Platform.values},
                "model": {"type": "string"},
                "os_version": {"type": "string"},
                "app_version": {"type": "string"},
                "registered_at": TIMESTAMP,
                "last_seen": {
                    **TIMESTAMP,
                    "description": (
                        "The app's latest call about this device before this one (a report "
                        "that changed nothing included), or this one when it registers the "
                        "device."
                    ),
                },
            },
        },
        "PermissionsReport": {
            "type": "object",
            "additionalProperties": False,
            "required": ["permissions"],
            "properties": {
                "permissions": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": names,
                    "properties": {name: permission_state for name in names},
                },
            },
        },
        "FeatureOff": {
            "type": "object",
            "additionalProperties": False,
            "required": ["feature", "label", "permission", "state", "reason"],
            "properties": {
                "feature": {"type": "string"},
                "label": {"type": "string"},
                "permission": {"enum": names},
                "state": {"enum": PermissionState.values},
                "reason": {"type": "string"},
            },
        },
        "PermissionsState": permissions_state,
        "PermissionsChange": {
            **permissions_state,
            "required": [*permissions_state["required"], "changed"],
            "properties": {
                **permissions_state["properties"],
                "changed": {"type": "array", "items": {"enum": names}},
            },
        },
    }


def _with_not_allowed(paths: dict[str, Any]) -> dict[str, Any]:
    """Document, for each path, the methods it does not serve: a 405 problem with ``Allow``.

    The API answers them before looking at the token or the body, so they take neither.
    """
    for path, item in paths.items():
        served = [m for m in METHODS if m in item]
        allow = ", ".join(m.upper() for m in served)
        base = path.strip("/").replace("/", "_").replace("{", "").replace("}", "").replace(".", "_")
        for method in METHODS:
            if method in item:
                continue
            responses: dict[str, Any] = {"405": NOT_ALLOWED}
            if "parameters" in item:  # a malformed id matches no route at all
                responses["404"] = _problem("No such path (the id is not a number).")
            item[method] = {
                "operationId": f"{method}_{base}_not_allowed",
                "summary": f"Not served here: answers 405 (Allow: {allow}).",
                "security": [],
                "responses": responses,
            }
    return paths


def openapi_document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of the app API."""
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "ExcelCRM mobile app API",
            "version": "1",
            "description": (
                "Devices and the state of the app's five permissions (clause 2 of the privacy "
                "policy). Errors are RFC 9457 problem details; field errors carry a JSON Pointer. "
                "Messages follow Accept-Language (vi, en)."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
        },
        "paths": {
            "/auth/token/": {
                "post": {
                    "operationId": "createToken",
                    "summary": "Exchange email and password for a bearer token (90 days).",
                    "security": [],
                    "requestBody": _body("TokenRequest"),
                    "responses": {
                        "201": _json("The token; shown once.", "Token"),
                        "400": BAD,
                        "401": _problem("Wrong email or password."),
                        "413": TOO_LARGE,
                        "429": _problem("Too many failed attempts: locked for a while."),
                    },
                },
                "delete": {
                    "operationId": "revokeToken",
                    "summary": "Revoke the token used for this call.",
                    "security": BEARER,
                    "responses": {"204": {"description": "Revoked."}, "401": UNAUTHORIZED},
                },
            },
            "/devices/": {
                "post": {
                    "operationId": "registerDevice",
                    "summary": "Register this installation; the same install_id gets the same id.",
                    "security": BEARER,
                    "requestBody": _body("DeviceRequest"),
                    "responses": {
                        "200": _json("Already registered: the same device.", "Device"),
                        "201": _json("Registered.", "Device"),
                        "400": BAD,
                        "401": UNAUTHORIZED,
                        "413": TOO_LARGE,
                    },
                },
            },
            "/devices/{device_id}/": {
                "parameters": [DEVICE_ID],
                "get": {
                    "operationId": "getDevice",
                    "security": BEARER,
                    "responses": {
                        "200": _json("The device.", "Device"),
                        "401": UNAUTHORIZED,
                        "404": NOT_FOUND,
                    },
                },
                "delete": {
                    "operationId": "unregisterDevice",
                    "summary": "Unregister; the device and its history stay in the audit trail.",
                    "security": BEARER,
                    "responses": {
                        "204": {"description": "Unregistered."},
                        "401": UNAUTHORIZED,
                        "404": NOT_FOUND,
                    },
                },
            },
            "/devices/{device_id}/permissions/": {
                "parameters": [DEVICE_ID],
                "get": {
                    "operationId": "getPermissions",
                    "security": BEARER,
                    "responses": {
                        "200": _json("The stored states and the features off.", "PermissionsState"),
                        "401": UNAUTHORIZED,
                        "404": NOT_FOUND,
                    },
                },
                "put": {
                    "operationId": "reportPermissions",
                    "summary": "Report all five permissions; only real changes are stored.",
                    "security": BEARER,
                    "requestBody": _body("PermissionsReport"),
                    "responses": {
                        "200": _json(
                            "The stored states; changed lists what this report changed.",
                            "PermissionsChange",
                        ),
                        "400": BAD,
                        "401": UNAUTHORIZED,
                        "404": NOT_FOUND,
                        "413": TOO_LARGE,
                    },
                },
            },
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "This document.",
                            "content": {"application/json": {}},
                        }
                    },
                },
            },
        },
    }
    _with_not_allowed(document["paths"])
    return document
