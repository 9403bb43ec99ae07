# Sourced by run.sh and test.sh: make .venv and install the given requirement
# files into it, skipping pip when they have not changed since the last install.
# Set PYTHON to choose the interpreter (default: python3.11, else python3 >= 3.11).

_find_python() {
    if [ -n "${PYTHON:-}" ]; then
        echo "$PYTHON"
    elif command -v python3.11 >/dev/null 2>&1; then
        echo python3.11
    elif python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo python3
    else
        echo "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)." >&2
        return 1
    fi
}

ensure_venv() {
    local python stamp wanted
    if ! .venv/bin/python -c '' >/dev/null 2>&1; then
        python="$(_find_python)"
        echo "Creating .venv with $python"
        rm -rf .venv
        "$python" -m venv .venv
    fi
    stamp=".venv/.requirements.sha256"
    wanted="$(cat "$@" | sha256sum | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || ! grep -qx "$wanted" "$stamp"; then
        local args=()
        for file in "$@"; do args+=(-r "$file"); done
        .venv/bin/python -m pip install --disable-pip-version-check -q "${args[@]}"
        # Several stamps may be valid at once (run.sh installs fewer files).
        echo "$wanted" >>"$stamp"
    fi
}
