#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# find_gallery_bugs.sh BUILD_DIR NMRKIT_SOURCE_DIR: once the consumer is built, every gallery
# bug it declared (BUILD_DIR/gallery.txt: two, or all with CONSUMER_WHOLE_GALLERY=ON) is found
# from an empty corpus within 60 s by the outside project's own fuzzer, and its crash file
# replays. Run by run.sh and by the slow ctest gallery.outside_project_finds_every_bug.
set -u
build=$1 source=$2
[[ -s $build/gallery.txt ]] || { echo "FAIL: $build/gallery.txt missing (configure the consumer first)"; exit 1; }
failed=0 count=0
while IFS='|' read -r name expected; do
    [[ -n $name ]] || continue
    count=$((count + 1))
    echo "== $name"
    bash "$source/examples/gallery/find_bug.sh" "$build/$name" "$build/${name}_replay" \
        "$expected" "$build/work/$name" 60 || failed=$((failed + 1))
done <"$build/gallery.txt" # the last field keeps the rest of the line, its | included
echo "$((count - failed)) of $count gallery bugs found"
((count > 0 && failed == 0))
