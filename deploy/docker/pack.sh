#!/bin/sh
# Used by the Dockerfiles' build stage: after `npm run build` and `npm prune --omit=dev`, copies
# what a runtime image needs into $1: the root manifest, production node_modules (workspace
# packages are relative symlinks into libs/ and apps/), and each workspace's package.json + dist.
set -eu
out="$1"
mkdir -p "$out"
cp package.json "$out/"
cp -R node_modules "$out/"
for dir in libs/* apps/*; do
  mkdir -p "$out/$dir"
  cp "$dir/package.json" "$out/$dir/"
  cp -R "$dir/dist" "$out/$dir/"
  if [ -d "$dir/node_modules" ]; then cp -R "$dir/node_modules" "$out/$dir/"; fi
done
# Compiled tests and build metadata are not needed at run time.
find "$out/libs" "$out/apps" \( -name '*.spec.js' -o -name '*.spec.d.ts' -o -name '*.tsbuildinfo' -o -name '*.map' \) -delete
