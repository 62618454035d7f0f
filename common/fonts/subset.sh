#!/bin/sh
# Rebuilds DejaVuSans.ttf and DejaVuSans-Bold.ttf of this folder from DejaVu Sans 2.37 as
# Debian 12 packages it (fonts-dejavu-core 2.37-6, /usr/share/fonts/truetype/dejavu:
# `apt-get install fonts-dejavu-core`). The result is byte for byte the committed files
# (pyftsubset is deterministic); see README.md. Only for whoever changes the subset: the
# portal itself reads the committed files and needs nothing installed.
#
#   common/fonts/subset.sh [SOURCE_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
source_dir=${1:-/usr/share/fonts/truetype/dejavu}
pyftsubset=${PYFTSUBSET:-$here/../../.venv/bin/pyftsubset}

# Debian's files, checked before use.
echo "abdc775b21b1bc470d50c97e790d276f2054b7504e56e5bd3e64f48d68582322  $source_dir/DejaVuSans.ttf
0d977336a6d5fba34eab8e3199eb218327161b5143749f802982c2bc34df0c96  $source_dir/DejaVuSans-Bold.ttf" | sha256sum -c -

# Latin (Basic, Latin-1, Extended A/B/C/D/Additional — Vietnamese —, IPA, modifiers,
# combining marks), Greek, Cyrillic, Armenian, Georgian, punctuation, super/subscripts,
# currencies, letterlike signs, number forms, arrows, mathematical operators, technical
# signs, enclosed numbers, shapes, symbols and dingbats, Latin ligatures, U+FFFD.
unicodes="U+0020-007E,U+00A0-024F,U+0250-036F,U+0370-03FF,U+0400-052F,U+0530-058F,U+10A0-10FF,\
U+1E00-1FFF,U+2000-209F,U+20A0-20CF,U+2100-218F,U+2190-23FF,U+2460-24FF,U+25A0-27BF,U+2C60-2C7F,\
U+A720-A7FF,U+FB00-FB06,U+FFFD"

for name in DejaVuSans DejaVuSans-Bold; do
    # No OpenType layout tables (fpdf2 drops them when it embeds a font, as it shapes no
    # text), no hinting (PDF viewers render outlines), every name record kept (copyright,
    # licence text and URL).
    "$pyftsubset" "$source_dir/$name.ttf" --unicodes="$unicodes" \
        --name-IDs='*' --name-languages='*' --name-legacy \
        --layout-features='' --drop-tables+=GSUB,GPOS,GDEF,hdmx,FFTM,MATH,kern \
        --no-glyph-names --no-hinting --notdef-outline --recommended-glyphs \
        --output-file="$here/$name.ttf"
done
sha256sum "$here/DejaVuSans.ttf" "$here/DejaVuSans-Bold.ttf"
