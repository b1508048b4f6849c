#!/usr/bin/env bash
# Install sarai-satellite as a systemd service on a Debian-family box.
#
#   sudo scripts/install.sh                 install or upgrade, enable and start
#   sudo scripts/install.sh --uninstall     remove it; keep config and cache
#   sudo scripts/install.sh --uninstall --purge   remove config, cache and the user too
#   scripts/install.sh --prefix /tmp/root --no-venv   stage into a throwaway root
#
# Options:
#   --prefix DIR   (or DESTDIR=DIR) install under DIR instead of /. Nothing outside DIR is
#                  touched: no apt-get, no useradd, no chown, no systemctl -- those steps
#                  are printed as "would run: ...".
#   --no-venv      do not build the virtual environment (fast staging tests)
#   --no-start     install and enable, but do not (re)start the service
#   --uninstall    remove the service, the venv and the docs; keep /etc/sarai-satellite
#                  (your config) and /var/lib/sarai-satellite (cache, memory)
#   --purge        with --uninstall: remove those too, and the system user
#
# Idempotent: every step compares before it writes, and a second run reports
# "nothing changed". An existing /etc/sarai-satellite/satellite.yaml is never
# overwritten; when the shipped defaults differ, they go to satellite.yaml.dist.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
NAME=sarai-satellite
USER_NAME=sarai-satellite
OPT=/opt/$NAME
ETC=/etc/$NAME
STATE=/var/lib/$NAME
UNIT_DIR=/etc/systemd/system
DOC=/usr/share/doc/$NAME
PACKAGES=(python3 python3-venv python3-dev build-essential cmake libportaudio2 alsa-utils)

root=${DESTDIR:-}
venv=1
start=1
action=install
purge=0
while (($#)); do
    case "$1" in
        --prefix|--destdir) root=${2:?"$1 needs a directory"}; shift ;;
        --prefix=*|--destdir=*) root=${1#*=} ;;
        --no-venv) venv=0 ;;
        --no-start) start=0 ;;
        --uninstall) action=uninstall ;;
        --purge) purge=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
root=${root%/}
staged=0
[[ -n "$root" ]] && staged=1
if ((staged)); then
    mkdir -p "$root"
    root=$(cd "$root" && pwd)
elif [[ $(id -u) -ne 0 ]]; then
    echo "install.sh: run as root (sudo), or stage with --prefix DIR" >&2
    exit 1
fi

changes=0
say() { echo "install: $*"; }
changed() { changes=$((changes + 1)); say "$*"; }

# A command that acts on the machine itself: run it, or, when staging, only print it.
system() {
    if ((staged)); then
        say "would run: $*"
    else
        "$@"
    fi
}

# systemctl, when systemd runs this machine (not in a container or a chroot).
service() {
    if ((!staged)) && [[ ! -d /run/systemd/system ]]; then
        say "systemd is not running here; skipped: systemctl $*"
        return 0
    fi
    system systemctl "$@"
}

# Copy a file when it differs from what is there; 0 when it was written.
put_file() {  # mode source destination
    local mode=$1 src=$2 dest=$root$3
    if [[ -f "$dest" ]] && cmp -s "$src" "$dest"; then
        [[ $(stat -c %a "$dest") == "$mode" ]] || { chmod "$mode" "$dest"; changed "mode $mode on $3"; }
        return 1
    fi
    install -D -m "$mode" "$src" "$dest"
    changed "wrote $3"
    return 0
}

put_dir() {  # mode directory
    local mode=$1 dest=$root$2
    if [[ -d "$dest" ]]; then
        [[ $(stat -c %a "$dest") == "$mode" ]] || { chmod "$mode" "$dest"; changed "mode $mode on $2"; }
        return 0
    fi
    install -d -m "$mode" "$dest"
    changed "created $2"
}

