"""The checked-in JSON Schema files must match the models (run `make schemas` after a change)."""

from schemas.export import JSON_DIR, rendered


def test_checked_in_json_schemas_match_the_models() -> None:
    expected = rendered()
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in JSON_DIR.glob("*.json")}
    assert sorted(on_disk) == sorted(expected), "schemas/json has missing or extra files: run `make schemas`"
    for name, text in expected.items():
        assert on_disk[name] == text, f"schemas/json/{name} drifted from the models: run `make schemas`"
