"""Customer references: the SCD2 history built from the daily lists (an erased reference, a quarantined
record, an unreadable one, a legacy `current` list), and company_history taking its reference from it
(both engines)."""

from tests.sql.test_history_models import listing
from tests.support.landing_builder import ts

COLUMNS = ["easy_number", "version_no", "valid_from", "valid_to", "is_current", "change_kind", "recorded_at",
           "customer_reference"]


def listed(partition, taken_at, *references):
    """One day's list: (easy_number, reference, updatedAt) each."""
    return [{"source_partition": partition, "extracted_at": ts(taken_at), "easy_number": easy,
             "customer_reference": reference, "updated_at": ts(updated)} for easy, reference, updated in references]


def quarantined(partition, taken_at, *easy_numbers):
    return [{"source_partition": partition, "extracted_at": ts(taken_at), "easy_number": easy,
             "reason": "updatedAt: expected a timestamp" if easy else "easyNumber: missing"} for easy in easy_numbers]


def history(harness):
    return harness.rows("customer_reference_history", "easy_number, version_no", COLUMNS)


def test_an_erased_reference_is_closed_from_the_day_a_list_stops_showing_it(harness):
    harness.stage("stg_customer_references",
                  listed("2025-01-02", "2025-01-02 02:00", ("100", "C-1", "2025-01-01 09:00"),
                         ("200", "K-1", "2024-12-01 09:00"))
                  + listed("2025-01-03", "2025-01-03 02:00", ("100", "C-2", "2025-01-02 15:00"),
                           ("200", "K-1", "2024-12-01 09:00"))
                  + listed("2025-01-04", "2025-01-04 02:00", ("200", "K-1", "2024-12-01 09:00"))  # 100 erased
                  + listed("2025-01-06", "2025-01-06 02:00", ("100", "C-3", "2025-01-05 11:00"),  # set again
                           ("200", "K-1", "2024-12-01 09:00")))
    harness.refresh_history()
    assert history(harness) == [
        {"easy_number": "100", "version_no": 1, "valid_from": ts("2025-01-01 09:00"),
         "valid_to": ts("2025-01-02 15:00"), "is_current": False, "change_kind": "observed",
         "recorded_at": ts("2025-01-02 02:00"), "customer_reference": "C-1"},
        {"easy_number": "100", "version_no": 2, "valid_from": ts("2025-01-02 15:00"),
         "valid_to": ts("2025-01-04 00:00"), "is_current": False, "change_kind": "observed",
         "recorded_at": ts("2025-01-03 02:00"), "customer_reference": "C-2"},
        {"easy_number": "100", "version_no": 3, "valid_from": ts("2025-01-04 00:00"),
         "valid_to": ts("2025-01-05 11:00"), "is_current": False, "change_kind": "erased",
         "recorded_at": ts("2025-01-04 02:00"), "customer_reference": None},
        {"easy_number": "100", "version_no": 4, "valid_from": ts("2025-01-05 11:00"), "valid_to": None,
         "is_current": True, "change_kind": "observed", "recorded_at": ts("2025-01-06 02:00"),
         "customer_reference": "C-3"},
        {"easy_number": "200", "version_no": 1, "valid_from": ts("2024-12-01 09:00"), "valid_to": None,
         "is_current": True, "change_kind": "observed", "recorded_at": ts("2025-01-02 02:00"),
         "customer_reference": "K-1"},
    ]


def test_a_quarantined_record_is_no_erasure_and_an_unreadable_one_closes_nothing(harness):
    refs = [("100", "C-1", "2025-01-01 09:00"), ("200", "K-1", "2024-12-01 09:00"), ("300", "M-1", "2024-11-01 09:00")]
    harness.stage("stg_customer_references",
                  listed("current", "2025-01-01 23:00", *refs)  # landed before the lists were kept daily
                  + listed("2025-01-03", "2025-01-03 02:00", refs[2])  # 100 quarantined, 200 unreadable?
                  + listed("2025-01-04", "2025-01-04 02:00", refs[2])
                  + listed("2025-01-05", "2025-01-05 02:00", refs[2]))
    harness.stage("stg_customer_references_quarantine",
                  quarantined("2025-01-03", "2025-01-03 02:00", "100", None)
                  + quarantined("2025-01-04", "2025-01-04 02:00", "100", None)
                  + quarantined("2025-01-05", "2025-01-05 02:00", "100"))
    harness.refresh_history()
    rows = [(r["easy_number"], r["change_kind"], r["valid_from"], r["recorded_at"]) for r in history(harness)]
    assert rows == [
        ("100", "observed", ts("2025-01-01 09:00"), ts("2025-01-01 23:00")),  # its record is named: listed
        ("200", "observed", ts("2024-12-01 09:00"), ts("2025-01-01 23:00")),
        ("200", "erased", ts("2025-01-05 00:00"), ts("2025-01-05 02:00")),  # not by the lists of the 3rd, 4th
        ("300", "observed", ts("2024-11-01 09:00"), ts("2025-01-01 23:00")),
    ]


