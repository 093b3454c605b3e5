#!/usr/bin/env bash
# Benchmark: nginx 1.22 mail module vs mailproxy, side by side (issue 9). Run as root:
#
#   bench/run.sh
#
# Installs nginx + libnginx-mod-mail and Dovecot/Postfix (idempotent), builds the distribution if
# karaf-distro/target/assembly is missing, starts a private Dovecot + Postfix (itests/fixtures),
# an nginx http{} auth_http server, nginx with the mail module and mailproxy (a copy of the
# assembly) with the same mail{} block, drives all of them with bench/src/LoadGen.java and prints
# one table. Everything runs on 127.0.0.1, in a temp dir, and is stopped on exit.
#
# Environment: DURATION (s per sessions run, default 10), CONCS (default "50 500"),
# BULK_COUNT (messages per bulk run, default 60), BULK_CONC (default 4), IDLE_N (default 2000),
# WARMUP (s of sessions, and of bulk transfers, per protocol and proxy before measuring, default 20),
# ROUNDS (default 3: each nginx/mailproxy figure is the median of that many runs, taken in
# alternating order), KEEP=1 keeps the temp dir (logs), HOLD=1 starts everything and waits (for
# profiling: the ports and pids are printed and written to the temp dir's hold.txt), PHASES
# (default "sessions bulk idle") and PROTOS (default "imap pop3 smtp") narrow the runs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
fixtures=$repo/itests/fixtures
DURATION=${DURATION:-10}
CONCS=${CONCS:-50 500}
BULK_COUNT=${BULK_COUNT:-60}
BULK_CONC=${BULK_CONC:-4}
IDLE_N=${IDLE_N:-2000}
WARMUP=${WARMUP:-20}
ROUNDS=${ROUNDS:-3}
PHASES=${PHASES:-sessions bulk idle}
PROTOS=${PROTOS:-imap pop3 smtp}
has() { case " $1 " in *" $2 "*) return 0 ;; esac; return 1; }

[ "$(id -u)" -eq 0 ] || { echo "run.sh: run as root (apt-get, Dovecot, Postfix)" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || true  # 20000 here (hard limit); enough for 2000 idle sessions

# ---------------------------------------------------------------- 1. install, build
installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }
if ! installed nginx || ! installed libnginx-mod-mail; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends nginx libnginx-mod-mail \
        || { apt-get update -q && apt-get install -y -q --no-install-recommends nginx libnginx-mod-mail; }
fi
bash "$fixtures/install.sh"
if [ ! -x "$repo/karaf-distro/target/assembly/bin/mailproxy" ]; then
    (cd "$repo" && mvn -B -q -DskipTests install)
fi

W=$(mktemp -d /tmp/mailproxy-bench.XXXXXX)
chmod 755 "$W"
RES=$W/results.txt
: >"$RES"
MP_PGID=
NGINX_PID=
AUTH_PID=
NULL_PID=

