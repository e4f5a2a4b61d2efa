# Sourced by run-app and run-tests: a project virtualenv kept in step with requirements.txt.
VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    python3.11 -m venv "$VENV" 2>/dev/null || python3 -m venv "$VENV"
fi
STAMP="$VENV/.requirements.sha256"
WANTED="$(sha256sum requirements.txt | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANTED" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
    echo "$WANTED" > "$STAMP"
fi
source "$VENV/bin/activate"
