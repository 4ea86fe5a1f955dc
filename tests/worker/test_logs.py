import io
import json
import logging

from kelpie.worker.logs import OUTPUT_LOGGER, configure_logging, job_context


def capture(log_format: str) -> tuple[io.StringIO, io.StringIO]:
    events, output = io.StringIO(), io.StringIO()
    configure_logging("INFO", log_format, events=events, output=output)  # type: ignore[arg-type]
    logging.getLogger("kelpie.worker").info("took %s", "it")
    with job_context("job-7"):
        logging.getLogger("kelpie.worker.attempt").warning("inside")
        logging.getLogger(OUTPUT_LOGGER).info("a line of the command")
    logging.getLogger("kelpie.worker").debug("hidden")
    return events, output


def test_text_lines_carry_the_job_id_when_there_is_one() -> None:
    events, output = capture("text")
    first, second = events.getvalue().splitlines()
    assert first.endswith("Z INFO took it")
    assert second.endswith("Z WARNING job=job-7 inside")
    assert output.getvalue().rstrip().endswith("Z OUT job=job-7 a line of the command")


def test_json_lines() -> None:
    events, output = capture("json")
    first, second = (json.loads(line) for line in events.getvalue().splitlines())
    assert first["message"] == "took it"
    assert "job_id" not in first
    assert second["level"] == "WARNING"
    assert second["job_id"] == "job-7"
    assert second["time"].endswith("Z")
    line = json.loads(output.getvalue())
    assert line == line | {"stream": "job", "job_id": "job-7", "message": "a line of the command"}
