#!/usr/bin/env bash
# Installs what the resolver tests (bundles/mail-resolver) need: dnsmasq, the real DNS server they
# start on 127.0.0.1. Debian/Ubuntu package: dnsmasq-base (the binary only, no system service).
# The tests fail, and do not skip, without it. Run as root (CI runs as root).
set -euo pipefail
if command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ]; then
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq dnsmasq-base >/dev/null
