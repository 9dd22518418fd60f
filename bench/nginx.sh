# nginx.sh — sourced by the bench scripts: write the config of a private
# nginx test peer (1 worker, access log off, `return 200 "hello\n"`, all
# paths inside WORK so it runs as root without touching /var).
#
# write_nginx_conf WORK PORT — writes WORK/nginx.conf listening on 127.0.0.1:PORT.
write_nginx_conf() {
    local work=$1 port=$2 user_line=
    mkdir -p "$work"/{client_body,proxy,fastcgi,uwsgi,scgi}
    [ "$(id -u)" = 0 ] && user_line="user root;"
    cat >"$work/nginx.conf" <<EOF2
$user_line
daemon off;
master_process on;
worker_processes 1;
pid $work/nginx.pid;
lock_file $work/nginx.lock;
error_log $work/error.log warn;
events { worker_connections 16384; }
http {
    access_log off;
    client_body_temp_path $work/client_body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:$port backlog=4096;
        location / { return 200 "hello\n"; }
    }
}
EOF2
}
