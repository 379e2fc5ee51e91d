#!/usr/bin/env bash
# Benchmark of feed and enclosure serving against nginx serving the same bytes as static files,
# in the same run, with the same load tool (wrk, keep-alive, loopback). Prints a Markdown table
# of requests/s and the Antenne/nginx ratio per path (issue 6 target: >= 0.8 on every path).
#
# Usage: tests/interop/feeds_bench.sh FEED_URL ENCLOSURE_URL [SECONDS]
#   e.g. tests/interop/feeds_bench.sh http://127.0.0.1:8080/feed.xml http://127.0.0.1:8080/media/ID.mp3
# Needs: nginx (Debian nginx-light), wrk, curl. Env: WRK_THREADS (2), WRK_CONNECTIONS (32).
set -euo pipefail
feed_url=$1 enclosure_url=$2 seconds=${3:-10}
threads=${WRK_THREADS:-2} conns=${WRK_CONNECTIONS:-32}
for t in nginx wrk curl; do command -v "$t" >/dev/null || { echo "missing $t"; exit 1; }; done
work=$(mktemp -d)
port=$(( 40000 + RANDOM % 10000 ))
cleanup() { [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The same bytes, as static files.
mkdir -p "$work/root/media" "$work/logs"
curl -sSf -o "$work/root/feed.xml" "$feed_url"
curl -sSf -o "$work/root/media/ep.mp3" "$enclosure_url"
cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on; tcp_nopush on; keepalive_requests 100000;
  types { application/rss+xml xml; audio/mpeg mp3; }
  client_body_temp_path $work/logs; proxy_temp_path $work/logs; fastcgi_temp_path $work/logs;
  uwsgi_temp_path $work/logs; scgi_temp_path $work/logs;
  server { listen 127.0.0.1:$port; root $work/root; }
}
CONF
chmod -R a+rX "$work"   # nginx workers run unprivileged
nginx -c "$work/nginx.conf" -p "$work"
sleep 0.3
nginx_base="http://127.0.0.1:$port"
for url in "$feed_url" "$nginx_base/feed.xml" "$enclosure_url" "$nginx_base/media/ep.mp3"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$url")
  [ "$code" = 200 ] || { echo "GET $url -> $code, not benchmarking"; cat "$work/logs/error.log"; exit 1; }
done

etag_of() { curl -sSI "$1" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}'; }
rps() { # url [header]
  local out
  if [ -n "${2:-}" ]; then out=$(wrk -t"$threads" -c"$conns" -d"${seconds}s" -H "$2" "$1"); else out=$(wrk -t"$threads" -c"$conns" -d"${seconds}s" "$1"); fi
  if echo "$out" | grep -q "Non-2xx"; then echo "$out" >&2; echo "errors from $1" >&2; exit 1; fi
  echo "$out" | awk '/Requests\/sec/{print $2}'
}
row() { # name antenne nginx
  awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "| %s | %s | %s | %.2f |\n", n, a, b, a / b }'
}

echo "| path | Antenne req/s | nginx req/s | ratio |"
echo "|---|---|---|---|"
row "feed 200 ($(wc -c <"$work/root/feed.xml") B)" "$(rps "$feed_url")" "$(rps "$nginx_base/feed.xml")"
row "feed 304 (If-None-Match)" "$(rps "$feed_url" "If-None-Match: $(etag_of "$feed_url")")" \
    "$(rps "$nginx_base/feed.xml" "If-None-Match: $(etag_of "$nginx_base/feed.xml")")"
row "enclosure 200 ($(wc -c <"$work/root/media/ep.mp3") B)" "$(rps "$enclosure_url")" "$(rps "$nginx_base/media/ep.mp3")"
row "enclosure 206 (bytes=0-1)" "$(rps "$enclosure_url" "Range: bytes=0-1")" "$(rps "$nginx_base/media/ep.mp3" "Range: bytes=0-1")"
