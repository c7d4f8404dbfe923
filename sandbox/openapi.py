"""The OpenAPI 3.1 document of the sandbox's API (business endpoints and login; not `/_sandbox/*`).

Hand-written from docs/contracts.md section 1, precise enough for schemathesis: every path, parameter,
status and response schema (objects are closed with `additionalProperties: false`).
"""

from __future__ import annotations

from sandbox import api
from sandbox.reference import DELIVERY_STATUSES, OVERDUE_STATUSES, PRODUCT_CODES
from sandbox.reference import ORDER_STATUSES as _ORDER_STATUSES

REF = "#/components/schemas/"


def _ref(name: str) -> dict:
    return {"$ref": REF + name}


def _nullable(schema: dict) -> dict:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    return {**schema, "type": [schema["type"], "null"]}


def _obj(props: dict, required: list[str] | None = None) -> dict:
    return {"type": "object", "properties": props, "required": list(props) if required is None else required,
            "additionalProperties": False}


STR = {"type": "string"}
TS = {"type": "string", "format": "date-time"}
DATE = {"type": "string", "format": "date"}
BOOL = {"type": "boolean"}
INT = {"type": "integer"}


def _list(key: str, item: str) -> dict:
    return _obj({key: {"type": "array", "items": _ref(item)}, "count": {"type": "integer", "minimum": 0},
                 "page": {"type": "integer", "minimum": 1}, "pageSize": {"type": "integer", "minimum": 1}})


