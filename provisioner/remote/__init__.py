"""Talking to the Kore.ai campaign API: JWT auth (`auth`), the shared request budget
(`ratelimit`), reading answers (`responses`), sending with retries (`transport`), the client
(`client`, with `contactlists` and `runstate`) and reading the tenant for a plan (`refresh`).
The only package that imports `requests`; an offline command never imports it."""
