"""Draw the app's icons: a friendly yellow star on the service blue, nothing that says what the service is for.

Run `python -m server.pwa.icons` after changing the drawing; the PNGs it writes to static/icons/ are kept in
the repository so that a deployment needs no Pillow.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

from server.web import STATIC_DIR

BLUE = "#1d4f91"
YELLOW = "#ffd23f"
# Drawn this many times larger, then scaled down, for smooth edges without an anti-aliasing renderer.
SUPERSAMPLE = 4
# The share of the icon's width the star may reach from the centre. A maskable icon is cropped by the
# platform to as little as a circle of radius 0.4 (the "safe zone"), so its star stays well inside it.
STAR_REACH = {"any": 0.40, "maskable": 0.30, "apple": 0.36}

ICONS = (
    ("icon-192.png", 192, "any"),
    ("icon-512.png", 512, "any"),
    ("icon-maskable-512.png", 512, "maskable"),
    ("apple-touch-icon.png", 180, "apple"),
)


def _star_points(cx: float, cy: float, outer: float, inner: float) -> list[tuple[float, float]]:
    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def draw_icon(size: int, reach: float) -> Image.Image:
    """The icon at `size` pixels, with the star's rounded tips `reach` × size from the centre."""
    big = size * SUPERSAMPLE
    image = Image.new("RGB", (big, big), BLUE)
    draw = ImageDraw.Draw(image)
    centre_x, centre_y = big / 2, big * 0.52
    # The outline rounds the tips; it adds half its width beyond the polygon, so the polygon is that much smaller.
    rounding = big * 0.06
    outer = big * reach - rounding / 2
    points = _star_points(centre_x, centre_y, outer, outer * 0.5)
    draw.polygon(points, fill=YELLOW)
    draw.line([*points, points[0], points[1]], fill=YELLOW, width=round(rounding), joint="curve")

    # A smiling face makes the star friendly rather than official.
    eye = big * reach * 0.07
    for side in (-1, 1):
        ex, ey = centre_x + side * big * reach * 0.17, centre_y - big * reach * 0.05
        draw.ellipse((ex - eye, ey - eye * 1.3, ex + eye, ey + eye * 1.3), fill=BLUE)
    smile = big * reach * 0.22
    smile_y = centre_y + big * reach * 0.02
    draw.arc(
        (centre_x - smile, smile_y - smile * 0.8, centre_x + smile, smile_y + smile * 0.8),
        start=25,
        end=155,
        fill=BLUE,
        width=max(1, round(big * reach * 0.06)),
    )
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main(directory: Path = STATIC_DIR / "icons") -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, size, purpose in ICONS:
        icon = draw_icon(size, STAR_REACH[purpose])
        # A small palette keeps each file a few kilobytes; two colours and their blended edges need no more.
        icon.quantize(colors=32, method=Image.Quantize.MEDIANCUT).save(directory / name, optimize=True)
        print(f"{directory / name}: {size}×{size} ({purpose})")


if __name__ == "__main__":
    main()
