# shellcheck shell=bash
# nginx as the HTTP reference: it answers a model's metadata and infer requests with the exact
# bodies switchyard returned, and does nothing else. Source after common.sh.

# A JSON infer request with one batch item per input, numbers 0..15 as data (for numeric models
# such as `simple`). Reads the model metadata on stdin.
simple_infer_body() {
  python3 -c '
import json, sys
meta = json.load(sys.stdin)
inputs = []
for t in meta["inputs"]:
    shape = [1 if d == -1 else d for d in t["shape"]]
    n = 1
    for d in shape:
        n *= d
    inputs.append({"name": t["name"], "datatype": t["datatype"], "shape": shape,
                   "data": [i % 16 for i in range(n)]})
print(json.dumps({"inputs": inputs}, separators=(",", ":")))
'
}

# The contents of file $1 as an nginx `return` text: single-quoted, \ and ' escaped. nginx would
# expand '$', so a body containing one is refused.
nginx_text() {
  if grep -q '\$' "$1"; then die "$1 contains '\$', which nginx would expand"; fi
  printf "'%s'" "$(sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g" "$1")"
}

# start_nginx_mirror DIR WORKERS MODEL: captures GET /v2/models/MODEL and the answer to one
# POST /v2/models/MODEL/infer from the switchyard at $SWITCHYARD_URL, then starts nginx with
# WORKERS worker processes on a free port of 127.0.0.1 answering both byte for byte (404 for
# anything else). Files under DIR/nginx; sets NGINX_URL and NGINX_PID.
start_nginx_mirror() {
  local dir=$1 workers=$2 model=$3 metadata_text response_text port
  command -v nginx >/dev/null || die "nginx is not installed (Debian: nginx-light)"
  mkdir -p "$dir/nginx"
  curl -sf "$SWITCHYARD_URL/v2/models/$model" -o "$dir/nginx/metadata.json" ||
    die "GET /v2/models/$model failed on switchyard"
  simple_infer_body <"$dir/nginx/metadata.json" >"$dir/nginx/request.json"
  curl -sf -X POST -H 'Content-Type: application/json' --data-binary "@$dir/nginx/request.json" \
    "$SWITCHYARD_URL/v2/models/$model/infer" -o "$dir/nginx/response.json" ||
    die "POST /v2/models/$model/infer failed on switchyard"
  metadata_text=$(nginx_text "$dir/nginx/metadata.json")
  response_text=$(nginx_text "$dir/nginx/response.json")
  port=$(free_port)
  cat >"$dir/nginx/nginx.conf" <<CONF
worker_processes $workers;
daemon off;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 4294967295;
  keepalive_timeout 600s;
  client_body_temp_path $dir/nginx/body;
  proxy_temp_path $dir/nginx/proxy;
  fastcgi_temp_path $dir/nginx/fastcgi;
  uwsgi_temp_path $dir/nginx/uwsgi;
  scgi_temp_path $dir/nginx/scgi;
  default_type application/json;
  server {
    listen 127.0.0.1:$port;
    location = /v2/models/$model { return 200 $metadata_text; }
    location = /v2/models/$model/infer { return 200 $response_text; }
    location / { return 404 '{"error":"not found"}'; }
  }
}
CONF
  nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" >"$dir/nginx/stdout.log" 2>&1 &
  NGINX_PID=$!
  track_pid "$NGINX_PID"
  NGINX_URL="http://127.0.0.1:$port"
  if ! wait_http_ok "$NGINX_URL/v2/models/$model" 10 "$NGINX_PID"; then
    cat "$dir/nginx/error.log" "$dir/nginx/stdout.log" >&2 || true
    die "nginx did not start"
  fi
  cmp -s "$dir/nginx/response.json" <(curl -sf -X POST --data-binary "@$dir/nginx/request.json" \
    "$NGINX_URL/v2/models/$model/infer") || die "nginx does not answer the captured infer body"
  log "nginx serving at $NGINX_URL (pid $NGINX_PID, $workers workers)"
}
