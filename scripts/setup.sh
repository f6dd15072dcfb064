# Sourced by run-demo.sh and run-tests.sh: installs what the project needs on a machine that has
# only Python and apt, into ./.venv, and puts that environment first on PATH.
#   SETUP_APT:    Debian packages to install when missing (graphviz gives `dot`).
#   SETUP_EXTRAS: the pyproject extras to install (e.g. "test,notebooks").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for pkg in ${SETUP_APT:-graphviz}; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c "import ensurepip" 2>/dev/null; then
  missing+=(python3-venv)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "== apt-get install ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  python3 -m venv .venv
fi
echo "== pip install -e .[${SETUP_EXTRAS:-}]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[${SETUP_EXTRAS:-}]" 2>&1 \
  | grep -v "^WARNING: Location .* is ignored" || true
export PATH="$PWD/.venv/bin:$PATH"
