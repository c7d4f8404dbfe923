"""Temporary EASY numbers, orders, overdues, catalogs and company search over real HTTP."""

from datetime import date, timedelta

PRODUCT = "/tci/product/v1"
OVERDUE = "/tci/overdue/v1"
COMPANY = "/tci/company/v1"


def test_temporary_easy_numbers_are_linked_to_the_definitive_one(sandbox):
    links = [ln for ln in sandbox.truth("easy_number_links") if ln["deliveryId"]]
    assert links
    link = links[-1]
    versions = [v for v in sandbox.truth("order_versions") if v["orderId"] == link["orderId"]]
    first = versions[0]
    assert first["status"] == "STATUS_PENDING_DEBTOR_VALIDATION"
    assert first["easyNumber"] == first["temporaryEasyNumber"] == link["temporaryEasyNumber"]
    assert link["temporaryEasyNumber"].startswith("Z")
    assert versions[-1]["easyNumber"] == link["easyNumber"] and versions[-1]["status"] == "STATUS_CLOSED"
    with sandbox.client() as client:
        for easy in (link["temporaryEasyNumber"], link["easyNumber"]):
            order = client.get(f"{PRODUCT}/companies/{easy}/products/orders/{link['orderId']}").json()
            assert order["easyNumber"] == link["easyNumber"]
            assert order["temporaryEasyNumber"] == link["temporaryEasyNumber"]
            assert order["deliveryId"] == link["deliveryId"]
            delivery = client.get(f"{PRODUCT}/companies/{easy}/products/deliveries/{link['deliveryId']}").json()
            assert delivery["easyNumber"] == link["easyNumber"] and delivery["orderId"] == link["orderId"]
            assert delivery["temporaryEasyNumber"] == link["temporaryEasyNumber"]
        assert client.get(f"{PRODUCT}/companies/0000000/products/orders/{link['orderId']}").status_code == 404
        assert client.get(f"{PRODUCT}/companies/{link['easyNumber']}/products/orders/1").json()["messages"][0][
            "code"] == "not_found"


def test_unknown_buyers_are_listed_under_the_z_number_until_identified(sandbox, sandbox_factory):
    clock = sandbox.clock()
    links = [ln for ln in sandbox.truth("easy_number_links") if ln["deliveryId"]]
    created = {v["orderId"]: v for v in sandbox.truth("order_versions") if v["version"] == 1}
    link = next(ln for ln in reversed(links)
                if ln["identifiedAt"][:10] > created[ln["orderId"]]["orderDate"][:10] >= clock["firstAvailableDate"])
    day_after_order = date.fromisoformat(created[link["orderId"]]["orderDate"][:10]) + timedelta(days=1)
    identified = date.fromisoformat(link["identifiedAt"][:10])
    with sandbox_factory(today=day_after_order, epoch=date.fromisoformat(clock["epoch"])) as earlier:
        with earlier.client() as client:
            body = client.get(f"{PRODUCT}/companies/products", params={"orderId": link["orderId"]}).json()
            [company] = body["companies"]
            assert company["easyNumber"] == link["temporaryEasyNumber"]
            [product] = company["products"]
            assert product["orderStatus"] == "STATUS_PENDING_DEBTOR_VALIDATION" and product["deliveryId"] is None
            order = client.get(f"{PRODUCT}/companies/{link['temporaryEasyNumber']}/products/orders/{link['orderId']}")
            assert order.json()["easyNumber"] == link["temporaryEasyNumber"]
            earlier.advance_to(identified + timedelta(days=1))
            body = client.get(f"{PRODUCT}/companies/products", params={"orderId": link["orderId"]}).json()
            [company] = body["companies"]
            assert company["easyNumber"] == link["easyNumber"]
            assert company["products"][0]["temporaryEasyNumber"] == link["temporaryEasyNumber"]
            assert client.get(f"{PRODUCT}/companies/products",
                              params={"easyNumber": link["temporaryEasyNumber"]}).json()["count"] == 1


def test_every_notification_leads_to_its_delivery(sandbox):
    clock = sandbox.clock()
    notes = [n for n in sandbox.truth("notifications") if n["eventDate"] >= clock["firstAvailableDate"]][-30:]
    deliveries = {d["externalId"]: d for d in sandbox.truth("deliveries")}
    with sandbox.client() as client:
        for n in notes:
            resp = client.get(f"{PRODUCT}/companies/{n['easyNumber']}/products/deliveries/{n['externalId']}")
            assert resp.json() == deliveries[n["externalId"]]
            assert resp.json()["status"] == n["status"] and resp.json()["decisionDate"] == n["eventDate"]