def test_a_company_only_ever_quarantined_has_no_reference_history(harness):
    harness.stage("stg_customer_references", listed("2025-01-03", "2025-01-03 02:00", ("200", "K-1", "2024-12-01 09:00"))
                  + listed("2025-01-04", "2025-01-04 02:00", ("200", "K-1", "2024-12-01 09:00")))
    harness.stage("stg_customer_references_quarantine", quarantined("2025-01-03", "2025-01-03 02:00", "100"))
    harness.refresh_history()
    assert [r["easy_number"] for r in history(harness)] == ["200"]


def test_company_history_takes_the_reference_in_force_listed_or_not(harness):
    def seen(partition, at, reference):
        return listing("100", partition, at, company_name="ACME", country_code="FRA", legal_identifiers="[]",
                       customer_reference=reference)

    # the portfolio lists 100 twice, its own reference stale; the lists change it in between and erase it
    harness.stage("stg_portfolio", [seen("2025-01-01", "2025-01-02 02:00", "OLD"),
                                    seen("2025-01-07", "2025-01-08 02:00", "OLD")])
    harness.stage("stg_customer_references",
                  listed("2025-01-03", "2025-01-03 02:00", ("100", "C-2", "2025-01-02 15:00"))
                  + listed("2025-01-04", "2025-01-04 02:00", ("200", "K-1", "2024-12-01 09:00")))
    harness.refresh_history()
    columns = ["version_no", "valid_from", "valid_to", "recorded_at", "company_name", "customer_reference"]
    assert harness.rows("company_history", "version_no", columns) == [
        {"version_no": 1, "valid_from": ts("2025-01-02 02:00"), "valid_to": ts("2025-01-02 15:00"),
         "recorded_at": ts("2025-01-02 02:00"), "company_name": "ACME", "customer_reference": "OLD"},
        {"version_no": 2, "valid_from": ts("2025-01-02 15:00"), "valid_to": ts("2025-01-04 00:00"),
         "recorded_at": ts("2025-01-03 02:00"), "company_name": "ACME", "customer_reference": "C-2"},
        {"version_no": 3, "valid_from": ts("2025-01-04 00:00"), "valid_to": None,
         "recorded_at": ts("2025-01-04 02:00"), "company_name": "ACME", "customer_reference": None},
    ]  # the listing of the 8th, still saying OLD, is no change: the reference was erased on the 4th


def _noted(harness, new_keys):
    import sqlalchemy as sa

    from resources.warehouse.list_changes import note_list_changes
    from resources.warehouse.models import models_by_name

    with harness.engine.begin() as conn:
        conn.execute(sa.text("delete from _wh_changes"))
        note_list_changes(conn, models_by_name()["stg_customer_references"], "POLICY-1", new_keys)
        return {easy for (easy,) in conn.execute(sa.text("select easy_number from _wh_changes"))}


def test_a_new_list_changes_only_the_companies_it_lists_differently(harness):
    a, b, c = ("100", "A-1", "2025-01-01 09:00"), ("200", "B-1", "2025-01-01 10:00"), ("300", "C-1", "2024-12-01 10:00")
    harness.stage("stg_customer_references",
                  listed("2025-01-02", "2025-01-02 02:00", a, b, c)
                  + listed("2025-01-03", "2025-01-03 02:00", ("100", "A-2", "2025-01-02 12:00"), b)  # 300 erased
                  + listed("2025-01-04", "2025-01-04 02:00", ("100", "A-2", "2025-01-02 12:00"), b))
    assert _noted(harness, ["2025-01-04"]) == set()  # listed exactly as the day before
    assert _noted(harness, ["2025-01-03", "2025-01-04"]) == {"100", "200", "300"}  # two new lists: every company
    assert _noted(harness, ["2025-01-03"]) == {"100", "200", "300"}  # not the latest list: every company
    harness.stage("stg_customer_references_quarantine", quarantined("2025-01-03", "2025-01-03 02:00", None))
    assert _noted(harness, ["2025-01-04"]) == {"100", "200", "300"}  # the list before holds an unreadable record
    harness.stage("stg_customer_references", listed("2025-01-05", "2025-01-05 02:00", ("100", "A-3", "2025-01-04 12:00")))
    assert _noted(harness, ["2025-01-05"]) == {"100", "200"}  # 100 changed, 200 erased; the list before is readable
