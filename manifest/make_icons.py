"""Draw the Teams app icons: `python -m manifest.make_icons` writes color.png and outline.png."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
ACCENT = (0x1F, 0x4E, 0x79)  # same as accentColor in manifest.json
WHITE = (255, 255, 255)
SCALE = 8  # draw big, then shrink: smooth edges without hand anti-aliasing

Box = tuple[float, float, float, float]
Point = tuple[float, float]
Colour = int | tuple[int, int, int]  # int for an "L" mask, RGB for the colour icon


def _bezier(p0: Point, p1: Point, p2: Point, steps: int = 24) -> list[Point]:
    """Points along a quadratic Bezier curve from p0 to p2 (control p1)."""
    points = []
    for i in range(steps + 1):
        t = i / steps
        x = (1 - t) ** 2 * p0[0] + 2 * (1 - t) * t * p1[0] + t**2 * p2[0]
        y = (1 - t) ** 2 * p0[1] + 2 * (1 - t) * t * p1[1] + t**2 * p2[1]
        points.append((x, y))
    return points


def shield_points(box: Box) -> list[Point]:
    """Outline of a shield filling `box`: peaked top, straight sides, curved point below."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx = x0 + w / 2
    shoulder, side_end = y0 + 0.12 * h, y0 + 0.52 * h
    right = _bezier((x1, side_end), (x1, y0 + 0.86 * h), (cx, y1))
    left = _bezier((cx, y1), (x0, y0 + 0.86 * h), (x0, side_end))
    return [(x0, shoulder), (cx, y0), (x1, shoulder), *right, *left[1:]]


def _padlock(draw: ImageDraw.ImageDraw, box: Box, body: Colour, hole: Colour) -> None:
    """Draw a padlock in `box`: shackle and body in `body` colour, keyhole in `hole` colour."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    stroke = max(1, round(0.14 * w))
    shackle = (x0 + 0.2 * w, y0, x1 - 0.2 * w, y0 + 0.75 * h)
    draw.arc(shackle, 180, 360, fill=body, width=stroke)
    arm_top = y0 + (shackle[3] - shackle[1]) / 2
    for x in (shackle[0], shackle[2] - stroke):
        draw.rectangle((x, arm_top, x + stroke, y0 + 0.5 * h), fill=body)
    draw.rounded_rectangle((x0, y0 + 0.45 * h, x1, y1), radius=0.12 * w, fill=body)
    r = 0.1 * w
    cx, cy = x0 + w / 2, y0 + 0.66 * h
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=hole)
    draw.rectangle((cx - r / 2.5, cy, cx + r / 2.5, cy + 0.18 * h), fill=hole)


def _scaled(box: Box, size: int) -> Box:
    """A box given in fractions of the icon, in pixels of the big drawing."""
    s = size * SCALE
    return (box[0] * s, box[1] * s, box[2] * s, box[3] * s)


def make_color(size: int = 192) -> Image.Image:
    """Full-colour icon: white shield with a padlock on a solid accent-coloured square."""
    big = Image.new("RGB", (size * SCALE, size * SCALE), ACCENT)
    draw = ImageDraw.Draw(big)
    draw.polygon(shield_points(_scaled((0.22, 0.16, 0.78, 0.86), size)), fill=WHITE)
    _padlock(draw, _scaled((0.38, 0.32, 0.62, 0.66), size), ACCENT, WHITE)
    return big.resize((size, size), Image.Resampling.LANCZOS)


def make_outline(size: int = 32) -> Image.Image:
    """Outline icon: white shield outline and padlock on a transparent background."""
    mask = Image.new("L", (size * SCALE, size * SCALE), 0)
    draw = ImageDraw.Draw(mask)
    points = shield_points(_scaled((0.14, 0.06, 0.86, 0.94), size))
    draw.line([*points, points[0], points[1]], fill=255, width=2 * SCALE, joint="curve")
    _padlock(draw, _scaled((0.35, 0.28, 0.65, 0.68), size), 255, 0)
    icon = Image.new("RGBA", (size, size), (*WHITE, 0))
    icon.putalpha(mask.resize((size, size), Image.Resampling.LANCZOS))
    return icon


def main() -> None:
    """Write color.png and outline.png next to this file."""
    make_color().save(HERE / "color.png", optimize=True)
    make_outline().save(HERE / "outline.png", optimize=True)


if __name__ == "__main__":
    main()
