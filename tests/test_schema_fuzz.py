"""No server error from any input, and no answer the OpenAPI document does not describe.

Schemathesis generates requests for every operation of the served document (pages
too: they are in it), valid and invalid ones, with an office administrator's API
token and, most of the time, the real ids of a small world, so that the handlers'
code runs and not just their 404s. The app is called in-process on the suite's own
event loop (schemathesis' ASGI transport would start a second loop, which the
database pool cannot share), and each answer is judged by schemathesis' checks.
Generation is derandomized: a failure found once is found again.

Before this, found by fuzzing: a year past the database integer, an empty form post
and JSON nested 1,000 deep each answered 500."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server import db
from server.accounts import service as accounts
from server.assessment.scheme import DEFAULT
from server.responsibility import catalog as catalogs
from server.units import service as units
from server.web.edge import JSON_MAX_BYTES
from tests.conftest import SYSTEM
from tests.factories import make_world, token_for

# examples per operation and database: ~200 operations, so about 2 × 1,200 calls (the suite stays under 10 minutes)
EXAMPLES = 6
# a generated value is replaced by a real one this often, so both kinds are sent
REAL_SHARE = 0.8
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]
# JSON answers are checked against their documented schema too; pages and downloads
# (PDF, workbooks) are documented by status and media type only
API_CHECKS = [*CHECKS, response_schema_conformance]


def _uuids(value: Any, into: set[str]) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _uuids(item, into)
    elif isinstance(value, list):
        for item in value:
            _uuids(item, into)
    elif isinstance(value, str) and len(value) == 36:
        try:
            into.add(str(uuid.UUID(value)))
        except ValueError:
            pass


def _items(body: Any) -> list[dict]:
    rows = body.get("items", []) if isinstance(body, dict) else body
    return [r for r in rows if isinstance(r, dict)]


async def _world(client: httpx.AsyncClient) -> tuple[Any, dict[str, str], dict[str, list]]:
    """A small world with an open assessment and a draft catalog, the office's token,
    and the real values of each path parameter (any real id for the others)."""
    world = await make_world()
    headers = {"Authorization": "Bearer " + await token_for(world, "office")}
    # a second token of the office, so revoking a real token does not end the run
    async with db.transaction(world.tenant.id):
        office = await accounts.user_by_username(world.tenant, "office")
        await accounts.create_token(world.tenant, accounts.actor_for(world.tenant, office), office["id"], {"name": "x"})
        await catalogs.create_draft(world.tenant, SYSTEM, {"note": "draft"})
    year = units.today(world.tenant).year
    api = f"/api/v1/t/{world.slug}"
    opened = await client.post(f"{api}/assessments/{year}/open", json={"cutoff": f"{year}-12-31"}, headers=headers)
    assert opened.status_code == 201, opened.text
    mine = {
        t["id"] for t in _items((await client.get(f"{api}/tokens", headers=headers)).json()) if t["name"] == "tests"
    }
    real: dict[str, list] = {
        "slug": [world.slug],
        "tenant_slug": [world.slug],
        "year": [year],
        "code": ["R3", "C", "P", "N", "M", "D"],
        "position": list(units.POSITIONS),
    }
    every: set[str] = set()
    sources = {
        "unit_id": "/units",
        "person_id": "/people",
        "user_id": "/users",
        "token_id": "/tokens",
        "catalog_id": "/duty-catalogs",
        "notice_id": "/notices",
        "course_id": "/training/courses",
        "delivery_id": "/outbox",
    }
    for param, path in sources.items():
        rows = _items((await client.get(api + path, headers=headers)).json())
        real[param] = [r["id"] for r in rows if r["id"] not in mine]
        for row in rows[:3]:  # details hold the ids of what hangs below (duties, posts)
            detail = await client.get(f"{api}{path}/{row['id']}", headers=headers)
            if detail.status_code == 200:
                _uuids(detail.json(), every)
        _uuids(rows, every)
    real["*"] = sorted(every - mine)
    return world, headers, real


def _cases(operation, real: dict[str, list]) -> list:
    cases: list = []
    strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE)

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy, data=st.data())
    def collect(case, data) -> None:
        for name in list(case.path_parameters or {}):
            choices = real.get(name) or (real["*"] if name.endswith("_id") else None)
            if choices and data.draw(st.floats(0, 1)) < REAL_SHARE:
                case.path_parameters[name] = data.draw(st.sampled_from(choices))
        cases.append(case)

    collect()
    return cases


async def _send(client: httpx.AsyncClient, case, headers: dict[str, str]) -> httpx.Response:
    """The case as schemathesis would send it (its requests serialization: JSON, forms,
    multipart), through the suite's own client."""
    kwargs = case.as_transport_kwargs(base_url=str(client.base_url), headers=headers)
    for transport_only in ("cookies", "verify", "timeout", "allow_redirects"):
        kwargs.pop(transport_only, None)
    prepared = requests.Request(**kwargs).prepare()
    return await client.request(
        prepared.method, prepared.url, headers=dict(prepared.headers), content=prepared.body or b""
    )


