#!/usr/bin/env bash
# Puts real animal photos (no human face in any) into DIR, for the NOT_A_FACE animal check's test
# and benchmark. They come from Debian's own packages, unpacked without installing them
# (`apt-get download` + `dpkg -x`); the shared data has none.
#   chelsea.png       a cat        python3-skimage  skimage/data (scikit-image, CC0)
#   dogs.jpg          a dog        libdlib19.1      dlib's face-detector examples (Boost licence)
#   squirrel_cls.jpg  a squirrel   opencv-doc       OpenCV samples/data (Apache-2.0)
#   baboon.jpg        a mandrill   opencv-doc
#   HappyFish.jpg     fish         opencv-doc
#   butterfly.jpg     a butterfly  opencv-doc
# Usage: bash scripts/animal-photos.sh DIR   (needs apt-get and Debian's package servers).
# Prints the folder; exits non-zero when a package cannot be had.
set -euo pipefail
dir="${1:?usage: animal-photos.sh DIR}"
mkdir -p "$dir"
have() { [ -s "$dir/$1" ]; }
if have chelsea.png && have dogs.jpg && have squirrel_cls.jpg && have baboon.jpg && have HappyFish.jpg && have butterfly.jpg; then
  echo "$dir"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# _apt cannot write into a root-only temp folder; download there as root without the sandbox.
# On a machine whose package lists are empty, update them once and try again.
download() { (cd "$work" && apt-get download -q -o APT::Sandbox::User=root python3-skimage libdlib19.1 opencv-doc >/dev/null); }
download || { apt-get update -qq && download; }
for deb in "$work"/*.deb; do dpkg -x "$deb" "$work/x"; done
cp "$work/x/usr/lib/python3/dist-packages/skimage/data/chelsea.png" "$dir/"
cp "$work/x/usr/share/doc/libdlib19.1/examples/faces/dogs.jpg" "$dir/"
for f in squirrel_cls.jpg baboon.jpg HappyFish.jpg butterfly.jpg; do
  cp "$work/x/usr/share/doc/opencv-doc/examples/data/$f" "$dir/"
done
echo "$dir"
