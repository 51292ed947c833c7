#!/usr/bin/env bash
# Throw-away Synapse Matrix homeserver for beatbot's integration tests.
#
#   scripts/synapse-test-server.sh install
#       Create (once) a virtualenv with matrix-synapse==$SYNAPSE_VERSION in
#       ${BEATBOT_SYNAPSE_CACHE:-$HOME/.cache/beatbot/synapse-$SYNAPSE_VERSION}/venv.
#       Fast no-op when already installed.
#
#   scripts/synapse-test-server.sh start DIR PORT
#       Write a homeserver config into DIR (an empty temp dir made by the
#       caller), start Synapse in the background on 127.0.0.1:PORT, wait for
#       /health, register the admin user `admin` / `admin-password`, and print
#       `ready http://127.0.0.1:PORT` on stdout. Everything else goes to stderr.
#       If BEATBOT_SYNAPSE_WATCH_PID is set, a small watchdog stops Synapse as
#       soon as that process exits (so a test binary that dies, or never runs
#       its Drop, does not leak a server).
#
#   scripts/synapse-test-server.sh stop DIR
#       SIGTERM the server whose pid is in DIR/pid, SIGKILL after a grace period,
#       and wait until it is gone.
#
# Environment:
#   BEATBOT_SYNAPSE_CACHE          cache dir (default ~/.cache/beatbot/synapse-<version>)
#   BEATBOT_SYNAPSE_PYTHON         interpreter for the venv (default python3, needs >= 3.10)
#   BEATBOT_SYNAPSE_START_TIMEOUT  seconds to wait for /health (default 60)
#   BEATBOT_SYNAPSE_WATCH_PID      optional pid whose exit stops the server
set -euo pipefail

SYNAPSE_VERSION=1.163.2
CACHE_DIR="${BEATBOT_SYNAPSE_CACHE:-$HOME/.cache/beatbot/synapse-$SYNAPSE_VERSION}"
VENV="$CACHE_DIR/venv"
MARKER="$VENV/.beatbot-install-complete"
# Bump when the install recipe changes so existing caches are rebuilt.
INSTALL_ID="matrix-synapse==$SYNAPSE_VERSION recipe=2"
PY="$VENV/bin/python"

ADMIN_USER=admin
ADMIN_PASSWORD=admin-password
SHARED_SECRET=beatbot-synapse-test-registration-shared-secret

log() { printf '[synapse-test-server] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    cat >&2 <<EOF
usage: $0 install
       $0 start DIR PORT
       $0 stop DIR
EOF
    exit 2
}

is_installed() {
    [[ -f "$MARKER" && "$(cat "$MARKER" 2>/dev/null)" == "$INSTALL_ID" && -x "$PY" ]]
}

