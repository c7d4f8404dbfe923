"""DateWindow: half-open GMT days, the "+1 day" rule at the boundaries, and refusal of bad input."""

from datetime import UTC, date, datetime

import pytest

from resources.cofaserve import DateWindow, DateWindowError
from tests.unit.test_client_fakes import FakeApi, make_client


@pytest.mark.parametrize(
    ("day", "sent_to"),
    [
        (date(2020, 7, 1), "2020-07-02"),  # the functional page's own example
        (date(2026, 12, 31), "2027-01-01"),  # year end
        (date(2024, 2, 28), "2024-02-29"),  # leap year
        (date(2024, 2, 29), "2024-03-01"),
        (date(2025, 2, 28), "2025-03-01"),  # not a leap year
        (date(2026, 3, 29), "2026-03-30"),  # a DST change in Europe: GMT days do not care
    ],
)
def test_a_window_for_day_d_is_sent_as_d_to_d_plus_one(day, sent_to):
    window = DateWindow.for_day(day)
    assert window.to_params() == {"dateFrom": day.isoformat(), "dateTo": sent_to}
    assert window.days == 1
    assert window.contains(day)
    assert not window.contains(date.fromisoformat(sent_to))  # the end is excluded


def test_covering_includes_both_days_and_sends_the_day_after_the_last():
    window = DateWindow.covering(date(2026, 1, 30), date(2026, 2, 1))
    assert window == DateWindow(date(2026, 1, 30), date(2026, 2, 2))
    assert window.days == 3
    assert window.to_params("from", "to") == {"from": "2026-01-30", "to": "2026-02-02"}


def test_empty_window_is_refused_with_a_hint():
    with pytest.raises(DateWindowError, match=r"empty.*for_day"):
        DateWindow(date(2026, 1, 1), date(2026, 1, 1))


def test_inverted_window_is_refused():
    with pytest.raises(DateWindowError, match="inverted"):
        DateWindow(date(2026, 1, 2), date(2026, 1, 1))
    with pytest.raises(DateWindowError, match="inverted"):
        DateWindow.covering(date(2026, 1, 3), date(2026, 1, 1))


@pytest.mark.parametrize(
    "bad",
    ["2026-01-01", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1), None, 20260101, 1.5],
)
def test_non_date_input_is_refused_by_name_and_type(bad):
    with pytest.raises(DateWindowError, match=r"start must be a datetime.date"):
        DateWindow(bad, date(2026, 1, 2))
    with pytest.raises(DateWindowError, match=r"end must be a datetime.date"):
        DateWindow(date(2026, 1, 1), bad)
    with pytest.raises(DateWindowError, match=r"day must be a datetime.date"):
        DateWindow.for_day(bad)


def test_parse_accepts_only_plain_days():
    assert DateWindow.parse("2026-01-01", "2026-01-02") == DateWindow.for_day(date(2026, 1, 1))
    for bad in ("2026-1-1", "20260101", "2026-W01-1", "2026-02-30", "2026-01-01T00:00:00Z", ""):
        with pytest.raises(DateWindowError, match="YYYY-MM-DD"):
            DateWindow.parse(bad, "2026-03-01")


def test_window_is_a_value():
    a, b = DateWindow.for_day(date(2026, 1, 1)), DateWindow(date(2026, 1, 1), date(2026, 1, 2))
    assert a == b and hash(a) == hash(b)
    assert str(a) == "[2026-01-01, 2026-01-02)"
    with pytest.raises(AttributeError):
        a.start = date(2025, 1, 1)


def test_client_sends_the_window_with_configured_parameter_names(tmp_path):
    api = FakeApi()
    api.list_route("/tci/notification/v1/notifications", "notifications", [])
    with make_client(tmp_path, api, date_from_param="from", date_to_param="until") as client:
        assert list(client.iter_notifications(DateWindow.for_day(date(2026, 2, 28)))) == []
    params = api.business_requests()[-1].url.params
    assert params["from"] == "2026-02-28" and params["until"] == "2026-03-01"
    assert "dateFrom" not in params


def test_client_refuses_a_missing_or_wrong_window_before_any_call(tmp_path):
    api = FakeApi()
    with make_client(tmp_path, api) as client:
        with pytest.raises(DateWindowError, match="needs a DateWindow"):
            client.iter_notifications(None)
        with pytest.raises(DateWindowError, match="needs a DateWindow"):
            client.iter_portfolio(("2026-01-01", "2026-01-02"))
    assert api.requests == []
