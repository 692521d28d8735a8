#!/usr/bin/env bash
# Install everything softscm needs: system packages (Debian/Ubuntu), a virtualenv in .venv and
# the package with its test and benchmark extras. Safe to run again; it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Second line: verified boot (FAT images, the initramfs gate). Third: libc6-dev builds the PKCS#11
# module (cffi) and its C test host; opensc (pkcs11-tool), libengine-pkcs11-openssl,
# openssh-client/-server, p11-kit and gnutls-bin (p11tool) are the real tools it is tested with.
SYSTEM_PACKAGES=(python3-venv python3-dev gcc softhsm2 cryptsetup-bin util-linux e2fsprogs jq age initramfs-tools-core
  dosfstools mtools dash cpio
  libc6-dev opensc libengine-pkcs11-openssl openssh-client openssh-server p11-kit gnutls-bin)

missing=()
if command -v dpkg >/dev/null 2>&1; then
  for pkg in "${SYSTEM_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi

stamp=.venv/.softscm-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing softscm and its dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e ".[test,bench,fast]"
  echo "$want" > "$stamp"
fi

# The PKCS#11 module (libsoftscm-pkcs11.so, cffi embedding): rebuilt when its C side or the Python
# it embeds changes (the Python code it runs is loaded from src/ at run time).
pkcs11_stamp=.venv/.softscm-pkcs11-built
pkcs11_want=$(cat src/softscm/pkcs11/build.py src/softscm/pkcs11/pkcs11_*.h .venv/bin/python3 | sha256sum | cut -d' ' -f1)
pkcs11_lib=$(.venv/bin/python -c 'from softscm.pkcs11.paths import library_path; print(library_path())')
if [ ! -f "$pkcs11_lib" ] || [ ! -f "$pkcs11_stamp" ] || [ "$(cat "$pkcs11_stamp")" != "$pkcs11_want" ]; then
  echo "setup: building the PKCS#11 module"
  .venv/bin/python -m softscm.pkcs11.build >/dev/null
  echo "$pkcs11_want" > "$pkcs11_stamp"
fi

# Register it with p11-kit (root only; a module file of ours is replaced, anyone else's left alone).
p11_module=/usr/share/p11-kit/modules/softscm.module
if [ "$(id -u)" -eq 0 ] && [ -d /usr/share/p11-kit/modules ]; then
  if [ ! -e "$p11_module" ] || grep -q "^# softscm's PKCS#11 module" "$p11_module"; then
    wanted=$(sed "s|@LIBRARY@|$pkcs11_lib|" deploy/p11-kit/softscm.module)
    if [ ! -e "$p11_module" ] || [ "$(cat "$p11_module")" != "$wanted" ]; then
      printf '%s\n' "$wanted" > "$p11_module.tmp" && chmod 644 "$p11_module.tmp" && mv "$p11_module.tmp" "$p11_module"
    fi
  fi
fi
