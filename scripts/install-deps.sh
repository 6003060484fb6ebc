#!/usr/bin/env bash
# Installs what ahead needs to build and test on Debian 12 (run as root).
set -euo pipefail
pkgs=(build-essential cmake pkg-config libsqlite3-dev libinih-dev libjansson-dev libcmocka-dev
      sqlite3 gnuplot-nox python3 python3-jsonschema clang
      libmicrohttpd-dev libgnutls28-dev libsystemd-dev libcurl4-gnutls-dev zlib1g-dev
      libprotobuf-c-dev protobuf-c-compiler
      help2man systemd dpkg-dev fakeroot curl
      prometheus prometheus-node-exporter libncurses-dev tmux chromium
      wrk libclang-rt-14-dev bc etcd-server etcd-client faketime)
# libmicrohttpd-dev, libgnutls28-dev, libsystemd-dev: ahead serve; libcurl4-gnutls-dev: the CLI's --server
# zlib1g-dev: the etcd ledger's log pages, deflated; libprotobuf-c-dev, protobuf-c-compiler: its
# commits over etcd's gRPC API (src/store/etcd_rpc.proto, compiled at build time)
# help2man: man pages from --help; systemd (systemd-analyze verify), dpkg-dev (dpkg-shlibdeps), fakeroot:
# the .deb and tests/cli_deb_install.sh; curl: the API's shell tests
# libncurses-dev: ahead top; tmux: its test; chromium: the dashboard's headless test
# prometheus (promtool), prometheus-node-exporter: tests/cli_prometheus.sh and the metrics tests
# wrk, libclang-rt-14-dev (clang's libFuzzer), bc: bench/run api only
# etcd-server, etcd-client: the etcd ledger's tests (test_ledger_etcd, cli_cluster start their own cluster)
# faketime: tests/cli_cluster_skew.sh runs one instance with its clock set ahead (LD_PRELOAD, a test tool only)
# python3: shell tests parse JSON with it; python3-jsonschema: tests/cli_json_schema.sh validates every
# command's -o json against docs/schema/ahead.schema.json; clang: scripts/test.sh
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
