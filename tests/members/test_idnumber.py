import pytest

from kangle.core.errors import CHINESE, render
from kangle.members.idnumber import check_character, gender_of, id_number_problem, normalise_id_number


def test_check_character_of_the_standard_example():
    # The example of GB 11643-1999: 11010519491231002X.
    assert check_character("11010519491231002") == "X"
    assert id_number_problem("11010519491231002X") is None


@pytest.mark.parametrize(
    ("number", "fragment"),
    [
        ("110105194912310021", "校验位"),  # wrong check digit
        ("11010519491231002", "18 位"),  # too short
        ("11010519491331002X", "出生日期"),  # month 13
        ("1101051949123100AX", "18 位"),  # letters inside
    ],
)
def test_bad_id_numbers_are_named(number, fragment):
    problem = id_number_problem(number)
    assert problem is not None and fragment in render(problem, language=CHINESE)


def test_full_width_lower_case_and_spaces_are_normalised():
    assert normalise_id_number(" １１０１０５ 1949123１002x ") == "11010519491231002X"
    assert gender_of("11010519491231002X") == "f"
