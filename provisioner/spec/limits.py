"""Caps on hostile input, shared by the reader of spec files (spec) and the YAML walker
(yamlnodes) without importing YAML where only a file is read."""

MAX_FILE_BYTES = 1024 * 1024   # a campaign is a few hundred bytes; 1 MiB is thousands of them
MAX_NODES = 100_000            # per document, counted while expanding aliases
MAX_DEPTH = 64                 # a campaign nests 5 levels deep