def test_decision_changes_are_each_their_own_delivery(sandbox):
    deliveries = sandbox.truth("deliveries")
    by_order: dict[str, list[dict]] = {}
    for d in deliveries:
        by_order.setdefault(d["orderId"], []).append(d)
    under = [chain for chain in by_order.values() if any(d["status"] == "UNDER_WITHDRAWAL" for d in chain)]
    chain = next(c for c in under if c[-1]["status"] == "WITHDRAWN")
    pending = next(d for d in chain if d["status"] == "UNDER_WITHDRAWAL")
    assert pending["expiryDate"] is not None
    assert chain[-1]["decisionDate"] == pending["expiryDate"] + "T00:00:00Z"
    assert len({d["deliveryId"] for d in chain}) == len({d["externalId"] for d in chain}) == len(chain)


def test_overdues_list_detail_documents(sandbox):
    versions = sandbox.truth("overdue_versions")
    latest = {}
    for v in versions:
        latest[v["overdueId"]] = v
    multi = [k for k in latest if latest[k]["version"] > 2]
    assert multi, "overdue cases have several versions"
    case = latest[multi[-1]]
    docs = [d for d in sandbox.truth("overdue_documents") if d["overdueId"] == case["overdueId"]]
    with sandbox.client() as client:
        listing = client.get(f"{OVERDUE}/companies/overdues",
                             params={"status": case["status"], "easyNumber": case["easyNumber"]}).json()
        assert case["overdueId"] in {o["overdueId"] for o in listing["overdues"]}
        detail = client.get(f"{OVERDUE}/companies/{case['easyNumber']}/overdues/{case['overdueId']}").json()
        assert detail == {k: v for k, v in case.items() if k != "version"}
        served = client.get(f"{OVERDUE}/companies/{case['easyNumber']}/overdues/{case['overdueId']}/documents").json()
        assert served["count"] == len(docs)
        assert [d["fileName"] for d in served["documents"]] == [d["fileName"] for d in sorted(
            docs, key=lambda d: (d["uploadDate"], d["fileName"]))]
        missing = client.get(f"{OVERDUE}/companies/overdues")
        assert missing.status_code == 400 and missing.json()["messages"][0]["code"] == "missing_param"
        assert client.get(f"{OVERDUE}/companies/overdues", params={"status": "NOPE"}).status_code == 400
        catalog = client.get(f"{OVERDUE}/companies/{case['easyNumber']}/catalog-overdue").json()
        assert {d["debtType"] for d in catalog["debtTypes"]} == {"CI", "NGD"}
    statuses = {v["status"] for v in versions}
    assert {"PENDING", "IN_PROGRESS", "INDEMNIFIED"} <= statuses
    assert any(v["indemnification"] for v in versions) and any(v["payments"] for v in versions)


def test_company_search_and_catalog(sandbox):
    companies = [c for c in sandbox.truth("companies") if not c["isTemporary"]]
    branch = next(c for c in companies if not c["isHeadOffice"])
    head = next(c for c in companies if c["easyNumber"] == branch["headOfficeEasyNumber"])
    ident = head["legalIdentifiers"][0]
    with sandbox.client() as client:
        hits = client.get(f"{COMPANY}/companies/identifier", params={
            "countryCode": head["countryCode"], "identifierType": ident["type"],
            "identifierValue": " ".join(ident["value"][i:i + 3] for i in range(0, len(ident["value"]), 3))}).json()
        easies = {c["easyNumber"] for c in hits["companies"]}
        assert {head["easyNumber"], branch["easyNumber"]} <= easies
        word = head["companyName"].split()[0].lower()
        named = client.get(f"{COMPANY}/companies/name", params={"countryCode": head["countryCode"], "name": word,
                                                               "city": head["address"]["city"]}).json()
        assert head["easyNumber"] in {c["easyNumber"] for c in named["companies"]}
        assert client.get(f"{COMPANY}/companies/name", params={"name": word}).status_code == 400
        catalog = client.get(f"{PRODUCT}/companies/{head['easyNumber']}/catalog").json()
        assert len(catalog["products"]) == 13
        branch_catalog = client.get(f"{PRODUCT}/companies/{branch['easyNumber']}/catalog").json()
        assert all(p["actionCodes"] == [] for p in branch_catalog["products"])
        assert client.get(f"{PRODUCT}/companies/nope/catalog").status_code == 404
        countries = client.get("/tci/country/v1/countries", params={"pageSize": 100}).json()
        assert countries["count"] == 20
        idents = client.get("/tci/country/v1/countries/identifiers", params={"countryCode": "ECU"}).json()
        assert [i["type"] for i in idents["identifiers"]] == ["RUC_ECU"]
