#!/bin/sh
# Lambda Web Adapter entry point (handler "run.sh", AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap): start the same
# ASGI app as `tollgate serve` on the adapter's port; the adapter streams each invocation's response.
exec python -m uvicorn asgi:app --host 127.0.0.1 --port "${PORT:-8080}" --log-level warning --no-access-log \
  --lifespan on --timeout-graceful-shutdown 2
