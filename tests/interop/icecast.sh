# Sourced: `start_icecast DIR` starts Debian's icecast2 on a free loopback port with its
# config, logs and output under DIR, and sets ICECAST_URL (mount /live.mp3), ICECAST_PORT,
# ICECAST_PASS (source and admin password) and ICECAST_PID. Icecast refuses to run as root
# without <changeowner>, and its log folder must be writable by that user.
start_icecast() {
  local dir=$1
  ICECAST_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  ICECAST_PASS="interop-$RANDOM"
  mkdir -p "$dir/icecast-log"
  chmod -R a+rwx "$dir"
  cat >"$dir/icecast.xml" <<XML
<icecast>
  <limits><clients>100</clients><sources>2</sources><burst-size>65535</burst-size><source-timeout>10</source-timeout></limits>
  <authentication><source-password>$ICECAST_PASS</source-password><admin-user>admin</admin-user><admin-password>$ICECAST_PASS</admin-password></authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>$ICECAST_PORT</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <paths><basedir>/usr/share/icecast2</basedir><logdir>$dir/icecast-log</logdir><webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>3</loglevel></logging>
  <security><chroot>0</chroot><changeowner><user>nobody</user><group>nogroup</group></changeowner></security>
</icecast>
XML
  icecast2 -c "$dir/icecast.xml" >"$dir/icecast.out" 2>&1 &
  ICECAST_PID=$!
  ICECAST_URL="http://127.0.0.1:$ICECAST_PORT/live.mp3"
  sleep 1
  if ! kill -0 "$ICECAST_PID" 2>/dev/null; then
    cat "$dir/icecast.out"
    return 1
  fi
  echo "icecast2 running on 127.0.0.1:$ICECAST_PORT"
}