cleanup() {
    set +e
    [ -n "$NULL_PID" ] && kill "$NULL_PID" 2>/dev/null
    [ -n "$MP_PGID" ] && kill -TERM -- "-$MP_PGID" 2>/dev/null
    [ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null
    [ -n "$AUTH_PID" ] && kill -QUIT "$AUTH_PID" 2>/dev/null
    bash "$fixtures/postfix.sh" stop "$W/postfix" >/dev/null 2>&1
    bash "$fixtures/dovecot.sh" stop "$W/dovecot" >/dev/null 2>&1
    if [ -n "$MP_PGID" ]; then
        for _ in $(seq 50); do kill -0 -- "-$MP_PGID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL -- "-$MP_PGID" 2>/dev/null
    fi
    if [ "${KEEP:-0}" = 1 ]; then echo "run.sh: kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
used_ports=" "
free_port() {
    local p
    for _ in $(seq 200); do
        p=$(( 20000 + RANDOM % 12000 ))
        case "$used_ports" in *" $p "*) continue ;; esac
        if ! port_open "$p"; then used_ports="$used_ports$p "; echo "$p"; return; fi
    done
    echo "run.sh: no free port" >&2; exit 1
}
wait_port() { # PORT TIMEOUT_S -> 0 when open
    local end=$(( $(date +%s%N) + $2 * 1000000000 ))
    while [ "$(date +%s%N)" -lt "$end" ]; do port_open "$1" && return 0; sleep 0.01; done
    return 1
}

B_IMAP=$(free_port); B_POP3=$(free_port); B_SMTP=$(free_port); AUTH=$(free_port)
N_IMAP=$(free_port); N_POP3=$(free_port); N_SMTP=$(free_port)
M_IMAP=$(free_port); M_POP3=$(free_port); M_SMTP=$(free_port)

# ---------------------------------------------------------------- 2. backends, auth server
USERS=""
for i in 0 1 2 3 4 5 6 7 8 9; do USERS="${USERS}u$i:pw$i"$'\n'; done
USERS="${USERS}bulk:bulkpw"
USERLIST=$(echo "$USERS" | grep -v '^bulk' | paste -sd, -)
export FIXTURE_USERS=$USERS

bash "$fixtures/dovecot.sh" start "$W/dovecot" "$B_IMAP" "$B_POP3"
# Dovecot's defaults (100 processes per service, one login process per connection) would cap the
# ceiling below 500 clients: raise the limits for both proxies alike, then restart it.
bash "$fixtures/dovecot.sh" stop "$W/dovecot"
cat >>"$W/dovecot/dovecot.conf" <<'CONF'
# bench/run.sh: limits for 500 concurrent clients and 2000 idle sessions
default_process_limit = 3000
default_client_limit = 20000
mail_max_userip_connections = 5000
service imap-login {
  service_count = 0
  client_limit = 5000
  process_min_avail = 2
}
service pop3-login {
  service_count = 0
  client_limit = 5000
  process_min_avail = 2
}
# one imap/pop3 process per session is Dovecot's design, but reusing it (service_count = 0) spares
# a fork+exec per login; the ceiling should be the proxies', not Dovecot's process spawning
service imap {
  service_count = 0
  process_limit = 3000
  process_min_avail = 16
}
service pop3 {
  service_count = 0
  process_limit = 3000
  process_min_avail = 16
}
CONF
dovecot -c "$W/dovecot/dovecot.conf" </dev/null >"$W/dovecot/log/start2.out" 2>&1
wait_port "$B_IMAP" 5 && wait_port "$B_POP3" 5 || { cat "$W/dovecot/log/start2.out"; exit 1; }
bash "$fixtures/postfix.sh" start "$W/postfix" "$B_SMTP" "$W/dovecot/run/auth-postfix"
# 100 smtpd processes (Postfix's default) would refuse 500 concurrent clients for all three alike
postconf -c "$W/postfix/etc" -e default_process_limit=1000
postfix -c "$W/postfix/etc" reload >/dev/null 2>&1

# the 5 MB message for the bulk runs, in bulk's INBOX
javac -d "$W/classes" "$here/src/LoadGen.java"
LG=(java -Xss512k -cp "$W/classes" LoadGen)
"${LG[@]}" message "$W/dovecot/home/bulk/Maildir/new/1000000000.bulk.bench"
chown 65534:65534 "$W/dovecot/home/bulk/Maildir/new/1000000000.bulk.bench"

mkdir -p "$W/auth/logs" "$W/auth/tmp"
cat >"$W/auth/nginx.conf" <<CONF
worker_processes 1;
pid $W/auth/nginx.pid;
error_log $W/auth/logs/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $W/auth/tmp/body;
    proxy_temp_path $W/auth/tmp/proxy;
    fastcgi_temp_path $W/auth/tmp/fastcgi;
    uwsgi_temp_path $W/auth/tmp/uwsgi;
    scgi_temp_path $W/auth/tmp/scgi;
    keepalive_requests 1000000;
    map \$http_auth_protocol \$backend_port {
        imap $B_IMAP;
        pop3 $B_POP3;
        smtp $B_SMTP;
        default $B_IMAP;
    }
    server {
        listen 127.0.0.1:$AUTH;
        location /auth {
            add_header Auth-Status OK;
            add_header Auth-Server 127.0.0.1;
            add_header Auth-Port \$backend_port;
            return 204;
        }
    }
}
CONF
nginx -p "$W/auth" -c "$W/auth/nginx.conf" -g 'daemon off;' </dev/null >"$W/auth/logs/stdout" 2>&1 &
AUTH_PID=$!
wait_port "$AUTH" 5 || { cat "$W/auth/logs/"*; exit 1; }

