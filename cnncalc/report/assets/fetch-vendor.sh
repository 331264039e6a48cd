#!/usr/bin/env bash
# Re-fetch the pinned third-party files that `cnncalc report` inlines into every page, with their
# licences, from the npm registry. Run from anywhere; node_modules is made in a temporary folder and
# never committed. Bump a version here, run this, then check the screenshots (tests/test_report_browser.py).
set -euo pipefail
DAGRE=3.1.3        # @dagrejs/dagre: layered graph layout (bundles @dagrejs/graphlib)
GRAPHLIB=4.0.6     # @dagrejs/graphlib: the version dagre $DAGRE depends on (its licence is copied)
UPLOT=1.6.32       # uplot: small canvas charts (bar charts of params, MACs, activations)
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts --save-exact \
    "@dagrejs/dagre@$DAGRE" "@dagrejs/graphlib@$GRAPHLIB" "uplot@$UPLOT" >/dev/null
out="$here/vendor"
mkdir -p "$out"
cp node_modules/@dagrejs/dagre/dist/dagre.min.js "$out/dagre.min.js"
cp node_modules/@dagrejs/dagre/LICENSE "$out/dagre.LICENSE"
cp node_modules/@dagrejs/dagre/dist/dagre.min.js.LEGAL.txt "$out/dagre.min.js.LEGAL.txt"
cp node_modules/@dagrejs/graphlib/LICENSE "$out/graphlib.LICENSE"
cp node_modules/uplot/dist/uPlot.iife.min.js "$out/uPlot.iife.min.js"
cp node_modules/uplot/dist/uPlot.min.css "$out/uPlot.min.css"
cp node_modules/uplot/LICENSE "$out/uPlot.LICENSE"
# drop the trailing source-map comment: the map is not shipped, and a page opened offline must not ask for it
sed -i '/^\/\/# sourceMappingURL=/d' "$out/dagre.min.js" "$out/uPlot.iife.min.js"
printf '{"@dagrejs/dagre": "%s", "@dagrejs/graphlib": "%s", "uplot": "%s"}\n' "$DAGRE" "$GRAPHLIB" "$UPLOT" \
    > "$out/versions.json"
ls -l "$out"
