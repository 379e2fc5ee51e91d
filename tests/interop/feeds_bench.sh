#!/usr/bin/env bash
# Benchmark of feed and enclosure serving against nginx serving the same bytes as static files,
# in the same run, with the same load tool (wrk, keep-alive, loopback). Prints a Markdown table
# of requests/s and the Antenne/nginx ratio per path and run, with the load average read just
# before each pair of measures, then the spread of the ratio per path (issue 18 target: >= 1
# on every path).
#
# Usage: tests/interop/feeds_bench.sh FEED_URL ENCLOSURE_URL [SECONDS]
#   e.g. tests/interop/feeds_bench.sh http://127.0.0.1:8080/feed.xml http://127.0.0.1:8080/media/ID.mp3
# Env: ANTENNE_PID (the daemon's process: adds the CPU time per request of both servers, a
# figure the machine's other load moves much less than requests/s), LARGE_URL (a large
# enclosure, e.g. a 30-minute episode: adds its 200 and bytes=0-1
# rows), RUNS (3), WRK_THREADS (2), WRK_CONNECTIONS (32), WRK_TIMEOUT (30 s: a 28.8 MB body
# shared by 32 connections takes longer than wrk's default 2 s, and a request timed out is not
# counted), NGINX_WORKERS (the number of cores, which is also the number of Antenne's runtime
# threads).
# Needs: nginx (Debian nginx-light, with gzip_static), wrk, curl.
#
# Fair by construction: the same bytes (identity, and the same pre-compressed gzip body for the
# gzip row: nginx's gzip_static), the same keep-alive connections, as many nginx workers as
# Antenne has runtime threads (both on the same cores as wrk), and the two servers measured in
# turn, the order swapped every run so that load moving between windows favours neither.
set -euo pipefail
feed_url=$1 enclosure_url=$2 seconds=${3:-10}
threads=${WRK_THREADS:-2} conns=${WRK_CONNECTIONS:-32} runs=${RUNS:-3} timeout=${WRK_TIMEOUT:-30}
workers=${NGINX_WORKERS:-$(nproc)} large_url=${LARGE_URL:-} antenne_pid=${ANTENNE_PID:-}
for t in nginx wrk curl; do command -v "$t" >/dev/null || { echo "missing $t"; exit 1; }; done
work=$(mktemp -d)
port=$(( 40000 + RANDOM % 10000 ))
cleanup() { [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The same bytes, as static files (the gzip body is Antenne's own, served by gzip_static).
mkdir -p "$work/root/media" "$work/logs"
curl -sSf -o "$work/root/feed.xml" "$feed_url"
curl -sSf -H 'Accept-Encoding: gzip' -o "$work/root/feed.xml.gz" "$feed_url"
curl -sSf -o "$work/root/media/ep.mp3" "$enclosure_url"
[ -n "$large_url" ] && curl -sSf -o "$work/root/media/large.mp3" "$large_url"
touch -r "$work/root/feed.xml" "$work/root/feed.xml.gz"
cat >"$work/nginx.conf" <<CONF
worker_processes $workers;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on; tcp_nopush on; keepalive_requests 100000;
  gzip_static on; gzip_vary on;
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
for url in "$feed_url" "$nginx_base/feed.xml" "$enclosure_url" "$nginx_base/media/ep.mp3" \
    ${large_url:+"$large_url" "$nginx_base/media/large.mp3"}; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$url")
  [ "$code" = 200 ] || { echo "GET $url -> $code, not benchmarking"; cat "$work/logs/error.log"; exit 1; }
done
# Both gzip answers carry the same bytes.
for url in "$feed_url" "$nginx_base/feed.xml"; do
  enc=$(curl -sSI -H 'Accept-Encoding: gzip' "$url" | tr -d '\r' | awk -F': ' 'tolower($1)=="content-encoding"{print $2}')
  [ "$enc" = gzip ] || { echo "GET $url with gzip -> no gzip"; exit 1; }
done

etag_of() { curl -sSI "$1" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}'; }
# CPU time (clock ticks) of the server's HTTP work: Antenne's process less its long-lived
# threads of other work (playout, encoders, HLS writer, ...; the runtime's workers and
# blocking threads come and go, so they are counted as the rest of the process); nginx's
# workers.
ticks() { # antenne|nginx
  if [ "$1" = antenne ]; then
    [ -n "$antenne_pid" ] || { echo 0; return; }
    local t s other=0
    s=$(awk '{print $14 + $15}' "/proc/$antenne_pid/stat")
    for t in /proc/"$antenne_pid"/task/*; do
      [ "$(cat "$t/comm" 2>/dev/null)" = tokio-rt-worker ] && continue
      other=$((other + $(awk '{print $14 + $15}' "$t/stat" 2>/dev/null || echo 0)))
    done
    echo $((s - other))
  else
    ps -o pid= --ppid "$(cat "$work/nginx.pid")" | while read -r p; do awk '{print $14 + $15}' "/proc/$p/stat"; done |
      awk '{ s += $1 } END { print s + 0 }'
  fi
}
rps() { # server url [header]: requests/s and CPU microseconds per request
  local out t0 t1
  local wrk=(wrk -t"$threads" -c"$conns" -d"${seconds}s" --timeout "${timeout}s")
  t0=$(ticks "$1")
  if [ -n "${3:-}" ]; then out=$("${wrk[@]}" -H "$3" "$2"); else out=$("${wrk[@]}" "$2"); fi
  t1=$(ticks "$1")
  if echo "$out" | grep -q "Non-2xx"; then echo "$out" >&2; echo "errors from $2" >&2; exit 1; fi
  if echo "$out" | grep -q "Socket errors"; then echo "$out" | grep "Socket errors" | sed "s|^|$2: |" >&2; fi
  echo "$out" | awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
    '/requests in/ { n = $1 } /Requests\/sec/ { r = $2 } END { printf "%s %.0f\n", r, t * 1e6 / hz / n }'
}
load() { cut -d' ' -f1 /proc/loadavg; }
ratios="$work/ratios"
: >"$ratios"
measure() { # run name antenne_url nginx_url [antenne_header [nginx_header]]
  local run=$1 name=$2 a b l=$(load)
  if (( run % 2 )); then
    a=$(rps antenne "$3" "${5:-}"); b=$(rps nginx "$4" "${6:-${5:-}}")
  else
    b=$(rps nginx "$4" "${6:-${5:-}}"); a=$(rps antenne "$3" "${5:-}")
  fi
  set -- $a $b
  awk -v r="$run" -v n="$name" -v a="$1" -v ac="$2" -v b="$3" -v bc="$4" -v l="$l" -v p="$antenne_pid" \
    'BEGIN { printf "| %s | %s | %.0f | %.0f | %.2f | %s | %s | %s |\n", n, r, a, b, a / b, p ? ac : "-", bc, l }'
  awk -v n="$name" -v a="$1" -v b="$3" 'BEGIN { printf "%s\t%.2f\n", n, a / b }' >>"$ratios"
}

feed_bytes=$(wc -c <"$work/root/feed.xml") gzip_bytes=$(wc -c <"$work/root/feed.xml.gz")
enc_bytes=$(wc -c <"$work/root/media/ep.mp3")
echo "wrk -t$threads -c$conns -d${seconds}s --timeout ${timeout}s, nginx worker_processes $workers, $(nproc) cores"
echo
echo "| path | run | Antenne req/s | nginx req/s | ratio | Antenne CPU µs/req | nginx CPU µs/req | load (1 min) |"
echo "|---|---|---|---|---|---|---|---|"
for run in $(seq 1 "$runs"); do
  measure "$run" "feed 200, identity ($feed_bytes B)" "$feed_url" "$nginx_base/feed.xml"
  measure "$run" "feed 200, gzip ($gzip_bytes B)" "$feed_url" "$nginx_base/feed.xml" "Accept-Encoding: gzip"
  measure "$run" "feed 304 (If-None-Match)" "$feed_url" "$nginx_base/feed.xml" \
    "If-None-Match: $(etag_of "$feed_url")" "If-None-Match: $(etag_of "$nginx_base/feed.xml")"
  measure "$run" "enclosure 200 ($enc_bytes B)" "$enclosure_url" "$nginx_base/media/ep.mp3"
  measure "$run" "enclosure 206 (bytes=0-1)" "$enclosure_url" "$nginx_base/media/ep.mp3" "Range: bytes=0-1"
  if [ -n "$large_url" ]; then
    large_bytes=$(wc -c <"$work/root/media/large.mp3")
    measure "$run" "large enclosure 200 ($large_bytes B)" "$large_url" "$nginx_base/media/large.mp3"
    measure "$run" "large enclosure 206 (bytes=0-1)" "$large_url" "$nginx_base/media/large.mp3" "Range: bytes=0-1"
  fi
done
echo
echo "| path | ratio, min-max over $runs runs |"
echo "|---|---|"
awk -F'\t' '{ if (!($1 in lo)) { order[++n] = $1; lo[$1] = $2; hi[$1] = $2 }
              if ($2 < lo[$1]) lo[$1] = $2; if ($2 > hi[$1]) hi[$1] = $2 }
            END { for (i = 1; i <= n; i++) printf "| %s | %.2f-%.2f |\n", order[i], lo[order[i]], hi[order[i]] }' "$ratios"
