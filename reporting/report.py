"""The analyst's report: one self-contained HTML page built from a run's Parquet tables.

    python -m pipelines.report --output output            # writes output/report.html

What the page holds, each part read through the SQL kit's views (`sql/newsbeam.sql`):
- an alert timeline: every per-article alert at its event date (the published date when the
  text gives none), one row per rule, coloured by status (Plotly, embedded: no CDN);
- the current story alerts as a table that sorts by any column and filters by rule, status or text;
- the top entities over time, from the `entity_counts` view;
- for each alert, its evidence sentence marked inside the article text by its offsets, with the
  entity mentions marked by type and canonical id.

The page is a function of the tables alone: no clock and no absolute paths, so the same output
gives the same bytes.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Optional

import jinja2
import plotly.graph_objects as go
from markupsafe import Markup, escape
from plotly.offline import get_plotlyjs

from reporting.kit import connect, one, records
from transforms.rules import load_rule_pack
from transforms.urls import safe_url

TEMPLATES = Path(__file__).resolve().parent / "templates"
ENTITY_TYPES = ("PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "PRODUCT", "EVENT")
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


@dataclasses.dataclass(frozen=True)
class ReportConfig:
    max_alerts: int = 200  # evidence cards; the most recent alerts first beyond that
    rules_path: Optional[str] = None  # the rule pack whose status levels (order, colours) the page shows; default pack
    top_entities: int = 8


def _fmt_time(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


def _fmt_dates(start, end) -> str:
    if start is None:
        return ""
    return start.isoformat() if end is None or end == start else f"{start.isoformat()} – {end.isoformat()}"


# --- charts --------------------------------------------------------------------------------


def status_colors(rules_path: Optional[str] = None) -> dict[str, str]:
    """Each status level of the rule pack and its colour, weakest first (the pack's rank order)."""
    levels = sorted(load_rule_pack(rules_path).levels.values(), key=lambda level: level.rank)
    return {level.status: level.color for level in levels}


def alert_timeline(con, colors: dict[str, str]) -> go.Figure:
    rows = records(
        con,
        """
        SELECT rule_id, status, coalesce(event_start, CAST(published_at AS DATE)) AS at_day,
               event_start IS NOT NULL AS dated, title, coalesce(source, '?') AS source, alert_id
        FROM alerts ORDER BY at_day, rule_id, alert_id""",
    )
    fig = go.Figure()
    for status in sorted(
        {r["status"] for r in rows}, key=lambda s: list(colors).index(s) if s in colors else len(colors)
    ):
        pts = [r for r in rows if r["status"] == status]
        fig.add_trace(
            go.Scatter(
                x=[r["at_day"].isoformat() for r in pts],
                y=[r["rule_id"] for r in pts],
                mode="markers",
                name=status,
                marker={
                    "size": 12,
                    "color": colors.get(status, "#999"),
                    "symbol": ["circle" if r["dated"] else "circle-open" for r in pts],
                    "line": {"width": 2, "color": colors.get(status, "#999")},
                },
                text=[
                    f"{r['title']}<br>{r['source']}" + ("" if r["dated"] else "<br>(no event date: published date)")
                    for r in pts
                ],
                hovertemplate="%{x}<br>%{text}<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(
        height=max(260, 60 + 34 * len({r["rule_id"] for r in rows})),
        margin={"l": 10, "r": 10, "t": 10, "b": 30},
        legend={"title": {"text": "status"}, "orientation": "h", "y": -0.15},
        xaxis={"title": None, "type": "date"},
        yaxis={"title": None, "categoryorder": "category descending"},
        template="plotly_white",
    )
    return fig


def top_entities_chart(con, n: int) -> go.Figure:
    rows = records(
        con,
        """
        WITH top AS (
            SELECT entity_id FROM entity_counts GROUP BY entity_id
            ORDER BY sum(mentions) DESC, entity_id LIMIT ?
        )
        SELECT CAST(window_start AS DATE) AS day, c.entity_id, any_value(c.name ORDER BY c.name) AS name,
               sum(c.mentions) AS mentions
        FROM entity_counts AS c JOIN top USING (entity_id)
        GROUP BY ALL ORDER BY c.entity_id, day""",
        [n],
    )
    fig = go.Figure()
    names = {}
    for r in rows:
        names.setdefault(r["entity_id"], r["name"])
    for entity_id, name in names.items():
        pts = [r for r in rows if r["entity_id"] == entity_id]
        fig.add_trace(
            go.Bar(
                x=[r["day"].isoformat() for r in pts],
                y=[int(r["mentions"]) for r in pts],
                name=name,
                hovertemplate=f"{name} ({entity_id})<br>%{{x}}: %{{y}} mentions<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="stack",
        height=320,
        margin={"l": 10, "r": 10, "t": 10, "b": 30},
        template="plotly_white",
        xaxis={"type": "date", "title": None},
        yaxis={"title": "mentions"},
        legend={"orientation": "h", "y": -0.15},
    )
    return fig


def _chart_html(fig: go.Figure, div_id: str) -> Markup:
    return Markup(fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=PLOTLY_CONFIG))


# --- evidence ------------------------------------------------------------------------------


def mark_text(body: str, evidence: tuple[int, int] | None, mentions: list[dict]) -> Markup:
    """The body as HTML, the evidence span in <mark> and each entity mention in a typed <span>.

    Offsets are Python string offsets into `body` (as the tables store them). Mentions never
    overlap one another; a mention that straddles an evidence edge is cut at the edge.
    """
    cuts = {0, len(body)}
    if evidence:
        cuts.update(evidence)
    for m in mentions:
        cuts.update((m["start_char"], m["end_char"]))
    bounds = sorted(c for c in cuts if 0 <= c <= len(body))
    by_start = {m["start_char"]: m for m in mentions}
    out, open_mention = [], None
    for a, b in zip(bounds, bounds[1:]):
        if open_mention is not None and a >= open_mention["end_char"]:
            open_mention = None
        if a in by_start:
            open_mention = by_start[a]
        piece = escape(body[a:b])
        if open_mention is not None:
            m = open_mention
            piece = Markup('<span class="ent ent-{t}" data-entity="{i}" title="{n} · {t} · {i}">{p}</span>').format(
                t=m["type"] if m["type"] in ENTITY_TYPES else "OTHER", i=m["entity_id"], n=m["canonical_name"], p=piece
            )
        if evidence and evidence[0] <= a and b <= evidence[1]:
            piece = Markup('<mark class="evidence">{}</mark>').format(piece)
        out.append(piece)
    return Markup("").join(out)


def evidence_cards(con, limit: int) -> list[dict]:
    alerts = records(
        con,
        """
        SELECT a.alert_id, a.rule_id, a.title, a.status, a.severity, a.article_id, a.story_id,
               a.evidence_start, a.evidence_end, a.event_start, a.event_end, a.published_at, a.cues,
               list_sort(list_transform(a.actors, lambda x: x.name)) AS actors, a.location_name,
               r.title AS article_title, r.source, r.url, r.body, r.input_uri
        FROM alerts AS a JOIN articles AS r USING (article_id)
        ORDER BY a.published_at DESC, a.rule_id, a.alert_id
        LIMIT ?""",
        [limit],
    )
    ids = sorted({a["article_id"] for a in alerts})
    mentions: dict[str, list[dict]] = {i: [] for i in ids}
    if ids:
        for m in records(
            con,
            """
                SELECT article_id, entity_id, canonical_name, type, start_char, end_char FROM entity_mentions
                WHERE list_contains(?, article_id) ORDER BY article_id, start_char""",
            [ids],
        ):
            mentions[m["article_id"]].append(m)
    cards = []
    for a in alerts:
        span = (a["evidence_start"], a["evidence_end"]) if a["evidence_start"] is not None else None
        cards.append(
            {
                **{
                    k: a[k]
                    for k in (
                        "alert_id",
                        "rule_id",
                        "title",
                        "status",
                        "severity",
                        "article_id",
                        "story_id",
                        "source",
                        "url",
                        "location_name",
                        "actors",
                        "cues",
                    )
                },
                "article_title": a["article_title"] or f"(untitled) {a['input_uri'].rsplit('/', 1)[-1]}",
                "published": _fmt_time(a["published_at"]),
                "event": _fmt_dates(a["event_start"], a["event_end"]),
                "html": mark_text(a["body"], span, mentions[a["article_id"]]),
            }
        )
    return cards


# --- the page ------------------------------------------------------------------------------


def story_alert_rows(con) -> list[dict]:
    rows = records(
        con,
        """
        SELECT s.story_alert_id, s.rule_id, coalesce(s.story_title, s.title) AS story_title, s.title, s.status,
               s.story_languages,
               s.version, s.first_seen, s.last_updated, s.source_count, s.article_count, s.story_id, s.event_start,
               s.event_end, list_sort(list_transform(s.actors, lambda x: x.name)) AS actors, s.location_name,
               s.evidence_text, a.alert_id AS evidence_alert_id
        FROM current_story_alerts AS s
        LEFT JOIN alerts AS a ON a.article_id = s.evidence_article_id AND a.rule_id = s.rule_id
        ORDER BY s.last_updated DESC, s.rule_id, s.story_alert_id""",
    )
    for r in rows:
        r["first_seen_text"], r["last_updated_text"] = _fmt_time(r["first_seen"]), _fmt_time(r["last_updated"])
        r["event_text"] = _fmt_dates(r["event_start"], r["event_end"])
        r["event_sort"] = r["event_start"].isoformat() if r["event_start"] else ""
    return rows


def summary(con, output: Path) -> dict:
    manifest = json.loads((output / "_manifest.json").read_text(encoding="utf-8"))
    counts = one(
        con,
        """
        SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM duplicates), (SELECT count(*) FROM rejected),
               (SELECT count(*) FROM alerts), (SELECT count(*) FROM current_stories),
               (SELECT count(*) FROM current_story_alerts),
               (SELECT min(published_at) FROM articles), (SELECT max(published_at) FROM articles)""",
    )
    keys = ("articles", "duplicates", "rejected", "alerts", "stories", "story_alerts")
    return {
        **dict(zip(keys, counts[:6])),
        "from": _fmt_time(counts[6]),
        "to": _fmt_time(counts[7]),
        "batch_id": manifest.get("batch_id", ""),
    }


def build_report(output: str | Path, config: ReportConfig = ReportConfig()) -> str:
    """The report page for `output` (a folder the pipeline wrote), as an HTML string."""
    output = Path(output)
    con = connect(output)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Every href made from data goes through this filter: an http(s) url, or None and no link (never javascript:).
    env.filters["web_href"] = safe_url
    story_alerts = story_alert_rows(con)
    colors = status_colors(config.rules_path)
    return env.get_template("report.html.j2").render(
        summary=summary(con, output),
        plotly_js=Markup(get_plotlyjs()),
        timeline=_chart_html(alert_timeline(con, colors), "alert-timeline"),
        entities_chart=_chart_html(top_entities_chart(con, config.top_entities), "top-entities"),
        story_alerts=story_alerts,
        rules=sorted({r["rule_id"] for r in story_alerts}),
        statuses=[s for s in colors if any(r["status"] == s for r in story_alerts)],
        cards=evidence_cards(con, config.max_alerts),
        max_alerts=config.max_alerts,
        status_colors=colors,
    )
