#!/usr/bin/env bash
# Regenerate assets/fonts/WenQuanYiMicroHei-GB2312.ttf, the CJK font that the
# PNG charts (plotters, ab_glyph backend) are rendered with.
#
#   scripts/subset-font.sh [OUT_DIR]
#
# Steps:
#   1. `apt-get download fonts-wqy-microhei=$DEB_VERSION` (Debian bookworm) into
#      a temp dir and unpack it with `dpkg-deb -x` (nothing is installed).
#   2. Build the character list: every valid 2-byte GB2312 code (both levels)
#      plus Basic Latin, Latin-1, General Punctuation, arrows, geometric
#      shapes, CJK Symbols and Punctuation and Halfwidth/Fullwidth Forms.
#   3. `pyftsubset` face 0 of wqy-microhei.ttc ("WenQuanYi Micro Hei", the
#      proportional face) to a single TrueType (glyf) .ttf, hinting dropped,
#      all name records kept (they carry the copyright/licence strings).
#   4. Check that the glyphs the bot's charts need are present.
#   5. Write the licence file next to the font.
#
# Why not Droid Sans Fallback (fonts-droid-fallback)? It is the same CJK design
# (WenQuanYi Micro Hei is derived from it), but it has no Latin letters or
# digits at all, and ab_glyph cannot fall back to a second font inside one
# string, so "第 3 周" or axis numbers would render as boxes. Micro Hei adds the
# Droid Sans Latin glyphs and is licensed Apache-2.0 (or GPL-3+ with font
# exception); we redistribute it under Apache-2.0.
#
# Needs: apt-get (a Debian/Ubuntu with bookworm's archive; `apt-get update`
# done), dpkg-deb, python3 with venv. fontTools is installed into
# ${FONTTOOLS_VENV:-/tmp/ftvenv} if it is not there yet.
#
# Environment:
#   FONTTOOLS_VENV     venv holding fontTools (default /tmp/ftvenv)
#   FONTTOOLS_VERSION  fontTools version to pip install (default 4.68.0)
#   DEB_VERSION        fonts-wqy-microhei version (default 0.2.0-beta-3.1)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT_DIR="${1:-$REPO_ROOT/assets/fonts}"
FONTTOOLS_VENV="${FONTTOOLS_VENV:-/tmp/ftvenv}"
FONTTOOLS_VERSION="${FONTTOOLS_VERSION:-4.68.0}"
DEB_PACKAGE=fonts-wqy-microhei
DEB_VERSION="${DEB_VERSION:-0.2.0-beta-3.1}"
OUT_FONT="$OUT_DIR/WenQuanYiMicroHei-GB2312.ttf"
OUT_LICENSE="$OUT_DIR/LICENSE-WenQuanYiMicroHei.txt"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# 1. Fetch and unpack the Debian package (no system-wide install).
(cd "$WORK" && apt-get download "$DEB_PACKAGE=$DEB_VERSION")
dpkg-deb -x "$WORK"/"$DEB_PACKAGE"_*.deb "$WORK/pkg"
SRC_FONT="$WORK/pkg/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
SRC_COPYRIGHT="$WORK/pkg/usr/share/doc/$DEB_PACKAGE/copyright"

# fontTools venv.
if ! "$FONTTOOLS_VENV/bin/python" -c 'import fontTools' 2>/dev/null; then
    python3 -m venv "$FONTTOOLS_VENV"
    "$FONTTOOLS_VENV/bin/pip" install --quiet "fonttools==$FONTTOOLS_VERSION"
fi
PY="$FONTTOOLS_VENV/bin/python"

# 2. Character list (pyftsubset --unicodes-file format: hex code points/ranges).
"$PY" - "$WORK/unicodes.txt" <<'EOF'
import sys

# Every valid 2-byte GB2312 code: rows 0xA1..0xF7 (symbols, level 1, level 2),
# cells 0xA1..0xFE. Invalid/unassigned codes fail to decode and are skipped.
chars = set()
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            chars.add(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
assert len(chars) == 7445, len(chars)  # 682 symbols + 3755 + 3008 hanzi

ranges = [
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x00FF),  # Latin-1 Supplement
    (0x2000, 0x206F),  # General Punctuation
    (0x2190, 0x21FF),  # Arrows
    (0x25A0, 0x25FF),  # Geometric Shapes
    (0x3000, 0x303F),  # CJK Symbols and Punctuation
    (0xFF00, 0xFFEF),  # Halfwidth and Fullwidth Forms
]
cps = {ord(c) for c in chars}
for a, b in ranges:
    cps.update(range(a, b + 1))
cps.add(0x30FB)  # KATAKANA MIDDLE DOT (GB2312 0xA1A4 decodes to it in Python)

with open(sys.argv[1], "w") as f:
    for cp in sorted(cps):
        f.write("U+%04X\n" % cp)
print("code points requested:", len(cps), file=sys.stderr)
EOF

# 3. Subset. Face 0 of the TTC is the proportional "WenQuanYi Micro Hei".
mkdir -p "$OUT_DIR"
"$FONTTOOLS_VENV/bin/pyftsubset" "$SRC_FONT" \
    --font-number=0 \
    --unicodes-file="$WORK/unicodes.txt" \
    --output-file="$OUT_FONT" \
    --no-hinting \
    --name-IDs='*' --name-languages='*' --name-legacy \
    --notdef-outline \
    --drop-tables+=FFTM

# 4. Verify the glyphs the charts need.
"$PY" - "$OUT_FONT" <<'EOF'
import sys
from fontTools.ttLib import TTFont

font = TTFont(sys.argv[1])
assert "glyf" in font and "CFF " not in font, "expected TrueType outlines"
cmap = font.getBestCmap()
need = ("安全指数 优 良 平稳 较差 防诈骗 新华路派出所 第 周 日 一二三四五六 "
        "0123456789 Safety index ・，。：")
missing = [c for c in dict.fromkeys(need) if ord(c) not in cmap]
gb_missing = []
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            c = bytes([hi, lo]).decode("gb2312")
        except UnicodeDecodeError:
            continue
        if ord(c) not in cmap:
            gb_missing.append(c)
print("family:", font["name"].getDebugName(1), file=sys.stderr)
print("cmap entries:", len(cmap), "glyphs:", font["maxp"].numGlyphs, file=sys.stderr)
if missing or gb_missing:
    sys.exit("missing glyphs: %r, GB2312 missing: %r" % (missing, "".join(gb_missing)))
EOF

# 5. Licence: the package's copyright file as shipped, plus the full
# Apache-2.0 text it points to (/usr/share/common-licenses/Apache-2.0).
{
    echo "WenQuanYiMicroHei-GB2312.ttf is a subset of wqy-microhei.ttc (face 0,"
    echo "\"WenQuanYi Micro Hei\" 0.2.0-beta) from the Debian package"
    echo "$DEB_PACKAGE $DEB_VERSION, redistributed under the Apache License 2.0"
    echo "(the font is dual-licensed Apache-2.0 or GPL-3+ with font exception)."
    echo "Modified: glyphs subset to GB2312 + Latin/punctuation, hinting removed."
    echo "See README.md in this directory."
    echo
    echo "==================== debian/copyright (as shipped in $DEB_PACKAGE $DEB_VERSION) ===================="
    echo
    cat "$SRC_COPYRIGHT"
    echo
    echo "==================== Apache License, Version 2.0 (full text) ===================="
    echo
    cat /usr/share/common-licenses/Apache-2.0
} > "$OUT_LICENSE"

ls -l "$OUT_FONT" "$OUT_LICENSE"
sha256sum "$OUT_FONT"
