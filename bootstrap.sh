#!/bin/sh
# Make (or reuse) a virtual environment in .venv and install this project into
# it, editable; with --test, the test dependencies as well; with --bench, the
# test and the benchmark dependencies (aiosmtpd, uvloop).
#
#   ./bootstrap.sh && .venv/bin/kamaelia-grey --listen 127.0.0.1 --port 2525
#   ./bootstrap.sh --test && .venv/bin/python -m pytest
#   ./bootstrap.sh --bench && .venv/bin/python bench/issue12.py
#
# Nothing is installed outside .venv, so this works with Debian's externally
# managed system Python (PEP 668) as with any other Python 3.11 or later.
# PYTHON=/path/to/python3 chooses the interpreter (default: python3 on PATH).
# When Python cannot make virtual environments (Debian and Ubuntu split that
# into the python3.X-venv package), that package is installed if we are root
# with apt-get; otherwise the script says what to install and stops.
# A second run with nothing changed does not call pip again: .venv/.bootstrap
# records what was installed, for which pyproject.toml.
set -eu
cd "$(dirname "$0")"

extras=""
label=""
case "${1:-}" in
    "") ;;
    --test) extras="[test]"; label=" and its test dependencies" ;;
    --bench) extras="[test,bench]"; label=" and its test and benchmark dependencies" ;;
    *) echo "usage: $0 [--test | --bench]" >&2; exit 2 ;;
esac

PYTHON=${PYTHON:-python3}
VENV=.venv

say() { echo "bootstrap: $*" >&2; }
die() { say "error: $*"; exit 1; }

command -v "$PYTHON" >/dev/null 2>&1 || die "no $PYTHON found; install Python 3.11 or later (Debian: apt-get install python3 python3-venv)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "$PYTHON is Python $("$PYTHON" -c 'import platform; print(platform.python_version())'); 3.11 or later is needed"
version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

makeVenv() {
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV" >/dev/null 2>&1 && return 0
    rm -rf "$VENV"
    return 1
}

venvWorks() {
    [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
        && "$VENV/bin/python" -m pip --version >/dev/null 2>&1
}

if ! venvWorks; then
    if ! makeVenv; then
        package="python$version-venv"
        if [ "$("$PYTHON" -c 'import sys; print(sys.base_prefix)')" = /usr ] \
                && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
            say "$PYTHON cannot make a virtual environment: installing $package"
            DEBIAN_FRONTEND=noninteractive apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null
            makeVenv || die "$PYTHON still cannot make a virtual environment after installing $package"
        elif [ "$("$PYTHON" -c 'import sys; print(sys.base_prefix)')" = /usr ] && command -v apt-get >/dev/null 2>&1; then
            die "$PYTHON cannot make a virtual environment; install its venv module with: sudo apt-get install $package"
        else
            die "$PYTHON cannot make a virtual environment (no venv or ensurepip module); install a Python with them, or point PYTHON at one"
        fi
    fi
    # Keep the environment out of git without touching the project's .gitignore.
    echo '*' > "$VENV/.gitignore"
fi

project="$("$VENV/bin/python" -c 'import hashlib, sys; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())')"
wanted="$project $extras"
stamp=$(cat "$VENV/.bootstrap" 2>/dev/null || true)
# A test install also serves a plain one; a bench install serves all three.
if [ "$stamp" = "$wanted" ] || { [ -z "$extras" ] && [ "$stamp" = "$project [test]" ]; } \
        || [ "$stamp" = "$project [test,bench]" ]; then
    exit 0
fi
rm -f "$VENV/.bootstrap"
say "installing Kamaelia$label into $VENV (Python $("$VENV/bin/python" -c 'import platform; print(platform.python_version())'))"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".$extras"
echo "$wanted" > "$VENV/.bootstrap"
