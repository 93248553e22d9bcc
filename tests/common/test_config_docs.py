"""docs/configuration.md must be what `make config-docs` writes from the settings and the registry."""

from pydantic import BaseModel, SecretStr

from services.common.variables import KNOWN, REMOVED
from services.config_docs import DOC, default_text, rendered


def test_the_configuration_reference_matches_the_settings() -> None:
    assert DOC.is_file(), "docs/configuration.md is missing: run `make config-docs`"
    assert DOC.read_text(encoding="utf-8") == rendered(), "docs/configuration.md drifted: run `make config-docs`"


def test_every_variable_has_a_row_and_a_secret_shows_no_default() -> None:
    rows = {line.split("`")[1]: line for line in rendered().splitlines() if line.startswith("| `WASPADA_")}
    assert set(rows) == KNOWN | set(REMOVED)
    assert "| secret (at least 16 characters) | required |" in rows["WASPADA_PSEUDONYM_KEY"]


def test_a_secret_with_a_default_shows_none() -> None:
    class WithSecret(BaseModel):
        token: SecretStr = SecretStr("hunter2-hunter2-hunter2")
        maybe: SecretStr | None = SecretStr("hunter2-hunter2-hunter2")

    assert {default_text(field) for field in WithSecret.model_fields.values()} == {"(secret)"}
