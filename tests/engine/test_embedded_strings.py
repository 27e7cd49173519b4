"""String operators: one test per correction made to mongomock-ng."""

from __future__ import annotations

import pytest
from pymongo.errors import OperationFailure


def test_substr_cp_counts_code_points(project):
    assert project({"$substrCP": ["$s", 1, 3]}, {"s": "héllo"}) == {"r": "éll"}
    assert project({"$substrCP": ["$missing", 0, 2]}) == {"r": ""}


def test_substr_bytes_counts_utf8_bytes(project):
    assert project({"$substrBytes": ["cafétéria", 5, 4]}) == {"r": "tér"}
    with pytest.raises(OperationFailure):
        project({"$substrBytes": ["é", 0, 1]})  # ends inside a character


def test_str_len_cp_and_bytes(project):
    assert project({"$strLenCP": "héllo"}) == {"r": 5}
    assert project({"$strLenBytes": "héllo"}) == {"r": 6}


def test_index_of_cp(project):
    assert project({"$indexOfCP": ["héllo", "l"]}) == {"r": 2}
    assert project({"$indexOfCP": ["héllo", "l", 3]}) == {"r": 3}
    assert project({"$indexOfCP": ["héllo", "z"]}) == {"r": -1}
    assert project({"$indexOfCP": ["$missing", "l"]}) == {"r": None}


def test_replace_all_and_replace_one(project):
    spec = {"input": "a.b.c", "find": ".", "replacement": "-"}
    assert project({"$replaceAll": spec}) == {"r": "a-b-c"}
    assert project({"$replaceOne": spec}) == {"r": "a-b.c"}
    assert project({"$replaceAll": {**spec, "input": "$missing"}}) == {"r": None}


def test_concat_with_missing_or_null_operand_is_null(project):
    assert project({"$concat": ["a", "$missing"]}) == {"r": None}
    assert project({"$concat": ["a", "$n"]}, {"n": None}) == {"r": None}
    assert project({"$concat": ["a", "b"]}) == {"r": "ab"}


def test_case_mapping_of_null_and_missing_is_empty_string(project):
    assert project({"$toLower": "$missing"}) == {"r": ""}
    assert project({"$toUpper": "$n"}, {"n": None}) == {"r": ""}
    # Only ASCII letters are mapped by the server; numbers are coerced to strings.
    assert project({"$toUpper": "abé"}) == {"r": "ABé"}
    assert project({"$toLower": 2.5}) == {"r": "2.5"}


def test_trim_family(project):
    assert project({"$trim": {"input": " \t a b \n"}}) == {"r": "a b"}
    assert project({"$ltrim": {"input": "  a  "}}) == {"r": "a  "}
    assert project({"$rtrim": {"input": "xxaxx", "chars": "x"}}) == {"r": "xxa"}
    assert project({"$trim": {"input": "$missing"}}) == {"r": None}
    assert project({"$trim": {"input": "abc", "chars": "$missing"}}) == {"r": None}


def test_regex_match_null_input_and_options(project):
    assert project({"$regexMatch": {"input": "$missing", "regex": "a"}}) == {"r": False}
    assert project({"$regexMatch": {"input": None, "regex": "a"}}) == {"r": False}
    assert project({"$regexMatch": {"input": "ABC", "regex": "b", "options": "i"}}) == {"r": True}
    assert project({"$regexMatch": {"input": "a\nb", "regex": "a.b", "options": "s"}}) == {
        "r": True
    }
    assert project({"$regexMatch": {"input": "a\nb", "regex": "a.b"}}) == {"r": False}


def test_strcasecmp_ignores_case(project):
    assert project({"$strcasecmp": ["abc", "ABC"]}) == {"r": 0}
    assert project({"$strcasecmp": ["abc", "ABD"]}) == {"r": -1}
