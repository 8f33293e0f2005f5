#!/usr/bin/env bash
# Debian packages the reports need: CJK fonts (Chinese glyphs in HTML, PDF and charts), an open
# Kai face for the roles of 仿宋/楷体 (LXGW WenKai: Debian has no simplified FangSong), Chromium
# (HTML -> PDF, and the DOM test of injected markup), poppler (PDF checks), cairo (charts as PNG
# in the Word report) and LibreOffice Writer (the test that a Word report converts to PDF).
# Idempotent: does nothing when they are present.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# Not `fc-list | grep -q`: under pipefail, grep closing early fails the pipe with SIGPIPE.
fonts=$(fc-list : family 2>/dev/null || true)
[[ $fonts == *"Noto Sans CJK"* ]] || need+=(fonts-noto-cjk)
[[ $fonts == *"LXGW WenKai"* ]] || need+=(fonts-lxgw-wenkai)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
libs=$(ldconfig -p 2>/dev/null || true)
[[ $libs == *"libcairo.so.2"* ]] || need+=(libcairo2)
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer-nogui)
[ ${#need[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: please install ${need[*]} with your system's package manager" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-system-deps: installing ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" fontconfig >/dev/null
