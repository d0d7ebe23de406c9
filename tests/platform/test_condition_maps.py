"""A phase's condition map: read strictly, checked against the protocol and the references on save and by the
readiness check, with messages that name the line, the key or the condition to fix."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile

from arena.challenges.condition_maps import ConditionMapError, check_condition_map, parse_condition_map
from arena.challenges.models import Phase
from arena.challenges.readiness import phase_readiness
from tests.platform.factories import PhaseFactory

CONDITIONS = ["clean", "snr0"]
PROTOCOL = {"conditions": [{"name": "clean", "condition": "clean"}, {"name": "snr0", "condition": "noise:white@0db"}],
            "seed": 1, "summary": "worst"}
GOOD_MAP = b"name,condition\ns1,clean\ns2,clean\ns3,snr0\ns4,clean\ns5,snr0\n"
REFERENCE_KEYS = {"public": ["s1", "s2", "s3"], "private": ["s4", "s5"]}


def _refused(data: bytes) -> str:
    with pytest.raises(ConditionMapError) as caught:
        parse_condition_map(data, key_column="name", conditions=CONDITIONS)
    return caught.value.message


def test_a_map_gives_each_conditions_keys_in_protocol_order():
    data = b"\xef\xbb\xbfname , condition\r\ns3,snr0\r\n\r\n  s1\t,clean\r\ns2,clean\r\n"
    assert parse_condition_map(data, key_column="name", conditions=CONDITIONS) == {
        "clean": ["s1", "s2"], "snr0": ["s3"]}


@pytest.mark.parametrize(("data", "message"), [
    (b"", 'The condition map is empty; write the header "name,condition" and then one row per reference key.'),
    (b"key,condition\ns1,clean\n", "The condition map's header must be \"name,condition\"; line 1 is "
                                   "'key,condition'."),
    (b"name,condition\ns1,clean\ns2,snr5\n", "Line 3 of the condition map names condition 'snr5', which is not in "
                                             "the phase's robustness protocol (its conditions: clean, snr0)."),
    (b"name,condition\ns1,clean\ns2,snr0\ns1,snr0\n", "Line 4 of the condition map maps name 's1' again (first on "
                                                      "line 2); map each key once."),
    (b"name,condition\ns1,clean,extra\n", "Line 2 of the condition map has 3 cells; write two: the name and its "
                                          "condition."),
    (b"name,condition\n,clean\n", "Line 2 of the condition map has an empty name."),
    (b"name,condition\ns1,cl\xe9an\n", "The condition map is not UTF-8 text (line 2); save it as UTF-8."),
    (b"name,condition\ns1,\"clean\n", "Line 2 of the condition map is not valid CSV: unexpected end of data."),
])
def test_a_malformed_map_is_refused_naming_the_line(data, message):
    assert _refused(data) == message


@pytest.mark.parametrize(("groups", "message"), [
    ({"clean": ["s1", "s2", "s4"], "snr0": ["s3"]},
     "The condition map does not map name 's5' of the private reference (1 of its 2 keys are not mapped); map every "
     "key of the references once."),
    ({"clean": ["s1", "s2", "s4"], "snr0": ["s3", "s5", "s9"]},
     "The condition map maps name 's9', which is in no reference of the phase (1 such keys); map the references' "
     "keys only."),
    ({"clean": ["s1", "s2", "s3", "s4"], "snr0": ["s5"]},
     "Condition 'snr0' has no key of the public reference; each condition is scored on each reference, so map some "
     "of its keys to every condition."),
])
def test_a_map_must_cover_the_references_exactly(groups, message):
    with pytest.raises(ConditionMapError) as caught:
        check_condition_map(groups, key_column="name", reference_keys=REFERENCE_KEYS)
    assert caught.value.message == message


@pytest.mark.django_db
def test_a_good_map_is_accepted_on_save():
    phase = PhaseFactory(robustness_protocol=PROTOCOL, condition_map=ContentFile(GOOD_MAP, name="map.csv"))
    phase.full_clean()
    assert not [p for p in phase_readiness(phase).problems if "condition" in p.message]


@pytest.mark.django_db
def test_a_map_missing_a_reference_key_is_refused_on_save_and_flagged_for_organisers():
    bad = b"name,condition\ns1,clean\ns2,clean\ns3,snr0\ns4,snr0\n"
    phase = PhaseFactory(robustness_protocol=PROTOCOL, condition_map=ContentFile(bad, name="map.csv"))
    message = ("The condition map does not map name 's5' of the private reference (1 of its 2 keys are not mapped); "
               "map every key of the references once.")
    with pytest.raises(ValidationError) as caught:
        phase.full_clean()
    assert caught.value.message_dict == {"condition_map": [message]}
    assert message in [problem.message for problem in phase_readiness(phase).problems]
    assert Phase.objects.get(pk=phase.pk).condition_map.name == phase.condition_map.name  # nothing changed


@pytest.mark.django_db
def test_a_map_naming_a_condition_outside_the_protocol_is_refused_on_save():
    bad = b"name,condition\ns1,clean\ns2,clean\ns3,snr5\ns4,clean\ns5,snr0\n"
    phase = PhaseFactory(robustness_protocol=PROTOCOL, condition_map=ContentFile(bad, name="map.csv"))
    with pytest.raises(ValidationError) as caught:
        phase.full_clean()
    assert caught.value.message_dict == {"condition_map": [
        "Line 4 of the condition map names condition 'snr5', which is not in the phase's robustness protocol "
        "(its conditions: clean, snr0)."]}


@pytest.mark.django_db
def test_a_map_without_a_protocol_is_refused():
    phase = PhaseFactory(condition_map=ContentFile(GOOD_MAP, name="map.csv"))
    with pytest.raises(ValidationError) as caught:
        phase.full_clean()
    assert caught.value.message_dict == {"condition_map": [
        "A condition map needs a robustness protocol on the phase (its conditions are the protocol's); add a "
        "protocol or remove the map."]}
