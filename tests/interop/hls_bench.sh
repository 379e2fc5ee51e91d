#!/usr/bin/env bash
# Benchmark of HLS serving against nginx serving the same folder (data_dir/hls, as the
# README's nginx example does), in the same run, with the same load tool (wrk, keep-alive,
# loopback). Prints a Markdown table of requests/s and the Antenne/nginx ratio per path
# (issue 15 target: >= 0.8 on segment requests).
#
# Usage: tests/interop/hls_bench.sh BASE_URL HLS_DIR [SECONDS]
#   e.g. tests/interop/hls_bench.sh http://127.0.0.1:8080 data/hls 8
# Needs: nginx (Debian nginx-light or nginx), wrk, curl. Env: WRK_THREADS (2), WRK_CONNECTIONS (32).
set -euo pipefail
base=$1 dir=$(cd "$2" && pwd) seconds=${3:-8}
threads=${WRK_THREADS:-2} conns=${WRK_CONNECTIONS:-32}
for t in nginx wrk curl; do command -v "$t" >/dev/null || { echo "missing $t"; exit 1; }; done
work=$(mktemp -d)
port=$(( 40000 + RANDOM % 10000 ))
cleanup() { [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/logs"
cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on; tcp_nopush on; keepalive_requests 100000;
  client_body_temp_path $work/logs; proxy_temp_path $work/logs; fastcgi_temp_path $work/logs;
  uwsgi_temp_path $work/logs; scgi_temp_path $work/logs;
  server {
    listen 127.0.0.1:$port;
    location /hls/ {
      alias $dir/;
      types { application/vnd.apple.mpegurl m3u8; audio/mpeg mp3; }
      location ~ \.m3u8\$ { add_header Cache-Control "public, max-age=1"; }
      location ~ \.mp3\$ { add_header Cache-Control "public, max-age=31536000, immutable"; }
    }
  }
}
CONF
chmod -R a+rX "$work" "$dir"   # nginx workers run unprivileged
nginx -c "$work/nginx.conf" -p "$work"
sleep 0.3
nginx_base="http://127.0.0.1:$port"
playlist=$(curl -sSf "$base/hls/live.m3u8")
newest=$(echo "$playlist" | grep '\.mp3$' | tail -n 1)
oldest=$(echo "$playlist" | grep '\.mp3$' | head -n 1)
for url in "$base/hls/$newest" "$nginx_base/hls/$newest" "$base/hls/$oldest" "$nginx_base/hls/$oldest" "$nginx_base/hls/live.m3u8"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$url")
  [ "$code" = 200 ] || { echo "GET $url -> $code, not benchmarking"; cat "$work/logs/error.log"; exit 1; }
done
rps() {
  local out
  out=$(wrk -t"$threads" -c"$conns" -d"${seconds}s" "$1")
  if echo "$out" | grep -q "Non-2xx"; then echo "$out" >&2; echo "errors from $1" >&2; exit 1; fi
  echo "$out" | awk '/Requests\/sec/{print $2}'
}
row() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "| %s | %s | %s | %.2f |\n", n, a, b, a / b }'; }
size=$(curl -s "$base/hls/$newest" | wc -c)
echo "| path | Antenne req/s | nginx req/s | ratio |"
echo "|---|---|---|---|"
row "newest segment ($size B)" "$(rps "$base/hls/$newest")" "$(rps "$nginx_base/hls/$newest")"
row "oldest segment in the window" "$(rps "$base/hls/$oldest")" "$(rps "$nginx_base/hls/$oldest")"
row "playlist ($(echo "$playlist" | grep -c '\.mp3$') segments)" "$(rps "$base/hls/live.m3u8")" "$(rps "$nginx_base/hls/live.m3u8")"
