#!/bin/sh
# Creates every connector in /config/*.json ({"name": ..., "config": {...}}, the Connect REST
# API's format) on $CONNECT_URL. A connector that already exists is left as it is (HTTP 409), so
# running this again is harmless; to change one, PUT its config to /connectors/<name>/config.
set -eu
url="${CONNECT_URL:-http://connect:8083}"
status=0
for file in /config/*.json; do
  code=$(curl -sS -o /tmp/response -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data @"$file" "$url/connectors")
  case "$code" in
    201) echo "created connector from $file" ;;
    409) echo "connector from $file exists already; kept" ;;
    *) echo "failed to create connector from $file: HTTP $code: $(cat /tmp/response)" >&2; status=1 ;;
  esac
done
exit "$status"
