#!/usr/bin/env bash
# Spark GPU discovery script: prints {"name": "gpu", "addresses": [...]} on stdout.
#
# Spark runs it on every worker (spark.worker.resource.gpu.discoveryScript), executor
# (spark.executor.resource.gpu.discoveryScript, YARN/Kubernetes) or local-mode driver
# (spark.driver.resource.gpu.discoveryScript) to learn which GPU ids that process may hand out.
#
# Real GPUs: asks nvidia-smi for the device indices.
# Tests / machines without GPUs: set SPARKEXP_FAKE_GPUS to a comma-separated list of ids
# (e.g. SPARKEXP_FAKE_GPUS=0,1) to advertise fake GPUs; nothing else changes.
set -euo pipefail
if [[ -n "${SPARKEXP_FAKE_GPUS:-}" ]]; then
  ids="$SPARKEXP_FAKE_GPUS"
elif command -v nvidia-smi >/dev/null 2>&1; then
  ids=$(nvidia-smi --query-gpu=index --format=csv,noheader | tr -d ' ' | paste -sd, -)
else
  ids=""
fi
quoted=""
if [[ -n "$ids" ]]; then
  quoted=$(printf '%s' "$ids" | sed -e 's/[^,][^,]*/"&"/g')
fi
printf '{"name": "gpu", "addresses": [%s]}\n' "$quoted"
