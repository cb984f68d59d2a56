"""Rendering: plans as text, JSON and markdown (`text`, `markdown`), spec problems as text,
JSON and GitHub annotations (`problems`), and the escaping every renderer applies to strings
that come from specs or from the tenant (`escape`). Pure: renderers write to a given stream
or return strings."""
