"""Inline SVG charts, written by hand: no script, no external asset, Swedish number format.

Counts below the suppression limit are drawn as a hatched bar at the limit's height and
labelled ``<5``, so neither the picture nor the label gives the value away.
"""
from __future__ import annotations

from html import escape
from math import ceil, floor, log10

from services.swedish import number

from .suppress import is_small, marker

FONT = "font-family=\"DejaVu Sans, sans-serif\""
PALETTE = ("#1f5f8b", "#e07b00", "#6a3d9a", "#2e8b57", "#b22222", "#7f7f7f")
HATCH_ID = "cw-hatch"


def _nice_max(value: float) -> tuple[float, float]:
    """An axis top at or above ``value`` and a tick step (1, 2, 2.5 or 5 × 10^k), 4-6 ticks."""
    if value <= 0:
        return 1.0, 0.25
    raw = value / 5
    power = 10 ** floor(log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        step = m * power
        if step >= raw:
            break
    return ceil(value / step) * step, step


def _defs() -> str:
    return (f"<defs><pattern id='{HATCH_ID}' width='6' height='6' patternUnits='userSpaceOnUse' "
            "patternTransform='rotate(45)'><rect width='6' height='6' fill='#eeeeee'/>"
            "<line x1='0' y1='0' x2='0' y2='6' stroke='#9e9e9e' stroke-width='2'/></pattern></defs>")


def _frame(width: int, height: int, title: str, body: str) -> str:
    return (f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' width='100%' "
            f"role='img' aria-label='{escape(title)}' class='chart'>{_defs()}"
            f"<text x='0' y='16' {FONT} font-size='14' font-weight='bold'>{escape(title)}</text>{body}</svg>")


def _y_axis(x0: int, y0: int, x1: int, plot_h: int, top: float, step: float, fmt) -> str:
    out = []
    v = 0.0
    while v <= top + step / 1000:
        y = y0 - plot_h * v / top
        out.append(f"<line x1='{x0}' y1='{y:.1f}' x2='{x1}' y2='{y:.1f}' stroke='#dddddd' stroke-width='1'/>"
                   f"<text x='{x0 - 6}' y='{y + 4:.1f}' {FONT} font-size='11' text-anchor='end'>{escape(fmt(v))}</text>")
        v += step
    out.append(f"<line x1='{x0}' y1='{y0}' x2='{x1}' y2='{y0}' stroke='#444444' stroke-width='1'/>")
    return "".join(out)


LEGEND_LINE = 16


def _legend_width(name: str) -> int:
    return 26 + int(len(name) * 6.4)


def legend_lines(x: int, entries: list[tuple[str, str, str]], right: int) -> int:
    """How many lines the legend takes when it wraps at ``right``."""
    lines, start = 1, x
    for name, _colour, _kind in entries:
        if x > start and x + _legend_width(name) > right:
            lines, x = lines + 1, start
        x += _legend_width(name)
    return lines


def _legend(x: int, y: int, entries: list[tuple[str, str, str]], right: int = 10**6) -> str:
    """``(name, colour, kind)`` with kind ``bar``, ``line`` or ``dash``; wraps at ``right``."""
    out = []
    start = x
    for name, colour, kind in entries:
        if x > start and x + _legend_width(name) > right:
            x, y = start, y + LEGEND_LINE
        if kind == "bar":
            out.append(f"<rect x='{x}' y='{y - 9}' width='12' height='10' fill='{colour}'/>")
        else:
            dash = " stroke-dasharray='5,3'" if kind == "dash" else ""
            out.append(f"<line x1='{x}' y1='{y - 4}' x2='{x + 14}' y2='{y - 4}' stroke='{colour}' stroke-width='2.5'{dash}/>")
        out.append(f"<text x='{x + 18}' y='{y}' {FONT} font-size='11'>{escape(name)}</text>")
        x += _legend_width(name)
    return "".join(out)


def bar_chart(title: str, categories: list[str], series: list[tuple[str, list[float | int | None]]],
              *, suppress_below: int | None = None, width: int = 900, height: int = 260,
              label_every: int = 1, faded: list[bool] | None = None, fmt=lambda v: number(v),
              value_labels: bool = False, note: str | None = None) -> str:
    """Grouped bars, one group per category. ``faded[i]`` draws category i lighter (e.g. a
    week not yet complete)."""
    x0, x1, top_pad, bottom_pad = 56, width - 8, 44, 44
    y0, plot_h = height - bottom_pad, height - bottom_pad - top_pad
    values = [v for _, vals in series for v in vals if isinstance(v, (int, float))]
    shown_max = max([*values, suppress_below or 0, 1])
    top, step = _nice_max(shown_max)
    group_w = (x1 - x0) / max(len(categories), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)
    body = [_y_axis(x0, y0, x1, plot_h, top, step, fmt)]
    for i, cat in enumerate(categories):
        gx = x0 + i * group_w + group_w * 0.1
        for j, (_name, vals) in enumerate(series):
            v = vals[i]
            if v is None:
                continue
            colour = PALETTE[j % len(PALETTE)]
            if isinstance(v, str) and v != marker(suppress_below or 5):
                # hidden to protect another cell: it may be any size, so no bar, only the marker
                body.append(f"<text x='{gx + j * bar_w + bar_w / 2:.1f}' y='{y0 - 3:.1f}' {FONT} font-size='9' "
                            f"text-anchor='middle'>{escape(v)}</text>")
                continue
            small = isinstance(v, str) or (suppress_below is not None and is_small(v, suppress_below))
            label = v if isinstance(v, str) else marker(suppress_below or 5)
            h = plot_h * ((suppress_below or 5) if small else v) / top
            x, y = gx + j * bar_w, y0 - h
            fill = f"url(#{HATCH_ID})" if small else colour
            opacity = " fill-opacity='0.45'" if faded and faded[i] else ""
            body.append(f"<rect x='{x:.1f}' y='{y:.1f}' width='{max(bar_w - 1, 1):.1f}' height='{h:.1f}' fill='{fill}'{opacity}/>")
            if small:
                body.append(f"<text x='{x + bar_w / 2:.1f}' y='{y - 3:.1f}' {FONT} font-size='9' "
                            f"text-anchor='middle'>{escape(label)}</text>")
            elif value_labels and v:
                body.append(f"<text x='{x + bar_w / 2:.1f}' y='{y - 3:.1f}' {FONT} font-size='9' "
                            f"text-anchor='middle'>{escape(fmt(v))}</text>")
        if i % label_every == 0:
            body.append(f"<text x='{x0 + (i + 0.5) * group_w:.1f}' y='{y0 + 15}' {FONT} font-size='11' "
                        f"text-anchor='middle'>{escape(cat)}</text>")
    legend = [(name, PALETTE[j % len(PALETTE)], "bar") for j, (name, _v) in enumerate(series)]
    any_small = any(isinstance(v, str) or (suppress_below is not None and is_small(v, suppress_below))
                    for _, vals in series for v in vals)
    if any_small:
        legend.append((f"{marker(suppress_below or 5)}: 1–{(suppress_below or 5) - 1}; .. dolt antal", f"url(#{HATCH_ID})", "bar"))
    if len(legend) > 1:
        body.append(_legend(x0, height - 8, legend, x1))
        height += LEGEND_LINE * (legend_lines(x0, legend, x1) - 1)  # a wrapped legend's lines below
    if note:
        body.append(f"<text x='{x1}' y='16' {FONT} font-size='10' text-anchor='end' fill='#555555'>{escape(note)}</text>")
    return _frame(width, height, title, "".join(body))


def cost_chart(title: str, months: list[str], outcome: list[float | None], budget: list[float], annual_budget: float,
               forecast: float, *, width: int = 900, height: int = 280) -> str:
    """Accumulated net cost (bars) against accumulated budget (line) Jan..Dec, and the forecast
    from the last month to December (dashed), in mnkr. Costs are negative, as in the table,
    so the bars hang down from the zero line at the top."""
    x0, x1, top_pad, bottom_pad = 56, width - 8, 30, 44
    y_zero, plot_h = top_pad + 6, height - bottom_pad - top_pad - 6
    magnitudes = [-v for v in [*(o for o in outcome if o is not None), *budget, annual_budget, forecast]]
    top, step = _nice_max(max([*magnitudes, 1.0]) / 1e6)
    group_w = (x1 - x0) / 12
    body = []
    v = 0.0
    while v <= top + step / 1000:
        y = y_zero + plot_h * v / top
        body.append(f"<line x1='{x0}' y1='{y:.1f}' x2='{x1}' y2='{y:.1f}' stroke='#dddddd' stroke-width='1'/>"
                    f"<text x='{x0 - 6}' y='{y + 4:.1f}' {FONT} font-size='11' text-anchor='end'>"
                    f"{escape(number(-v, 0 if step >= 1 else 1))}</text>")
        v += step
    body.append(f"<line x1='{x0}' y1='{y_zero}' x2='{x1}' y2='{y_zero}' stroke='#444444' stroke-width='1'/>")

    def y_of(sek: float) -> float:
        return y_zero + plot_h * (-sek / 1e6) / top

    label_y = y_zero + plot_h + 15
    for i, label in enumerate(months):
        body.append(f"<text x='{x0 + (i + 0.5) * group_w:.1f}' y='{label_y:.1f}' {FONT} font-size='11' "
                    f"text-anchor='middle'>{escape(label)}</text>")
    for i, v in enumerate(outcome):
        if v is None:
            continue
        x = x0 + i * group_w + group_w * 0.2
        body.append(f"<rect x='{x:.1f}' y='{y_zero:.1f}' width='{group_w * 0.6:.1f}' height='{y_of(v) - y_zero:.1f}' "
                    f"fill='{PALETTE[0]}'/>")
    # the budget pace: each month's accumulated budget at the month's end, Jan..Dec
    pts = " ".join(f"{x0 + (i + 1) * group_w:.1f},{y_of(b):.1f}" for i, b in enumerate(budget))
    body.append(f"<polyline points='{x0:.1f},{y_zero:.1f} {pts}' fill='none' stroke='{PALETTE[1]}' stroke-width='2.5'/>")
    known = [o for o in outcome if o is not None]
    if known:
        last = len(outcome)
        body.append(f"<line x1='{x0 + last * group_w:.1f}' y1='{y_of(known[-1]):.1f}' x2='{x0 + 12 * group_w:.1f}' "
                    f"y2='{y_of(forecast):.1f}' stroke='{PALETTE[4]}' stroke-width='2.5' stroke-dasharray='5,3'/>")
        body.append(f"<circle cx='{x0 + 12 * group_w:.1f}' cy='{y_of(forecast):.1f}' r='4' fill='{PALETTE[4]}'/>")
        body.append(f"<text x='{x0 + 12 * group_w - 6:.1f}' y='{y_of(forecast) + 16:.1f}' {FONT} font-size='11' "
                    f"text-anchor='end'>Årsprognos {escape(number(forecast / 1e6, 1))}</text>")
    body.append(_legend(x0, height - 8, [("Utfall ackumulerat", PALETTE[0], "bar"),
                                         ("Budget ackumulerad", PALETTE[1], "line"),
                                         ("Årsprognos", PALETTE[4], "dash")]))
    return _frame(width, height, title, "".join(body))
