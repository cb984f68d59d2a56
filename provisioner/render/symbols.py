"""One symbol per plan action, shared by every renderer (text, markdown), so a reviewer who
reads both sees the same mark for the same action."""

SYMBOLS = {"create": "+", "update": "~", "delete": "-", "adopt": "=", "blocked": "!",
           "orphan": "?", "noop": " "}
