"""The cause a failed run reports is the exception our code raised, read from the first line of its message
(the rest joined), without Dagster's wrapper or a module path."""

from types import SimpleNamespace

from pipelines.runs import _cause


def error(cls_name, message, cause=None):
    return SimpleNamespace(cls_name=cls_name, message=message, cause=cause)


def test_the_wrapped_exception_is_the_cause_with_its_class_name_only():
    ours = error("WarehouseUnreachable", "resources.warehouse.targets.WarehouseUnreachable: cannot write in /x\n")
    wrapped = error("DagsterExecutionStepExecutionError", "Error occurred while executing op \"models\":", ours)
    assert _cause(wrapped) == "WarehouseUnreachable: cannot write in /x"


def test_a_multi_line_message_keeps_its_class_and_every_line():
    boom = error("Boom", "tests.Boom: first line\nsecond: detail\n(Background on this error at: https://sqlalche.me/e)")
    assert _cause(boom) == "Boom: first line second: detail"


def test_a_failure_is_its_description_alone():
    failure = error("Failure", "dagster._core.definitions.events.Failure: the API's clock reads 2026-11-23:\nrun again")
    assert _cause(failure) == "the API's clock reads 2026-11-23: run again"
