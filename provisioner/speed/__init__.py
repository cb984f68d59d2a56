"""The speed machinery, kept apart so a reader of the pipeline need not know it exists: the
content-addressed spec cache (`cache`), the read-only state index (`state_index`), the files
both trust only whole (`checked`), the plan's helper process (`worker`) and pausing the
cyclic garbage collector around bulk loads (`collector`)."""