async def test_every_operation_answers_as_documented_and_never_5xx(client):
    world, headers, real = await _world(client)
    document = (await client.get("/schema/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(document)
    started, statuses, failures = time.monotonic(), Counter(), []
    for result in schema.get_all_operations():
        operation = result.ok()
        checks = API_CHECKS if operation.path.startswith("/api/") else CHECKS
        for case in _cases(operation, real):
            response = await _send(client, case, headers)
            statuses[response.status_code // 100] += 1
            try:
                case.validate_response(response, checks=checks)
            except FailureGroup as exc:  # keep going, report all
                failures.append(f"{case.method} {case.formatted_path} → {response.status_code}: {str(exc)[:600]}")
    elapsed = time.monotonic() - started
    print(f"fuzzed {sum(statuses.values())} calls in {elapsed:.0f}s: {dict(statuses)}")
    assert statuses[2] > 0 and statuses[5] == 0 and not failures, "\n\n".join(failures[:15])


# ---------------------------------------------------------------- what the fuzzer found, one by one


async def test_a_year_no_assessment_can_have_is_not_found(client):
    world = await make_world()
    headers = {"Authorization": "Bearer " + await token_for(world, "office")}
    for path in (
        f"/api/v1/t/{world.slug}/assessments/3000000000",
        f"/api/v1/t/{world.slug}/assessments/-3000000000/scheme",
        f"/t/{world.slug}/assessments/99999999999999999999",
    ):
        answer = await client.get(path, headers=headers)
        assert answer.status_code == 404, (path, answer.status_code)
    assert (await client.get(f"/api/v1/t/{world.slug}/assessments/3000000000", headers=headers)).json()["detail"]
    refused = await client.get(f"/t/{world.slug}/assessments?year=3000000000", headers=headers)
    assert refused.status_code == 422
    assert (await client.get(f"/t/{world.slug}/assessments?year=2026", headers=headers)).status_code == 303


async def test_an_empty_change_is_refused_naming_what_it_may_hold(client):
    world = await make_world()
    headers = {"Authorization": "Bearer " + await token_for(world, "office")}
    async with db.transaction(world.tenant.id):
        draft = await catalogs.create_draft(world.tenant, SYSTEM, {"note": "draft"})
    duty = next(d for duties in draft["sections"].values() for d in duties)
    page = await client.post(f"/t/{world.slug}/duties/items/{duty['id']}", headers=headers)
    # the message names the fields a change may hold (their labels are translated)
    assert page.status_code == 422 and "排序" in page.text
    api = f"/api/v1/t/{world.slug}"
    for path, label in (
        (f"/units/{world.units['a_unit']['id']}", "名称"),
        (f"/people/{world.people['a_lead']['id']}", "姓名"),
        (f"/users/{world.users['officer']['id']}", "显示名称"),
    ):
        answer = await client.patch(api + path, json={}, headers=headers)
        assert answer.status_code == 422, (path, answer.text)
        (error,) = answer.json()["errors"]
        assert error["field"] == "body" and label in error["message"], (path, error)


async def test_json_too_deep_or_too_large_is_refused_before_decoding(client):
    world = await make_world()
    headers = {"Authorization": "Bearer " + await token_for(world, "office"), "content-type": "application/json"}
    url = f"/api/v1/t/{world.slug}/assessments/{units.today(world.tenant).year}/scheme"
    for label in ("application/json", "text/plain", ""):  # JSON is decoded whatever its label
        deep = await client.put(url, content=b"[" * 1000 + b"]" * 1000, headers={**headers, "content-type": label})
        assert deep.status_code == 400 and deep.json()["detail"], label
    # brackets inside strings are text, not nesting: a real scheme still passes
    fine = {**DEFAULT, "note": "[" * 100}
    assert (await client.put(url, content=json.dumps(fine).encode(), headers=headers)).status_code != 400
    large = await client.put(url, content=b'{"note": "' + b"x" * JSON_MAX_BYTES + b'"}', headers=headers)
    assert large.status_code == 413 and large.json()["detail"]


async def test_the_document_describes_the_errors_in_the_shape_they_have(client):
    world = await make_world()
    document = (await client.get("/schema/openapi.json")).json()
    error = document["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["detail"] and set(error["properties"]) == {"detail", "errors"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            documented = set(operation["responses"])
            assert {"400", "401", "403", "404", "409", "413", "422"} <= documented, (method, path)
            media = "application/json" if path.startswith("/api/") else "text/html"
            assert media in operation["responses"]["404"]["content"], (method, path)
    # and the API really answers so
    stranger = {"Authorization": "Bearer lz_not-a-token"}
    refused = await client.patch(f"/api/v1/t/{world.slug}/units/{uuid.uuid4()}", json={}, headers=stranger)
    assert refused.status_code == 401 and set(refused.json()) <= {"detail", "errors"}
