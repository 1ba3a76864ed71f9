"""Every integer a user gives is checked by one function, so each entry refuses a non-integer in one wording."""

import pytest

from pipeline.candidates import check_count
from pipeline.errors import InputError, check_integer
from pipeline.inbetweens import check_frame_count
from pipeline.project import check_size, parse_project
from pipeline.video import write_video

FIRST = {"frame": 0, "prompt": "a fox"}

ENTRIES = {  # the field as a message names it, and a call giving it a value
    "steps": lambda value: parse_project({"steps": value, "keyframes": [FIRST]}),
    "fps": lambda value: parse_project({"fps": value, "keyframes": [FIRST]}),
    "keyframes[0].seed": lambda value: parse_project({"keyframes": [{**FIRST, "seed": value}]}),
    "height": lambda value: check_size(64, value),
    "count": check_count,
    "frames": check_frame_count,
    "crf": lambda value: write_video(iter([]), "video.mp4", fps=8, crf=value),
}


@pytest.mark.parametrize("value", [True, 4.0, "4", [4]])
@pytest.mark.parametrize("field", ENTRIES)
def test_every_integer_field_refuses_a_non_integer_naming_field_and_value(field, value):
    with pytest.raises(InputError) as error:
        ENTRIES[field](value)
    assert str(error.value) == f"{field} must be an integer, got {value!r}"


@pytest.mark.parametrize(
    ("low", "high", "limit", "value", "message"),
    [
        (1, None, "", 0, "n must be at least 1, got 0"),
        (None, 8, "", 9, "n must be at most 8, got 9"),
        (0, 51, "", -1, "n must be between 0 and 51, got -1"),
        (1, 50, "SDVC_MAX_STEPS", 51, "n must be between 1 and 50 (SDVC_MAX_STEPS), got 51"),
    ],
)
def test_a_value_out_of_range_is_refused_stating_the_range(low, high, limit, value, message):
    with pytest.raises(InputError) as error:
        check_integer(value, "n", low, high, limit)
    assert str(error.value) == message
    assert check_integer(low if low is not None else high, "n", low, high, limit) in (low, high)  # the bounds are in
    assert check_integer(10**30, "n") == 10**30  # no range: any integer, however large
