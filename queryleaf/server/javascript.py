"""No server-side JavaScript: `$where`, `$function` and `$accumulator` are refused in every
command before it runs (the embedded engine would evaluate `$where` as Python), as a mongod
started with `--noscripting` refuses them: BadValue (2). Documents being inserted are data,
not operators, and are not scanned; neither are values inside `$literal`."""

from __future__ import annotations

from typing import Any

from queryleaf.plan.server_javascript import find_server_javascript

from .errors import CommandError


def refuse_javascript(name: str, command: dict[str, Any]) -> None:
    """Raise BadValue (2) if the command holds a JavaScript operator at any depth."""
    found = find_server_javascript(
        [value for key, value in command.items() if not (name == "insert" and key == "documents")],
        code_values=False,
    )
    if found is not None:
        raise CommandError(
            2,
            f"{found} runs JavaScript, which queryleaf serve never executes "
            "(server-side scripting is disabled); express it with query or "
            "aggregation operators",
        )
