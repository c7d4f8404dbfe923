"""Schemathesis against the sandbox's own /openapi.json (faults off): no 5xx, no answer breaking the document."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = 40
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module")
def served(sandbox_factory):
    with sandbox_factory() as sb:
        sb.tokens = sb.login().json()
        yield sb


@pytest.fixture(scope="module")
def api_schema(served):
    return schemathesis.openapi.from_url(served.base_url + "/openapi.json")


def _headers(served, case) -> dict[str, str]:
    if case.operation.path == "/authentication/v1/token":
        return {"x-api-key": served.credentials["api_key"]}
    return served.headers(served.tokens["idToken"])


def test_generated_requests_conform(served, api_schema):
    """Hypothesis cases from every operation's strategy (the schemathesis pytest plugin's lazy loader does
    not support this pytest), each validated with the checks above."""
    failures = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def run(case):
            response = case.call(base_url=served.base_url, headers=_headers(served, case))
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert failures == [], "\n\n".join(failures)


def test_documented_paths_are_the_served_ones(served, api_schema):
    from sandbox.api import ROUTES

    documented = {op.path for op in (r.ok() for r in api_schema.get_all_operations())}
    assert documented == {path for path, _ in ROUTES} | {"/authentication/v1/token"}


def test_real_answers_conform(served, api_schema):
    """Every operation called with ids from the ground truth answers 200 and matches its schema."""
    delivery = served.truth("deliveries")[-1]
    overdue = served.truth("overdue_versions")[-1]
    company = next(c for c in served.truth("companies") if not c["isTemporary"])
    ident = company["legalIdentifiers"][0]
    e, o = delivery["easyNumber"], overdue["easyNumber"]
    calls = {
        "/tci/company/v1/companies/identifier": ({}, {"countryCode": company["countryCode"],
                                                      "identifierType": ident["type"],
                                                      "identifierValue": ident["value"]}),
        "/tci/company/v1/companies/name": ({}, {"countryCode": company["countryCode"],
                                                "name": company["companyName"][:4]}),
        "/tci/company/v1/companies/customerreferences": ({}, {"pageSize": 100}),
        "/tci/product/v1/companies/products": ({}, {"pageSize": 100}),
        "/tci/product/v1/companies/{easyNumber}/products/deliveries/{deliveryIdOrExternalId}": (
            {"easyNumber": e, "deliveryIdOrExternalId": delivery["externalId"]}, {}),
        "/tci/product/v1/companies/{easyNumber}/products/orders/{orderId}": (
            {"easyNumber": e, "orderId": delivery["orderId"]}, {}),
        "/tci/product/v1/companies/{easyNumber}/catalog": ({"easyNumber": e}, {}),
        "/tci/notification/v1/notifications": ({}, {"pageSize": 100, "dateFrom": "2026-01-01"}),
        "/tci/overdue/v1/companies/overdues": ({}, {"status": overdue["status"]}),
        "/tci/overdue/v1/companies/{easyNumber}/overdues/{overdueId}": (
            {"easyNumber": o, "overdueId": overdue["overdueId"]}, {}),
        "/tci/overdue/v1/companies/{easyNumber}/overdues/{overdueId}/documents": (
            {"easyNumber": o, "overdueId": overdue["overdueId"]}, {}),
        "/tci/overdue/v1/companies/{easyNumber}/catalog-overdue": ({"easyNumber": o}, {}),
        "/tci/policy/v1/policies": ({}, {}),
        "/tci/country/v1/countries": ({}, {"pageSize": 100}),
        "/tci/country/v1/countries/identifiers": ({}, {"pageSize": 100}),
    }
    for path, (path_parameters, query) in calls.items():
        case = api_schema[path]["GET"].Case(path_parameters=path_parameters, query=query)
        response = case.call(base_url=served.base_url, headers=served.headers(served.tokens["idToken"]))
        assert response.status_code == 200, (path, response.text)
        case.validate_response(response, checks=CHECKS)
    login = api_schema["/authentication/v1/token"]["POST"].Case(body={
        "grantType": "password", "username": served.credentials["username"],
        "password": served.credentials["password"]})
    response = login.call(base_url=served.base_url, headers={"x-api-key": served.credentials["api_key"]})
    assert response.status_code == 200
    login.validate_response(response, checks=CHECKS)
