"""The OpenAPI document says what the API does: typed answers, every error it can give
in the shape it really has, and how to authenticate."""

from __future__ import annotations

import pytest

from server.app import create_app
from server.settings import Settings
from server.web.errors import ERROR_STATUSES

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def document(tmp_path_factory) -> dict:
    var = tmp_path_factory.mktemp("openapi")
    app = create_app(Settings.from_env({"LUZHI_VAR_DIR": str(var), "LUZHI_SECRET_KEY": "openapi"}))
    return app.openapi_schema.to_schema()


def operations(document: dict, prefix: str) -> list[tuple[str, str, dict]]:
    return [
        (path, method, op)
        for path, item in document["paths"].items()
        if path.startswith(prefix)
        for method, op in item.items()
        if method in METHODS
    ]


def resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def typed(document: dict, schema: dict) -> bool:
    """A schema that says something: an object with properties, an array of such, a scalar."""
    schema = resolve(document, schema)
    if "oneOf" in schema or "anyOf" in schema:
        return all(typed(document, s) for s in schema.get("oneOf", schema.get("anyOf")))
    if schema.get("type") == "array":
        return typed(document, schema.get("items", {}))
    if schema.get("type") == "object":
        return bool(schema.get("properties")) or "additionalProperties" in schema
    return bool(schema.get("type"))


def test_json_operations_document_typed_answers(document):
    json_ops, bare = 0, []
    for path, method, op in operations(document, "/api/"):
        for status, answer in op["responses"].items():
            if not status.startswith("2"):
                continue
            content = answer.get("content") or {}
            if "application/json" not in content:
                continue
            json_ops += 1
            if not typed(document, content["application/json"].get("schema", {})):
                bare.append(f"{method.upper()} {path} {status}")
    assert json_ops >= 50
    assert len(bare) <= 0.05 * json_ops, f"{len(bare)} of {json_ops} answers are untyped: {bare}"


def test_every_operation_documents_its_errors_in_the_real_shape(document):
    error_body = document["components"]["schemas"]["ErrorBody"]
    assert set(error_body["properties"]) == {"detail", "errors"}
    for path, method, op in operations(document, "/"):
        documented = {int(s) for s in op["responses"] if s.isdigit()}
        assert set(ERROR_STATUSES) <= documented, f"{method.upper()} {path} lacks {set(ERROR_STATUSES) - documented}"
        if path.startswith("/api/"):
            shown = op["responses"]["422"]["content"]["application/json"]["schema"]
            assert shown == {"$ref": "#/components/schemas/ErrorBody"}, f"{method.upper()} {path}"


def test_the_bearer_token_is_the_apis_security_scheme(document):
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearer"]["description"],
    }
    for path, method, op in operations(document, "/api/v1/t/"):
        assert op.get("security") == [{"bearer": []}], f"{method.upper()} {path}"


def test_downloads_are_documented_with_their_media_types(document):
    media = {
        next(iter(answer.get("content") or {"": None}))
        for _path, _method, op in operations(document, "/")
        for status, answer in op["responses"].items()
        if status == "200"
    }
    assert {"application/pdf", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"} <= media
