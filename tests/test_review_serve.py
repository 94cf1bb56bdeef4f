"""An uploaded answers file whose entry is too long for a request: the page gets the rest and can
grade them."""

from __future__ import annotations

from starlette.testclient import TestClient

from handcalc.serve import app, sheet

LONG = "1" * 101  # one digit more than an entry may have
ESCAPED = "\\x01" * 40  # YAML escapes of 40 control characters, each shown as 4 characters


def test_an_uploaded_entry_too_long_is_left_empty_and_the_rest_grades() -> None:
    c = TestClient(app.create(sheet.load(None), "never"), raise_server_exceptions=False)
    text = f'z1: [{LONG}, 2, 3]\nloss: ["{ESCAPED}"]\n'
    back = c.post("/api/upload", json={"text": text}).json()
    assert back["answers"] == {"z1": ["", "2", "3"], "loss": [""]}
    assert back["problems"][0] == (
        "answers.yaml:1: z1[1]: the entry is too long (at most 100 characters)"
    )
    graded = c.post("/api/grade", json={"answers": back["answers"]})
    assert graded.status_code == 200
    assert graded.json()["steps"]["z1"]["verdicts"] == ["blank", "wrong", "wrong"]
