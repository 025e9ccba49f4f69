"""Campaign detection: copies of one letter grouped, letters that share only an opening kept apart."""

import numpy as np
from datasketch import MinHash

from consult.analysis import campaigns as C

TEMPLATE = (
    "The proposed facility would release thousands of tons of pollution every year into the air around the "
    "bay. It threatens the health of families, wildlife and the fishing industry that our towns depend on. "
    "I ask the agency to deny the permit, to hold a public hearing in the county, and to extend the comment "
    "period by sixty days so that residents can be heard."
)
OPENING = "I live in this county and my comment concerns the permit application for the terminal."
OTHERS = [
    "Noise from the construction site starts before six in the morning and continues late into the evening, "
    "which breaks the local rules on working hours; the operator should publish a schedule and keep to it.",
    "The traffic study assumes that lorries will use the northern road, but that road is closed to heavy vehicles "
    "for half of the year, so the real impact on the village centre is much larger than the study says.",
    "The company has not explained how it would handle a spill during a storm, when the booms cannot be deployed, "
    "and the emergency plan refers to equipment that is stored more than eighty kilometres away.",
]


def test_templates_with_personal_sentences_and_edits_are_one_campaign():
    texts = {
        1: TEMPLATE,
        2: "As a grandmother of four I care deeply about this. " + TEMPLATE,
        3: TEMPLATE + " My son has asthma and we live two miles from the site.",
        4: TEMPLATE.replace("thousands", "many thousands").replace("sixty", "ninety"),
        5: " ".join(reversed(TEMPLATE.split(". "))),  # paragraphs reordered
        6: OTHERS[0],
    }
    campaigns = C.find_campaigns(texts)
    assert len(campaigns) == 1
    assert campaigns[0].members == [1, 2, 3, 4, 5]
    assert campaigns[0].representative in {1, 4}


def test_letters_sharing_only_an_opening_line_are_not_grouped():
    texts = {i: OPENING + " " + body for i, body in enumerate(OTHERS)}
    assert C.find_campaigns(texts) == []


def test_two_campaigns_are_kept_apart_and_listed_largest_first():
    texts = {i: TEMPLATE + f" Signed, person {i}." for i in range(1, 4)}
    texts.update({10 + i: OTHERS[1] + f" Regards, neighbour {i}." for i in range(5)})
    campaigns = C.find_campaigns(texts)
    assert [c.size for c in campaigns] == [5, 3]
    assert campaigns[0].members == [10, 11, 12, 13, 14]


def test_signature_is_datasketch_minhash():
    values = C.shingle_array(TEMPLATE)
    reference = MinHash(num_perm=C.NUM_PERM, hashfunc=lambda v: v)
    reference.update_batch(values.tolist())
    assert np.array_equal(C.signature(values).hashvalues, reference.hashvalues)
    assert np.array_equal(
        C.signature_from_bytes(C.signature_bytes(C.signature(values))).hashvalues, reference.hashvalues
    )


def test_empty_and_short_texts():
    assert C.find_campaigns({1: "", 2: "  ", 3: "ok"}) == []
    assert [c.members for c in C.find_campaigns({1: "I oppose.", 2: "I oppose!"})] == [[1, 2]]


def test_chunked_prepare_equals_text_by_text():
    texts = {1: TEMPLATE, 2: "Too short", 3: "", 4: OTHERS[0], 5: OTHERS[1] + " " + OTHERS[2], 6: "one"}
    prepared = C.prepare(texts)
    assert set(prepared) == {1, 2, 4, 5, 6}
    for cid, (size, sig) in prepared.items():
        array = C.shingle_array(texts[cid])
        assert size == len(array)
        assert np.array_equal(sig.hashvalues, C.signature(array).hashvalues)
