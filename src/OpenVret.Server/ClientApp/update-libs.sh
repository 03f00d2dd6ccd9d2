#!/usr/bin/env bash
# Refreshes the vendored front-end libraries in ../wwwroot/lib from the npm registry (versions pinned in
# package-lock.json). The built files are committed so the server runs on a machine with only the .NET SDK.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --silent
cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css ../wwwroot/lib/
cp node_modules/uplot/LICENSE ../wwwroot/lib/uPlot.LICENSE
cp node_modules/@microsoft/signalr/dist/browser/signalr.min.js ../wwwroot/lib/
cp node_modules/@microsoft/signalr/LICENSE* ../wwwroot/lib/signalr.LICENSE 2>/dev/null || true
mkdir -p ../wwwroot/lib/three
cp node_modules/three/build/three.module.js node_modules/three/build/three.core.js node_modules/three/examples/jsm/webxr/VRButton.js node_modules/three/LICENSE ../wwwroot/lib/three/
rm -rf node_modules
