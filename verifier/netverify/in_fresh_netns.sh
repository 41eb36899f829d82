#!/bin/bash
# Runs a command in a fresh, private network namespace (only lo, brought up): what it does to
# the firewall, links and routes there vanishes with it, and the root namespace is never touched.
set -euo pipefail
exec unshare --net -- /bin/bash -c 'ip link set lo up && exec "$@"' in-fresh-netns "$@"
