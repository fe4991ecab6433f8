#!/usr/bin/env bash
# Builds a fresh virtual environment only from binder/, the way repo2docker does (Python from
# environment.yml, the system packages of apt.txt, then postBuild), and runs the quickstart
# notebook in it under binder/start, with no API key. Docker is not needed (nor available on
# our CI machines), so this checks the recipe, not the image.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

grep -q 'python=3.11' "$root/binder/environment.yml"
"$python" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version'
missing=$(grep -v '^#' "$root/binder/apt.txt" | while read -r pkg; do
    [ -z "$pkg" ] || dpkg -s "$pkg" >/dev/null 2>&1 || echo "$pkg"; done)
if [ -n "$missing" ]; then
    echo "apt.txt packages missing on this machine: $missing" >&2
    exit 1
fi

# A copy of the checkout without anything built or ignored (as repo2docker's clone would be).
mkdir "$work/repo"
(cd "$root" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -C "$work/repo" -xf -
"$python" -m venv "$work/venv"
export PATH="$work/venv/bin:$PATH"
python -m pip install --quiet --upgrade pip
(cd "$work/repo" && bash binder/postBuild)

mkdir "$work/run"
cp "$work/repo/notebooks/01-quickstart.ipynb" "$work/run/"
cd "$work/run"
env -u ANTHROPIC_API_KEY -u SOLIDTYPE_MODEL -u SOLIDTYPE_DATABASE_URL \
    JUPYTER_DATA_DIR="$work/data" \
    "$work/repo/binder/start" jupyter execute --inplace 01-quickstart.ipynb
python - <<'PY'
import nbformat
nb = nbformat.read("01-quickstart.ipynb", as_version=4)
errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
ran = [c for c in nb.cells if c.cell_type == "code" and c.execution_count]
assert ran and not errors, errors
print(f"binder environment: quickstart ran {len(ran)} cells without an error")
PY