# ---------------------------------------------------------------- 3. the two proxies
mail_block() { # IMAP POP3 SMTP
    cat <<CONF
mail {
    server_name mail.test.example;
    auth_http 127.0.0.1:$AUTH/auth;
    proxy_pass_error_message on;
    imap_auth login plain;
    pop3_auth plain;
    smtp_auth login plain;
    xclient on;
    server {
        listen 127.0.0.1:$1;
        protocol imap;
    }
    server {
        listen 127.0.0.1:$2;
        protocol pop3;
    }
    server {
        listen 127.0.0.1:$3;
        protocol smtp;
    }
}
CONF
}

mkdir -p "$W/nginx/logs" "$W/nginx/tmp"
{
    echo "load_module /usr/lib/nginx/modules/ngx_mail_module.so;"
    echo "worker_processes auto;"
    echo "worker_rlimit_nofile 65536;"
    echo "pid $W/nginx/nginx.pid;"
    echo "error_log $W/nginx/logs/error.log notice;"
    echo "events { worker_connections 16384; }"
    mail_block "$N_IMAP" "$N_POP3" "$N_SMTP"
} >"$W/nginx/nginx.conf"

cp -a "$repo/karaf-distro/target/assembly" "$W/mailproxy"
{
    echo "worker_processes auto;"
    echo "error_log $W/mailproxy/data/log/mail.log notice;"
    echo "events { worker_connections 16384; }"
    mail_block "$M_IMAP" "$M_POP3" "$M_SMTP"
} >"$W/mail.conf"
cp "$W/nginx/nginx.conf" "$W/nginx.conf.used"
"$W/mailproxy/bin/mailproxy" -t -c "$W/mail.conf"

t0=$(date +%s%N)
nginx -p "$W/nginx" -c "$W/nginx/nginx.conf" -g 'daemon off;' </dev/null >"$W/nginx/logs/stdout" 2>&1 &
NGINX_PID=$!
wait_port "$N_SMTP" 30 || { cat "$W/nginx/logs/"*; exit 1; }
echo "start_ms|nginx|$(( ($(date +%s%N) - t0) / 1000000 ))" >>"$RES"

t0=$(date +%s%N)
setsid "$W/mailproxy/bin/mailproxy" -c "$W/mail.conf" </dev/null >"$W/mailproxy.out" 2>&1 &
MP_PGID=$!
wait_port "$M_SMTP" 120 && wait_port "$M_IMAP" 5 && wait_port "$M_POP3" 5 || { tail -50 "$W/mailproxy.out"; exit 1; }
echo "start_ms|mailproxy|$(( ($(date +%s%N) - t0) / 1000000 ))" >>"$RES"

if [ "${HOLD:-0}" = 1 ]; then # profiling: keep everything up, print where it is, wait for Ctrl-C
    {
        echo "W=$W NGINX_PID=$NGINX_PID MP_PGID=$MP_PGID"
        echo "direct: imap=$B_IMAP pop3=$B_POP3 smtp=$B_SMTP  auth=$AUTH"
        echo "nginx: imap=$N_IMAP pop3=$N_POP3 smtp=$N_SMTP  mailproxy: imap=$M_IMAP pop3=$M_POP3 smtp=$M_SMTP"
        echo "loadgen: java -cp $W/classes LoadGen sessions imap PORT 50 10 $USERLIST PID"
    } | tee "$W/hold.txt" >&2
    sleep infinity & wait $!
fi

# ---------------------------------------------------------------- 4. load
port_of() { # TARGET PROTO
    case "$1:$2" in
        direct:imap) echo "$B_IMAP" ;; direct:pop3) echo "$B_POP3" ;; direct:smtp) echo "$B_SMTP" ;;
        nginx:imap) echo "$N_IMAP" ;; nginx:pop3) echo "$N_POP3" ;; nginx:smtp) echo "$N_SMTP" ;;
        mailproxy:imap) echo "$M_IMAP" ;; mailproxy:pop3) echo "$M_POP3" ;; mailproxy:smtp) echo "$M_SMTP" ;;
    esac
}
pid_of() { case "$1" in nginx) echo "$NGINX_PID" ;; mailproxy) echo "$MP_PGID" ;; *) echo 0 ;; esac; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

