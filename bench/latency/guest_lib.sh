# SPDX-License-Identifier: Apache-2.0
# guest_lib.sh: shell helpers the guest measuring scripts share (sourced).

# True while a sched_ext scheduler is attached.
enabled() { [ "$(cat /sys/kernel/sched_ext/state)" = enabled ]; }

# under_peer LOADER RUN: runs the shell line RUN while the sched_ext peer
# LOADER (a kernel example scheduler, e.g. scx_simple) is attached.
under_peer() {
  "$1" > /dev/null 2>&1 &
  _peer=$!
  until enabled; do sleep 0.05; done
  sh -c "$2"
  kill -INT $_peer
  wait $_peer
}
