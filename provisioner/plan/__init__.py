"""Planning: a plan as data (`model`), built by diffing the desired campaigns against
recorded state and the tenant, when read (`build`), an update explained field by field
(`diff`), and a saved plan file read back (`saved`, the one module here that reads a file)."""