install_packages() {
    local missing=() pkg
    for pkg in "${PACKAGES[@]}"; do
        if ((staged)) || ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
            missing+=("$pkg")
        fi
    done
    if ((${#missing[@]})); then
        system apt-get update -qq
        system env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}"
    fi
}

create_user() {
    if ((staged)); then
        say "would run: useradd --system --user-group --groups audio --home-dir $STATE" \
            "--no-create-home --shell /usr/sbin/nologin $USER_NAME (if missing)"
    elif ! getent passwd "$USER_NAME" >/dev/null; then
        useradd --system --user-group --groups audio --home-dir "$STATE" --no-create-home \
            --shell /usr/sbin/nologin --comment "sarai-satellite voice assistant" "$USER_NAME"
        changed "created system user $USER_NAME"
    elif ! id -nG "$USER_NAME" | tr ' ' '\n' | grep -qx audio; then
        usermod --append --groups audio "$USER_NAME"
        changed "added $USER_NAME to the audio group"
    fi
}

# The project's sources and pyproject, hashed: the venv is rebuilt only when they change.
source_stamp() {
    (cd "$REPO" && find pyproject.toml satellite -type f ! -name '*.pyc' -print0 | sort -z \
        | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

build_venv() {
    local dest=$root$OPT/venv stamp
    if ((!venv)); then
        say "skipping the virtual environment (--no-venv)"
        return 1
    fi
    stamp=$(source_stamp)
    if [[ -x "$dest/bin/satellite" && -f "$dest/.installed-from" ]] \
        && [[ $(cat "$dest/.installed-from") == "$stamp" ]]; then
        return 1
    fi
    [[ -x "$dest/bin/python" ]] || python3 -m venv "$dest"
    say "installing sarai-satellite into $OPT/venv (llama-cpp-python may compile for minutes)"
    CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
        "$dest/bin/pip" install --quiet --disable-pip-version-check "$REPO"
    echo "$stamp" >"$dest/.installed-from"
    changed "installed the package into $OPT/venv"
    return 0
}

install_config() {
    local dest=$root$ETC/satellite.yaml
    if [[ -f "$dest" ]]; then
        if ! cmp -s "$REPO/config/satellite.yaml" "$dest"; then
            # Keep the user's file; leave the shipped defaults beside it for comparison.
            put_file 644 "$REPO/config/satellite.yaml" "$ETC/satellite.yaml.dist" || true
        fi
        return 0
    fi
    put_file 640 "$REPO/config/satellite.yaml" "$ETC/satellite.yaml" || true
    if ((staged)); then
        say "would run: chown root:$USER_NAME $ETC/satellite.yaml"
    else
        chown "root:$USER_NAME" "$dest"
    fi
}

install_state_dir() {
    put_dir 750 "$STATE"
    if ((staged)); then
        say "would run: chown $USER_NAME:$USER_NAME $STATE"
    elif [[ $(stat -c %U "$root$STATE") != "$USER_NAME" ]]; then
        chown "$USER_NAME:$USER_NAME" "$root$STATE"
        changed "gave $STATE to $USER_NAME"
    fi
}

do_install() {
    local restart=0
    install_packages
    create_user
    put_dir 755 "$OPT"
    build_venv && restart=1
    put_dir 755 "$ETC"
    install_config
    install_state_dir
    put_file 644 "$REPO/docs/operations.md" "$DOC/operations.md" || true
    put_file 644 "$REPO/systemd/$NAME.service" "$UNIT_DIR/$NAME.service" && restart=1
    if ((restart)); then
        service daemon-reload
    fi
    service enable --quiet "$NAME.service"
    if ((start)); then
        if ((restart)); then
            service restart "$NAME.service"
        else
            service start "$NAME.service"
        fi
    fi
    if ((changes)); then
        say "done: $changes change(s); health at http://127.0.0.1:10780/ once ready"
    else
        say "done: nothing changed"
    fi
}

remove() {  # path
    if [[ -e "$root$1" || -L "$root$1" ]]; then
        rm -rf -- "$root$1"
        changed "removed $1"
    fi
}

do_uninstall() {
    if [[ -f "$root$UNIT_DIR/$NAME.service" ]]; then
        service disable --now --quiet "$NAME.service"
    fi
    remove "$UNIT_DIR/$NAME.service"
    service daemon-reload
    remove "$OPT"
    remove "$DOC"
    if ((purge)); then
        remove "$ETC"
        remove "$STATE"
        if ((staged)); then
            say "would run: userdel $USER_NAME"
        elif getent passwd "$USER_NAME" >/dev/null; then
            userdel "$USER_NAME"
            changed "removed system user $USER_NAME"
        fi
    else
        say "kept $ETC (config) and $STATE (cache, memory); --uninstall --purge removes them"
    fi
    say "done: $changes change(s)"
}

if [[ $action == uninstall ]]; then
    do_uninstall
else
    do_install
fi
