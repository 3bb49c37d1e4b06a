# Shared by the control-plane benchmarks (sourced, not run): start servers on free loopback ports
# with a fresh data directory each, run the load generator against them, and clean up. Expects
# $work (a temporary directory) and the array pids=() to be set by the caller, and $loadgen and
# $seconds for the functions that run the generator.

# The benchmarks' EXIT trap (`trap cleanup EXIT`): stops the servers started (pids), waits for
# them, and removes $work.
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}

# Starts `rolewright serve` (BINARY) as NAME with a fresh data directory $work/NAME, waits for
# its address, and sets url_NAME and creds_NAME (the generator's credential flags).
serve_rolewright() { # NAME BINARY
  local name="$1" bin="$2"
  "$bin" serve --data-dir "$work/$name" --listen 127.0.0.1:0 --max-roles 100000000 \
    >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  local pid=$!
  for _ in $(seq 300); do
    grep -q '^listening on http://' "$work/$name.out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { echo "error: $name server exited:" >&2; cat "$work/$name.err" >&2; exit 1; }
    sleep 0.1
  done
  local url
  url=$(sed -n '1s/^listening on //p' "$work/$name.out")
  [ -n "$url" ] || { echo "error: $name printed no address" >&2; exit 1; }
  printf -v "url_$name" '%s' "$url"
  printf -v "creds_$name" '%s' "--credentials $work/$name/credentials --profile rolewright"
}

# Starts `rolewright serve` (BINARY) as NAME, creates the generator's roles (and with USERS > 0 a
# Studio domain of that many user profiles), and sets url_NAME and creds_NAME.
start_rolewright() { # NAME BINARY [USERS]
  local name="$1" bin="$2" users="${3:-0}"
  serve_rolewright "$name" "$bin"
  local url_var="url_$name" creds_var="creds_$name"
  local url="${!url_var}"
  # shellcheck disable=SC2086
  "$loadgen" --url "$url" ${!creds_var} --setup --requests 1 --duration 5 --format json >/dev/null
  if [ "$users" -gt 0 ]; then
    # shellcheck disable=SC2086
    "$loadgen" --url "$url" ${!creds_var} --setup --workload describe-domain --users "$users" \
      --requests 1 --duration 5 --format json >/dev/null
  fi
}

# Starts moto's server as NAME (after bench/server/setup-moto.sh) on a free loopback port, waits
# for it, and sets url_NAME and creds_NAME (moto accepts any keys).
serve_moto() { # NAME
  local name="$1" port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  target/moto-venv/bin/moto_server -p "$port" -H 127.0.0.1 >"$work/$name.log" 2>&1 &
  pids+=($!)
  local pid=$!
  for _ in $(seq 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    kill -0 "$pid" 2>/dev/null || { echo "error: moto_server exited during start-up" >&2; exit 1; }
    sleep 0.1
  done
  printf -v "url_$name" '%s' "http://127.0.0.1:$port"
  printf -v "creds_$name" '%s' "--access-key AKIDMOTOBENCH --secret-key moto-bench-secret"
}

# Starts moto's server as NAME, creates the generator's roles there, and sets url_NAME and
# creds_NAME.
start_moto() { # NAME
  local name="$1"
  serve_moto "$name"
  local url_var="url_$name" creds_var="creds_$name"
  # shellcheck disable=SC2086
  "$loadgen" --url "${!url_var}" ${!creds_var} --setup --requests 1 --duration 5 \
    --format json >/dev/null
}

# Runs one measured load against NAME and prints the generator's JSON.
run_load() { # NAME WORKLOAD CONCURRENCY [EXTRA ARGS...]
  local name="$1" workload="$2" c="$3" url_var="url_$1" creds_var="creds_$1"
  shift 3
  # shellcheck disable=SC2086
  "$loadgen" --url "${!url_var}" ${!creds_var} --workload "$workload" --concurrency "$c" \
    --duration "$seconds" --warmup 1 --format json --allow-errors "$@"
}
