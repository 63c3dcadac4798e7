"""The GitHub Action's side of keysweep: what reads the runner and writes for it.

`entry.py` (`keysweep action`, run by entrypoint.sh), `inputs.py` (the `INPUT_*` variables, the
runner's `GITHUB_*` context, the event payload), `event.py` (what a workflow run scans, decided
purely from the event and a view of the clone) and `outputs.py` (`$GITHUB_OUTPUT`, the SARIF and
HTML files, `$GITHUB_STEP_SUMMARY`, the failure annotation). The annotations and the job summary
themselves are formats, rendered purely in scanner/output/ (`annotations.py`, `summary.py`).
"""