SCHEMAS: dict[str, dict] = {
    "Money": _obj({"value": {"type": "number"}, "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}}),
    "Message": _obj({"code": STR, "message": STR}),
    "Error": _obj({"httpCode": INT, "url": STR, "errorDate": STR, "fishtag": STR,
                   "messages": {"type": "array", "items": _ref("Message"), "minItems": 1}}),
    "LoginError": _obj({"__type": STR, "message": STR}),
    "LoginRequest": {"type": "object", "properties": {
        "grantType": {"type": "string", "enum": ["password", "refresh_token"]},
        "grant_type": {"type": "string", "enum": ["password", "refresh_token"]},
        "username": STR, "password": STR, "refreshToken": STR}},
    "Token": _obj({"idToken": STR, "accessToken": STR, "refreshToken": STR, "expiresIn": INT,
                   "tokenType": {"type": "string", "enum": ["Bearer"]}}),
    "LegalIdentifier": _obj({"type": STR, "value": STR}),
    "Address": _obj({"streetAddress": STR, "postalCode": STR, "city": STR, "countryCode": STR}),
    "Company": _obj({
        "easyNumber": STR, "companyName": STR, "address": _ref("Address"), "countryCode": STR,
        "legalIdentifiers": {"type": "array", "items": _ref("LegalIdentifier")}, "isHeadOffice": BOOL,
        "headOfficeEasyNumber": _nullable(STR), "customerReference": _nullable(STR)}),
    "PortfolioProduct": _obj({
        "productCode": {"type": "string", "enum": list(PRODUCT_CODES)}, "orderId": STR, "orderDate": TS,
        "orderStatus": {"type": "string", "enum": list(_ORDER_STATUSES)}, "orderStatusDate": TS,
        "deliveryId": _nullable(STR), "externalId": _nullable(STR), "status": {"type": ["string", "null"], "enum": [*DELIVERY_STATUSES, None]},
        "decisionDate": _nullable(TS), "effectiveDate": _nullable(DATE), "expiryDate": _nullable(DATE),
        "amount": _nullable(_ref("Money")), "temporaryEasyNumber": _nullable(STR)}),
    "Condition": _obj({"code": STR, "label": STR}),
    "Delivery": _obj({
        "deliveryId": STR, "externalId": STR, "orderId": STR, "easyNumber": STR,
        "temporaryEasyNumber": _nullable(STR), "productCode": {"type": "string", "enum": list(PRODUCT_CODES)},
        "status": {"type": "string", "enum": list(DELIVERY_STATUSES)}, "decisionDate": TS, "effectiveDate": DATE,
        "expiryDate": _nullable(DATE), "amount": _nullable(_ref("Money")),
        "requestedAmount": _nullable(_ref("Money")), "conditions": {"type": "array", "items": _ref("Condition")}}),
    "Order": _obj({
        "orderId": STR, "easyNumber": STR, "temporaryEasyNumber": _nullable(STR),
        "productCode": {"type": "string", "enum": list(PRODUCT_CODES)}, "orderDate": TS,
        "status": {"type": "string", "enum": list(_ORDER_STATUSES)}, "statusDate": TS,
        "requestedAmount": _nullable(_ref("Money")), "deliveryId": _nullable(STR),
        "rejectionReasons": {"type": "array", "items": _ref("Condition")}}),
    "Notification": _obj({
        "notificationId": STR, "externalId": STR, "eventDate": TS,
        "eventType": {"type": "string", "enum": ["DECISION"]}, "easyNumber": STR,
        "productCode": {"type": "string", "enum": list(PRODUCT_CODES)}, "orderId": STR,
        "status": {"type": "string", "enum": list(DELIVERY_STATUSES)}, "policyNumber": STR}),
    "Overdue": _obj({
        "overdueId": STR, "easyNumber": STR, "customerReference": _nullable(STR), "creationDate": TS,
        "lastUpdateDate": TS, "status": {"type": "string", "enum": list(OVERDUE_STATUSES)},
        "debtType": {"type": "string", "enum": ["CI", "NGD"]}, "interventionRequested": BOOL}),
    "Invoice": _obj({"invoiceReference": STR, "issueDate": DATE, "dueDate": DATE, "amount": _ref("Money")}),
    "Payment": _obj({"paymentDate": DATE, "amount": _ref("Money"),
                     "kind": {"type": "string", "enum": ["PAYMENT", "CREDIT_NOTE", "SETTLEMENT"]}}),
    "Indemnification": _obj({"amount": _ref("Money"), "date": DATE}),
    "Document": _obj({"fileName": STR, "mediaType": STR, "uploadDate": TS}),
    "Documents": _obj({"documents": {"type": "array", "items": _ref("Document")},
                       "count": {"type": "integer", "minimum": 0}}),
    "Country": _obj({"countryCode": {"type": "string", "pattern": "^[A-Z]{3}$"}, "name": STR}),
    "IdentifierType": _obj({"countryCode": STR, "type": STR, "label": STR}),
    "CustomerReference": _obj({"easyNumber": STR, "customerReference": STR, "updatedAt": TS}),
    "Policy": _obj({"policyNumber": STR, "customerName": STR, "currency": STR, "startDate": DATE,
                    "endDate": _nullable(DATE)}),
    "CatalogProduct": _obj({"productCode": {"type": "string", "enum": list(PRODUCT_CODES)},
                            "actionCodes": {"type": "array", "items": {
                                "type": "string", "enum": ["CREA", "UPDT", "CHANGE", "STOP", "DELE"]}},
                            "lastOrderId": _nullable(STR), "lastDeliveryId": _nullable(STR)}),
    "Catalog": _obj({"easyNumber": STR, "products": {"type": "array", "items": _ref("CatalogProduct")}}),
    "CatalogDebtType": _obj({"debtType": {"type": "string", "enum": ["CI", "NGD"]},
                             "actionCodes": {"type": "array", "items": {
                                 "type": "string", "enum": ["CREA", "UPDT", "MOVE"]}},
                             "overdueId": _nullable(STR)}),
    "CatalogOverdue": _obj({"easyNumber": STR, "debtTypes": {"type": "array", "items": _ref("CatalogDebtType")}}),
    "CompanyList": _list("companies", "Company"),
    "PortfolioList": _list("companies", "PortfolioCompany"),
    "NotificationList": _list("notifications", "Notification"),
    "OverdueList": _list("overdues", "Overdue"),
    "CountryList": _list("countries", "Country"),
    "IdentifierList": _list("identifiers", "IdentifierType"),
    "CustomerReferenceList": _list("customerReferences", "CustomerReference"),
    "PolicyList": _list("policies", "Policy"),
}
_company = SCHEMAS["Company"]
SCHEMAS["PortfolioCompany"] = _obj({**_company["properties"],
                                    "products": {"type": "array", "items": _ref("PortfolioProduct")}})
SCHEMAS["OverdueDetail"] = _obj({
    **SCHEMAS["Overdue"]["properties"], "nonPaymentReason": STR, "totalAmount": _ref("Money"),
    "outstandingAmount": _ref("Money"), "invoices": {"type": "array", "items": _ref("Invoice")},
    "payments": {"type": "array", "items": _ref("Payment")},
    "indemnification": _nullable(_ref("Indemnification"))})


def _q(name: str, schema: dict, required: bool = False, description: str = "") -> dict:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def _path(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}


PAGING = [_q("page", {"type": "integer", "minimum": 1}, description="1-based page number"),
          _q("pageSize", {"type": "integer", "minimum": 1, "maximum": 100}, description="items per page")]
WINDOW = [_q("dateFrom", DATE, description="inclusive, YYYY-MM-DD = that day 00:00:00Z; not before today - 2 years"),
          _q("dateTo", DATE, description="exclusive, YYYY-MM-DD = that day 00:00:00Z")]
POLICY_PARAMS = [
    {"name": "X-COF-Policy-Number", "in": "header", "required": False, "schema": STR,
     "description": "the contract (policy) number; or the contract_id query parameter"},
    _q("contract_id", STR, description="the contract (policy) number, instead of X-COF-Policy-Number"),
]
RATE_HEADERS = {"X-RateLimit-Limit": {"$ref": "#/components/headers/RateLimitLimit"},
                "X-RateLimit-Remaining": {"$ref": "#/components/headers/RateLimitRemaining"}}
_ERROR_STATUSES = {"400": "invalid or missing parameter", "401": "missing, unknown, expired or revoked idToken",
                   "403": "missing or unknown x-api-key, or policy mismatch", "404": "unknown id",
                   "429": "rate limit exceeded (Retry-After)", "500": "server error", "503": "unavailable"}


def _error_responses() -> dict:
    out = {}
    for status, text in _ERROR_STATUSES.items():
        headers = dict(RATE_HEADERS)
        if status == "429":
            headers["Retry-After"] = {"schema": {"type": "integer"}, "description": "seconds to wait"}
        out[status] = {"description": text, "headers": headers,
                       "content": {"application/json": {"schema": _ref("Error")}}}
    return out


def _operation(op_id: str, summary: str, schema: str, params: list[dict]) -> dict:
    return {"get": {
        "operationId": op_id, "summary": summary, "parameters": params + POLICY_PARAMS,
        "security": [{"apiKey": [], "idToken": []}],
        "responses": {"200": {"description": "OK", "headers": RATE_HEADERS,
                              "content": {"application/json": {"schema": _ref(schema)}}},
                      **_error_responses()}}}


def _operations() -> dict[str, dict]:
    e, o = _path("easyNumber"), _path("overdueId")
    country = _q("countryCode", {"type": "string"}, True, "ISO 3166 alpha-3")
    spec = {
        api.search_identifier: ("searchByIdentifier", "Companies by legal identifier", "CompanyList", [
            country, _q("identifierType", STR, True, "e.g. SIREN_FRA"), _q("identifierValue", STR, True)] + PAGING),
        api.search_name: ("searchByName", "Companies by name", "CompanyList", [
            country, _q("name", STR, True), _q("city", STR), _q("postalCode", STR)] + PAGING),
        api.customer_references: ("listCustomerReferences", "Customer references of the contract",
                                  "CustomerReferenceList", PAGING),
        api.portfolio: ("listPortfolio", "Portfolio: companies with active, pending or recent products",
                        "PortfolioList", [_q(n, STR) for n in api.PORTFOLIO_FILTERS if n != "productCode"]
                        + [_q("productCode", {"type": "string", "enum": list(PRODUCT_CODES)})] + WINDOW + PAGING),
        api.delivery: ("getDelivery", "A decision by deliveryId or externalId", "Delivery",
                       [e, _path("deliveryIdOrExternalId")]),
        api.order: ("getOrder", "An order (temporary or definitive EASY number)", "Order", [e, _path("orderId")]),
        api.catalog: ("getCatalog", "Products orderable for a company", "Catalog", [e]),
        api.notifications: ("listNotifications", "One notification per decision", "NotificationList",
                            WINDOW + PAGING),
        api.overdues: ("listOverdues", "Overdue cases with a status", "OverdueList", [
            _q("status", {"type": "string", "enum": list(OVERDUE_STATUSES)}, True), _q("easyNumber", STR),
            _q("customerReference", STR)] + WINDOW + PAGING),
        api.overdue: ("getOverdue", "An overdue case in full", "OverdueDetail", [e, o]),
        api.overdue_documents: ("listOverdueDocuments", "Documents sent for an overdue case", "Documents", [e, o]),
        api.catalog_overdue: ("getCatalogOverdue", "Overdue actions possible for a company", "CatalogOverdue", [e]),
        api.policies: ("listPolicies", "Policies of the account", "PolicyList", PAGING),
        api.countries: ("listCountries", "Countries", "CountryList", PAGING),
        api.country_identifiers: ("listCountryIdentifiers", "Legal identifier types", "IdentifierList",
                                  [_q("countryCode", STR)] + PAGING),
    }
    return {path: _operation(*spec[handler]) for path, handler in api.ROUTES}


def build_document() -> dict:
    """The OpenAPI 3.1 document (a dict ready for JSON)."""
    paths = _operations()
    paths["/authentication/v1/token"] = {"post": {
        "operationId": "login", "summary": "Login (password or refresh_token grant)",
        "security": [{"apiKey": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("LoginRequest")}}},
        "responses": {
            "200": {"description": "tokens", "content": {"application/json": {"schema": _ref("Token")}}},
            "400": {"description": "bad credentials, lockout or bad request",
                    "content": {"application/json": {"schema": _ref("LoginError")}}},
            **{s: r for s, r in _error_responses().items() if s in ("403", "429", "500")}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "CofaServe sandbox", "version": "1.0.0",
                 "description": "Local CofaServe look-alike; see sandbox/README.md and docs/contracts.md."},
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "headers": {"RateLimitLimit": {"schema": {"type": "integer"}, "description": "requests per window"},
                        "RateLimitRemaining": {"schema": {"type": "integer"}, "description": "left in window"}},
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                "idToken": {"type": "apiKey", "in": "header", "name": "Authorization",
                            "description": "the idToken of the login answer, raw or as 'Bearer <idToken>'"}}},
    }
