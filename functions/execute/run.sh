#!/bin/sh
# Lambda Web Adapter entry point (handler "run.sh", AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap): start the same
# ASGI app as `tollgate serve` on the adapter's port; the adapter streams each invocation's response.
# Same server options as `tollgate serve`: no X-Forwarded-* rewriting (nothing reads the client address or
# scheme; callers are identified by their key), uvloop and httptools when the layer has them.
exec python -m uvicorn asgi:app --host 127.0.0.1 --port "${PORT:-8080}" --log-level warning --no-access-log \
  --lifespan on --timeout-graceful-shutdown 2 --no-proxy-headers