# The JVM compiles its hot paths in the first seconds of load (that CPU would be counted in the
# first runs); nginx gets the same warm-up.
echo "run.sh: warm-up ($WARMUP s per protocol and proxy)" >&2
for t in nginx mailproxy; do for p in $PROTOS; do
    "${LG[@]}" sessions "$p" "$(port_of $t $p)" 50 "$WARMUP" "$USERLIST" 0 >/dev/null
done; done

# The generator's ceiling: the same sessions against a server that does next to nothing
# (LoadGen's Responder: imap NULL, pop3 NULL+1, smtp NULL+2).
NULL=$(free_port); free_port >/dev/null; free_port >/dev/null
while port_open $((NULL + 1)) || port_open $((NULL + 2)); do NULL=$(free_port); done
"${LG[@]}" responder "$NULL" 7200 &
NULL_PID=$!
wait_port "$NULL" 5
null_port() { case "$1" in imap) echo "$NULL" ;; pop3) echo $((NULL + 1)) ;; smtp) echo $((NULL + 2)) ;; esac; }

# The two proxies are measured ROUNDS times each, alternately (nginx first in odd rounds,
# mailproxy first in even ones), and each figure is the median of its rounds: with one run each in
# a fixed order, the second proxy always ran right after the first one, on a machine still busy
# with what that run left behind (Postfix delivering the mail it accepted, Dovecot's processes
# settling), and one run of 10 s moves by ±15 % on its own. Before every run Postfix's queue is
# delivered (settle), so that no run pays for the previous one's mail.
settle() {
    local end=$((SECONDS + 300)) q=$W/postfix/spool
    while [ "$SECONDS" -lt "$end" ] \
        && [ -n "$(find "$q/maildrop" "$q/incoming" "$q/active" "$q/deferred" -type f -print -quit 2>/dev/null)" ]; do
        sleep 0.2
    done
    sleep 1
}
# the runs of one measurement, ROUND:TARGET: direct once, then the rounds in alternating order
runs() {
    echo 0:direct
    for i in $(seq "$ROUNDS"); do
        if [ $((i % 2)) = 1 ]; then echo "$i:nginx $i:mailproxy"; else echo "$i:mailproxy $i:nginx"; fi
    done
}
# one figure of one run: METRIC TARGET VALUE ROUND (0: measured once: direct, null server)
record() { echo "$1|$2|$3|$4" >>"$RES"; }

