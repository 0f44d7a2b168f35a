"""Small line charts drawn on the server as SVG: no chart library, no JavaScript.

Each chart comes with a table of the same figures next to it, so a screen
reader (and anyone who prefers numbers) reads the table; the SVG is one image
with a short text alternative.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT = 320, 160
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 32, 12, 12, 24


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: float
    label: str


@dataclass(frozen=True)
class LineChart:
    points: list[Point]
    max_value: float
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def ticks(self) -> list[tuple[float, float]]:
        """(value, y) for the lines at 0, half and the maximum."""
        return [(v, _y(v, self.max_value)) for v in (0, self.max_value / 2, self.max_value)]

    @property
    def dates(self) -> list[tuple[float, str, str]]:
        """(x, label, text-anchor) under the axis: the first and the last point, and one in
        the middle when there are five or more; a single point gets its own label."""
        if not self.points:
            return []
        if len(self.points) == 1:
            return [(self.points[0].x, self.points[0].label, "middle")]
        chosen = [(self.points[0], "start"), (self.points[-1], "end")]
        if len(self.points) >= 5:
            chosen.insert(1, (self.points[len(self.points) // 2], "middle"))
        return [(p.x, p.label, anchor) for p, anchor in chosen]

    @property
    def baseline(self) -> float:
        return float(HEIGHT - PAD_BOTTOM)


def _y(value: float, max_value: float) -> float:
    usable = HEIGHT - PAD_TOP - PAD_BOTTOM
    return PAD_TOP + usable * (1 - value / max_value if max_value else 1)


def line_chart(values: list[tuple[str, float]], max_value: float) -> LineChart:
    """A chart of ``values`` (label, value) in order, on a scale from 0 to ``max_value``."""
    usable = WIDTH - PAD_LEFT - PAD_RIGHT
    step = usable / (len(values) - 1) if len(values) > 1 else 0
    points = [Point(PAD_LEFT + (i * step if len(values) > 1 else usable / 2),
                    _y(value, max_value), value, label)
              for i, (label, value) in enumerate(values)]
    return LineChart(points, max_value)