cmd_install() {
    if is_installed; then
        return 0
    fi
    mkdir -p "$CACHE_DIR"
    # Serialise concurrent installers (e.g. several test binaries at once).
    exec 9>"$CACHE_DIR/.install.lock"
    flock 9
    if is_installed; then
        exec 9>&-
        return 0
    fi

    local python="${BEATBOT_SYNAPSE_PYTHON:-python3}"
    command -v "$python" >/dev/null || die "$python not found"
    "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
        || die "matrix-synapse $SYNAPSE_VERSION needs Python >= 3.10, $python is $("$python" -V 2>&1)"

    # Leftovers of an interrupted install (we hold the lock, so nobody else
    # is writing them).
    rm -rf "$CACHE_DIR"/venv.tmp.*
    log "installing matrix-synapse==$SYNAPSE_VERSION into $VENV (one-time, ~1 min)"
    local tmp
    tmp="$(mktemp -d "$CACHE_DIR/venv.tmp.XXXXXX")"
    # Clean up a half-made venv if we are interrupted or fail.
    trap 'rm -rf "$tmp"' EXIT
    "$python" -m venv "$tmp" >&2
    "$tmp/bin/python" -m pip install --disable-pip-version-check --no-input \
        --progress-bar off --only-binary=:all: \
        "matrix-synapse==$SYNAPSE_VERSION" >&2
    "$tmp/bin/python" -c 'import synapse, sys; assert synapse.__version__ == sys.argv[1], synapse.__version__' \
        "$SYNAPSE_VERSION"
    # Point the #! lines of console scripts and activate at the final path.
    # (The script itself only ever uses bin/python -m, which is relocatable.)
    local f
    for f in "$tmp"/bin/*; do
        if [[ -f "$f" && ! -L "$f" ]] && grep -qIF "$tmp" "$f"; then
            sed -i "s|$tmp|$VENV|g" "$f"
        fi
    done
    printf '%s' "$INSTALL_ID" >"$tmp/.beatbot-install-complete"
    rm -rf "$VENV"
    mv "$tmp" "$VENV"
    trap - EXIT
    exec 9>&-
    log "installed matrix-synapse $SYNAPSE_VERSION"
}

# True while $1 is a live (non-zombie) process.
alive() {
    local pid="$1" state
    kill -0 "$pid" 2>/dev/null || return 1
    state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
    [[ "$state" != "Z" ]]
}

show_logs() {
    local dir="$1" f
    log "(log files: $dir/synapse.stderr, $dir/homeserver.log)"
    for f in "$dir/synapse.stderr" "$dir/homeserver.log"; do
        if [[ -s "$f" ]]; then
            log "---- tail of $f ----"
            tail -n 40 "$f" >&2
        fi
    done
}

write_config() {
    local dir="$1" port="$2"
    mkdir -p "$dir/media_store"
    printf '%s\n' "$SHARED_SECRET" >"$dir/shared_secret"

    cat >"$dir/log.config" <<EOF
version: 1
formatters:
  precise:
    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(message)s'
handlers:
  file:
    class: logging.FileHandler
    formatter: precise
    filename: $dir/homeserver.log
    encoding: utf8
root:
  level: WARNING
  handlers: [file]
disable_existing_loggers: false
EOF

    # A rate limit so high that tests never meet it.
    local hi='{per_second: 1000, burst_count: 1000}'
    local macaroon form
    macaroon="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    form="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"

    cat >"$dir/homeserver.yaml" <<EOF
# Generated by scripts/synapse-test-server.sh for tests. Not for production.
server_name: localhost
public_baseurl: http://127.0.0.1:$port/
report_stats: false
enable_metrics: false
url_preview_enabled: false

listeners:
  - port: $port
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false

database:
  name: sqlite3
  args:
    database: $dir/homeserver.db

log_config: $dir/log.config
media_store_path: $dir/media_store
signing_key_path: $dir/localhost.signing.key
macaroon_secret_key: "$macaroon"
form_secret: "$form"

# No federation at all: no federation listener, no outbound federation,
# no key servers.
federation_domain_whitelist: []
trusted_key_servers: []
suppress_key_server_warning: true

registration_shared_secret: "$SHARED_SECRET"
enable_registration: true
enable_registration_without_verification: true
# Cheap password hashing: registration/login in tests should be fast.
bcrypt_rounds: 4

# rc_message is deliberately NOT set: tests rely on Synapse's default
# (per_second 0.2, burst_count 10); the bot's account is exempted through
# the admin API (override_ratelimit). Note that room creation consumes
# rc_message too, in addition to rc_room_creation.
rc_registration: $hi
rc_registration_token_validity: $hi
rc_login:
  address: $hi
  account: $hi
  failed_attempts: $hi
rc_joins:
  local: $hi
  remote: $hi
rc_joins_per_room: $hi
rc_invites:
  per_room: $hi
  per_user: $hi
  per_issuer: $hi
rc_third_party_invite: $hi
rc_3pid_validation: $hi
rc_room_creation: $hi
rc_key_requests: $hi
rc_media_create: $hi
rc_presence:
  per_user: $hi
rc_delayed_event_mgmt: $hi
rc_reports: $hi
rc_user_directory: $hi
rc_profile: $hi
EOF

    # Faster than `homeserver --generate-keys`, which loads all of Synapse.
    "$PY" -m synapse._scripts.generate_signing_key -o "$dir/localhost.signing.key" \
        || die "generating the signing key failed"
}

cmd_start() {
    local dir="$1" port="$2"
    [[ "$port" =~ ^[0-9]+$ ]] && ((port >= 1 && port <= 65535)) \
        || die "PORT must be a number in 1..65535, got '$port'"
    [[ -d "$dir" ]] || die "DIR $dir does not exist"
    dir="$(cd "$dir" && pwd)"
    if [[ -f "$dir/pid" ]] && alive "$(cat "$dir/pid")"; then
        die "a server from $dir is already running (pid $(cat "$dir/pid"))"
    fi

    cmd_install

    # Refuse a port somebody else holds: /health would answer for them.
    "$PY" - "$port" 2>/dev/null <<'EOF' || die "127.0.0.1:$port is already in use"
import socket, sys
s = socket.socket()
# As Synapse binds: a port left in TIME_WAIT by a stopped server is free to listen on again.
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
finally:
    s.close()
EOF

    write_config "$dir" "$port"

    local t0=$SECONDS
    log "starting Synapse on 127.0.0.1:$port (data in $dir)"
    # setsid: own session, so terminal signals aimed at the test run do not
    # reach it; stdio to files so the caller's pipes reach EOF when we exit.
    setsid "$PY" -m synapse.app.homeserver -c "$dir/homeserver.yaml" \
        </dev/null >"$dir/synapse.stdout" 2>"$dir/synapse.stderr" &
    local pid=$!
    echo "$pid" >"$dir/pid"

    if [[ -n "${BEATBOT_SYNAPSE_WATCH_PID:-}" ]]; then
        local watch="$BEATBOT_SYNAPSE_WATCH_PID"
        setsid bash -c '
            watch=$1 pid=$2
            while kill -0 "$watch" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 1; done
            if ! kill -0 "$watch" 2>/dev/null && kill -0 "$pid" 2>/dev/null; then
                kill -TERM "$pid" 2>/dev/null || true
                for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.2; done
                kill -KILL "$pid" 2>/dev/null || true
            fi' watchdog "$watch" "$pid" </dev/null >/dev/null 2>&1 &
        echo "$!" >"$dir/watchdog.pid"
    fi

    local timeout="${BEATBOT_SYNAPSE_START_TIMEOUT:-60}" url="http://127.0.0.1:$port"
    local deadline=$((SECONDS + timeout))
    while true; do
        if ! alive "$pid"; then
            show_logs "$dir"
            die "Synapse exited during start-up"
        fi
        if [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/health" || true)" == 200 ]]; then
            break
        fi
        if ((SECONDS >= deadline)); then
            show_logs "$dir"
            cmd_stop "$dir" || true
            die "Synapse did not answer $url/health within ${timeout}s"
        fi
        sleep 0.2
    done
    log "Synapse healthy after $((SECONDS - t0))s (pid $pid)"

    local out
    if ! out="$("$PY" -m synapse._scripts.register_new_matrix_user \
        -u "$ADMIN_USER" -p "$ADMIN_PASSWORD" --admin -k "$SHARED_SECRET" "$url" 2>&1)"; then
        printf '%s\n' "$out" >&2
        if ! grep -q 'User ID already taken' <<<"$out"; then
            show_logs "$dir"
            cmd_stop "$dir" || true
            die "registering the admin user failed"
        fi
    fi
    log "admin user @$ADMIN_USER:localhost registered"
    echo "ready $url"
}

cmd_stop() {
    local dir="$1" pid
    if [[ -f "$dir/watchdog.pid" ]]; then
        kill -TERM "$(cat "$dir/watchdog.pid")" 2>/dev/null || true
        rm -f "$dir/watchdog.pid"
    fi
    [[ -f "$dir/pid" ]] || { log "no $dir/pid: nothing to stop"; return 0; }
    pid="$(cat "$dir/pid")"
    if alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        local i
        for i in $(seq 50); do # 10 s grace
            alive "$pid" || break
            sleep 0.2
        done
        if alive "$pid"; then
            log "Synapse (pid $pid) ignored SIGTERM, sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            for i in $(seq 50); do
                alive "$pid" || break
                sleep 0.1
            done
        fi
    fi
    # Reap it if it happens to be our own child.
    wait "$pid" 2>/dev/null || true
    rm -f "$dir/pid"
    log "stopped Synapse (pid $pid)"
}

case "${1:-}" in
install) [[ $# -eq 1 ]] || usage; cmd_install ;;
start) [[ $# -eq 3 ]] || usage; cmd_start "$2" "$3" ;;
stop) [[ $# -eq 2 ]] || usage; cmd_stop "$2" ;;
*) usage ;;
esac