has "$PHASES" sessions && for p in $PROTOS; do
    for c in $CONCS; do
        settle
        r=$("${LG[@]}" sessions "$p" "$(null_port $p)" "$c" "$DURATION" "$USERLIST" 0)
        echo "run.sh: $p c=$c null server: $r" >&2
        record "$p sessions/s c=$c, null server" direct "$(field rate "$r")" 0
        for rt in $(runs); do
            i=${rt%%:*}; t=${rt#*:}
            settle
            r=$("${LG[@]}" sessions "$p" "$(port_of $t $p)" "$c" "$DURATION" "$USERLIST" "$(pid_of $t)")
            echo "run.sh: $p c=$c $t round $i: $r" >&2
            record "$p sessions/s c=$c" "$t" "$(field rate "$r")" "$i"
            record "$p errors c=$c" "$t" "$(field errors "$r")" "$i"
            record "$p login p50 ms c=$c" "$t" "$(field p50ms "$r")" "$i"
            record "$p login p99 ms c=$c" "$t" "$(field p99ms "$r")" "$i"
            [ "$t" != direct ] && record "$p CPU s/1000 sessions c=$c" "$t" "$(field cpu_per_1000 "$r")" "$i"
        done
    done
done

# The bulk relay path is compiled anew (C2) over its first gigabyte or so: until then the JVM's
# compiler threads take as much CPU per GB as the relay itself. A bulk warm-up of WARMUP seconds
# per protocol, for both proxies.
has "$PHASES" bulk && for t in nginx mailproxy; do for p in $PROTOS; do
    end=$((SECONDS + WARMUP))
    while [ "$SECONDS" -lt "$end" ]; do
        "${LG[@]}" bulk "$p" "$(port_of $t $p)" "$BULK_CONC" $((BULK_CONC * 5)) "bulk:bulkpw" 0 >/dev/null
    done
done; done
has "$PHASES" bulk && for p in $PROTOS; do
    for rt in $(runs); do
        i=${rt%%:*}; t=${rt#*:}
        settle
        r=$("${LG[@]}" bulk "$p" "$(port_of $t $p)" "$BULK_CONC" "$BULK_COUNT" "bulk:bulkpw" "$(pid_of $t)")
        echo "run.sh: bulk $p $t round $i: $r" >&2
        record "$p bulk 5MB MB/s x$BULK_CONC" "$t" "$(field mbps "$r")" "$i"
        record "$p bulk errors" "$t" "$(field errors "$r")" "$i"
        [ "$t" != direct ] && record "$p CPU s/GB relayed" "$t" "$(field cpu_per_gb "$r")" "$i"
    done
done

has "$PHASES" idle && for t in nginx mailproxy; do
    jvm=0; [ "$t" = mailproxy ] && jvm=$(pid_of $t)  # bin/mailproxy execs the JVM
    r=$("${LG[@]}" idle "$(port_of $t imap)" "$IDLE_N" 120 "$USERLIST" "$(pid_of $t)" "$jvm")
    echo "run.sh: idle $t: $r" >&2
    echo "idle IMAP sessions open|$t|$(field open "$r")" >>"$RES"
    echo "RSS KB per idle session (whole/N)|$t|$(field whole_per_session_kb "$r")" >>"$RES"
    echo "RSS KB per idle session (delta)|$t|$(field per_session_kb "$r")" >>"$RES"
    [ "$t" = mailproxy ] && echo "live heap KB per idle session|$t|$(field heap_per_session_kb "$r")" >>"$RES"
    sleep 2
done

# ---------------------------------------------------------------- 5. table
echo
echo "mailproxy bench $(date -u '+%F %T UTC'), $(nproc) cores, $(nginx -v 2>&1 | sed 's/.*: //'), DURATION=${DURATION}s"
# One row per metric: the median of the rounds for each target (errors: their sum), the ratio of
# the medians, and the lowest and highest ratio of one round's pair (how far a single run can say
# otherwise).
awk -F'|' '
    function median(m, t,    c, i, j, x, a) {
        c = cnt[m, t]; if (c == 0) return ""
        if (m ~ /errors/) { x = 0; for (i = 1; i <= c; i++) x += val[m, t, i]; return x }
        for (i = 1; i <= c; i++) a[i] = val[m, t, i] + 0
        for (i = 2; i <= c; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
        x = (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
        return sprintf(x == int(x) ? "%d" : x >= 100 ? "%.1f" : x >= 1 ? "%.2f" : "%.3f", x)
    }
    {
        if (!($1 in seen)) { seen[$1] = 1; order[n++] = $1 }
        val[$1, $2, ++cnt[$1, $2]] = $3
        if ($4 + 0 > 0) { round[$1, $2, $4] = $3; if ($4 + 0 > rounds) rounds = $4 + 0 }
    }
    END {
        printf "| %-38s | %10s | %10s | %9s | %11s | %10s |\n", "metric", "nginx", "mailproxy", "ratio", "per round", "direct"
        printf "|%s|%s|%s|%s|%s|%s|\n", "----------------------------------------", "-----------:", "-----------:", "----------:", "------------:", "-----------:"
        for (i = 0; i < n; i++) {
            m = order[i]; a = median(m, "nginx"); b = median(m, "mailproxy"); d = median(m, "direct")
            r = (a != "" && b != "" && a + 0 != 0) ? sprintf("%.2f", b / a) : "-"
            lo = ""; hi = ""
            if (m !~ /errors/) for (k = 1; k <= rounds; k++) {
                if (!((m, "nginx", k) in round) || !((m, "mailproxy", k) in round) || round[m, "nginx", k] + 0 == 0) continue
                x = round[m, "mailproxy", k] / round[m, "nginx", k]
                if (lo == "" || x < lo) lo = x
                if (hi == "" || x > hi) hi = x
            }
            pr = (lo == "") ? "-" : sprintf("%.2f-%.2f", lo, hi)
            printf "| %-38s | %10s | %10s | %9s | %11s | %10s |\n", m, a, b, r, pr, (d == "" ? "-" : d)
        }
    }' "$RES"
echo "(nginx, mailproxy: median of $ROUNDS runs each, alternating; ratio = mailproxy / nginx of the medians;"
echo " per round = lowest and highest ratio of one round; direct = load generator straight to Dovecot/Postfix, the ceiling)"
