#!/usr/bin/env bash
# Run a command against Beam's portable runner with separate worker processes, then clean up.
#
#   scripts/portable_runner.sh python -m pipelines.news_pipeline --runner PortableRunner \
#       --job_endpoint localhost:$JOB_PORT --environment_type EXTERNAL --environment_config localhost:$WORKER_PORT \
#       --setup_file ./setup.py --input sample_data --output output
#
# Starts Beam's local job service and an external SDK worker pool (the way Flink, Spark and Dataflow run Python
# workers: in processes of their own), waits until both listen, runs the command, and stops both whatever happens.
# The workers run this venv's Python, in which newsbeam is installed (make setup). Ports: JOB_PORT (8099) and
# WORKER_PORT (50000); logs: LOG_DIR (a temporary folder). The command's exit code is the script's.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export PATH="$PWD/$VENV/bin:$PATH"  # workers must find the venv's python first
JOB_PORT=${JOB_PORT:-8099}
WORKER_PORT=${WORKER_PORT:-50000}
LOG_DIR=${LOG_DIR:-$(mktemp -d)}
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.5
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  # worker processes the pool forked
  pkill -9 -f "worker_pool_main --service_port $WORKER_PORT" 2>/dev/null || true
  pkill -9 -f "sdk_worker_main.*$WORKER_PORT" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

wait_for_port() {
  local port=$1 name=$2
  for _ in $(seq 1 120); do
    if python -c "import socket,sys; s=socket.socket(); s.settimeout(0.5); sys.exit(s.connect_ex(('127.0.0.1', $port)))" 2>/dev/null; then
      return 0
    fi
    sleep 0.5
  done
  echo "portable_runner: $name did not listen on port $port within 60 s; its log:" >&2
  tail -n 30 "$LOG_DIR/$name.log" >&2 || true
  return 1
}

python -m apache_beam.runners.portability.local_job_service_main --port "$JOB_PORT" >"$LOG_DIR/job_service.log" 2>&1 &
pids+=($!)
python -m apache_beam.runners.worker.worker_pool_main --service_port "$WORKER_PORT" >"$LOG_DIR/worker_pool.log" 2>&1 &
pids+=($!)
wait_for_port "$JOB_PORT" job_service
wait_for_port "$WORKER_PORT" worker_pool
echo "portable_runner: job service on $JOB_PORT, worker pool on $WORKER_PORT, logs in $LOG_DIR" >&2
set +e
"$@"
code=$?
set -e
exit $code
