"""Caps on hostile input, shared by the reader of spec files (spec) and the YAML walker
(yamlnodes) without importing YAML where only a file is read.

Alias expansion is capped three ways, so no input makes a run slow: per document, per file
(a file of thousands of documents each just under the document cap took a minute and
gigabytes), and per run (many files each just under the file cap). The walker expands
about five million nodes a second.
"""

MAX_FILE_BYTES = 1024 * 1024   # a campaign is a few hundred bytes; 1 MiB is thousands of them
MAX_NODES = 100_000            # per document, counted while expanding aliases
MAX_FILE_NODES = 1_000_000     # per file: more than a 1 MiB file without aliases can hold
MAX_RUN_NODES = 20_000_000     # per run: 300,000 campaigns of the create page's sample
MAX_DEPTH = 64                 # a campaign nests 5 levels deep


class RunBudget:
    """The nodes this process may still expand in this run. `specfiles.load_all` resets it
    at the start of each load, and gives each worker process its share of it."""

    nodes = MAX_RUN_NODES

    @classmethod
    def reset(cls, share: int = 1) -> None:
        cls.nodes = MAX_RUN_NODES // max(share, 1)
