"""The suppress stage (ARCHITECTURE.md §1): baseline, config allowlists, disabled rules and inline
`keysweep:allow` pragmas, applied to a finished report, counting what it drops and why.

Nothing here reads a file: `settings` (the config file) and `baseline` parse and render text,
`apply` is a pure function from a report and a policy to a report, and `trusted` is the one place
that reads the config and baseline out of a commit's tree.
"""
