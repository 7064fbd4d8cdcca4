# Shared helpers for test/cluster/{up,down,node-fail,node-recover,make-local-pvs}. Sourced, not run.
# shellcheck shell=bash

cluster_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$cluster_here/versions.env"
cluster_dir=${STS_DOCTOR_CLUSTER_DIR:-/dev/shm/sts-doctor-cluster}
# Written into every run dir; `down` refuses to delete a directory without it.
cluster_marker=.sts-doctor-cluster

# The components, in start order. `down` stops them in reverse order.
cluster_components=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

# alive_as PID NAME: PID is a live process whose argv[0] is the binary NAME (guards against a
# recycled PID: we never signal a process that is not the component we started).
alive_as() {
  local pid=$1 name=$2 argv0
  case "$pid" in '' | *[!0-9]*) return 1 ;; esac
  [ -r "/proc/$pid/cmdline" ] || return 1
  argv0=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n 1) || return 1
  [ "${argv0##*/}" = "$name" ] || return 1
  # A zombie has an empty cmdline, so it fails above; a stopped-but-not-reaped one is fine to skip.
  return 0
}

# stop_recorded DIR: SIGTERM every recorded PID in reverse order, SIGKILL what is left after a grace
# period. Only PIDs listed in DIR/pids whose argv[0] names the recorded binary are signalled.
stop_recorded() {
  local dir=$1 grace=${STS_DOCTOR_STOP_GRACE:-5}
  [ -f "$dir/pids" ] || return 0
  local -a names=() pids=()
  local name pid i
  while read -r name pid; do
    [ -n "$name" ] || continue
    names+=("$name"); pids+=("$pid")
  done <"$dir/pids"
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    if alive_as "${pids[i]}" "${names[i]}"; then
      kill -TERM "${pids[i]}" 2>/dev/null || true
      # Give each component a moment so that dependents go before what they depend on.
      local t
      for t in 1 2 3 4 5 6 7 8 9 10; do
        alive_as "${pids[i]}" "${names[i]}" || break
        sleep 0.1
      done
    fi
  done
  local deadline=$((SECONDS + grace)) left
  while :; do
    left=0
    for i in "${!pids[@]}"; do
      alive_as "${pids[i]}" "${names[i]}" && left=1
    done
    [ "$left" = 0 ] && break
    [ "$SECONDS" -ge "$deadline" ] && break
    sleep 0.2
  done
  for i in "${!pids[@]}"; do
    if alive_as "${pids[i]}" "${names[i]}"; then
      echo "test/cluster: ${names[i]} (pid ${pids[i]}) ignored SIGTERM, sending SIGKILL" >&2
      kill -KILL "${pids[i]}" 2>/dev/null || true
    fi
  done
  for i in "${!pids[@]}"; do
    for t in 1 2 3 4 5 6 7 8 9 10; do
      alive_as "${pids[i]}" "${names[i]}" || break
      sleep 0.1
    done
  done
}

# remove_run_dir DIR: delete a run dir, but only one that `up` created.
remove_run_dir() {
  local dir=$1
  [ -d "$dir" ] || return 0
  if [ ! -f "$dir/$cluster_marker" ]; then
    echo "test/cluster: refusing to delete $dir: it has no $cluster_marker file" >&2
    return 1
  fi
  rm -rf -- "$dir"
}

# kubectl for the recorded cluster.
cluster_kubectl() {
  # shellcheck disable=SC1091
  . "$cluster_dir/env"
  "$STS_DOCTOR_KUBECTL" --kubeconfig "$cluster_dir/kubeconfig" "$@"
}

require_cluster() {
  if [ ! -f "$cluster_dir/env" ] || [ ! -f "$cluster_dir/kubeconfig" ]; then
    echo "test/cluster: no cluster recorded in $cluster_dir (run test/cluster/up)" >&2
    exit 1
  fi
}
