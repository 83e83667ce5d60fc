"""The weekly roster workflow: plan, review, override, replan with minimal change, publish.

Modules: `planning` (prepare, solve, summary), `versions` (store, publish, optimistic
locking), `overrides` (the coordinator's decisions), `diff` (what changed and why),
`advice` (suggest and explain), `report` (the week as an HTML page).
"""
