"""Planning: diff the desired campaigns against recorded state (and the tenant, when read)
into a `Plan` of actions (`build`), and explain an update field by field (`diff`). Pure: no
file, network or state I/O."""
