#!/usr/bin/env bash
# Collects into build/gpu-libs the shared libraries that build/bin/switchyard and the sim and exec
# plugins link and a GPU machine (Ubuntu 24.04, no apt) lacks (the torch plugin is built there):
# everything ldd resolves except the C/C++ runtime, which the GPU machine has in newer versions.
# Run it here after a build; carry build/bin, build/backends and build/gpu-libs (bench/gpu/lib.sh
# sets LD_LIBRARY_PATH).
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=build/gpu-libs
rm -rf "$dest" && mkdir -p "$dest"
ldd build/bin/switchyard build/backends/libswitchyard_backend_{sim,exec}.so 2>/dev/null | awk '/=> \// {print $3}' | sort -u |
  grep -Ev '/(libc|libm|libpthread|libdl|librt|libgcc_s|libstdc\+\+|ld-linux[^/]*)\.so' |
  while read -r lib; do cp -L "$lib" "$dest/"; done
du -sh "$dest"
