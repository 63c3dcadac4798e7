#!/bin/bash
# The action's container entry point. bash, not sh: dash drops environment variables whose names
# hold a hyphen (INPUT_SARIF-FILE, INPUT_FAIL-ON), and keysweep reads those itself. No argument
# is passed on: every input reaches keysweep as an INPUT_* variable, never as an option.
set -euo pipefail
exec keysweep action
