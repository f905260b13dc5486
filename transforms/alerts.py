"""AlertEngine: rules from a YAML pack fire on sentences, with evidence, actors, place, dates and status.

    AlertEngine(cached_rule_pack(path), gazetteer)(article, mentions)  ->  [Alert]

The pipeline runs it in transforms/analyze.py (AnalyzeArticles), after the tagger, one article at a time.

A rule fires on a sentence when (transforms.rules has the pack's schema):
1. one of its triggers matches, by lemma ("visit" matches "visited", "meet" matches "met");
2. none of its exclusions is in the sentence (another sense: an album "summit", a website "visit");
3. one of its required context cues is within its token window of the trigger, not negated;
4. the entities in the sentence meet its actor constraint (e.g. two distinct leaders or countries,
   one of them a leader: a gazetteer head of state or government, or a name after a leader title).

An article gets at most one alert per rule: from the sentence with the strongest status, then
one that dates the event, then the earliest. The status is the strongest non-negated status cue within
`status_window_tokens` of the trigger ("has not been officially confirmed" is no confirmation), `reported` when there is
none. Event dates are read from the evidence sentence and resolved against `published_at`; an article
whose publish time is only its ingestion time gets no dates and an `event_date_note` instead.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Iterable, NamedTuple, Optional

from schemas import Alert, AlertActor, Article, EntityMention
from transforms.actors import Actor, ActorFinder
from transforms.event_dates import dates_the_report, resolve_event_dates
from transforms.gazetteer import Gazetteer
from transforms.roles import RoleBook, load_role_book
from transforms.rules import CompiledLanguage, CompiledPack, CompiledRule, tokenize
from transforms.sentences import joint_subject, split_sentences
from transforms.text import stable_id

_YEAR = re.compile(r"\b(?:1[89]|2[01])\d\d\b|\b(?:this|next|last) year\b", re.I)
_NUMERIC_YEAR = re.compile(r"\b(?:1[89]|2[01])\d\d\b")
NEGATION_WINDOW = 3
MAX_ACTORS = 8
# A past event that ended this long before publication is background, not news. For a rule of any tense (an
# allegation, an agreement) the date may be the claim's, not the event's: only a year-old one is background.
BACKGROUND_AFTER = dt.timedelta(days=30)
BACKGROUND_AFTER_ANY = dt.timedelta(days=365)
# A date stands for a rule's cue (`date_is_cue`) only when it is this near: "not due until 1988" is no news.
DATE_CUE_HORIZON = dt.timedelta(days=183)
FUTURE_FRAME_TOKENS = 4  # the longest future frame ("is due to be")


def written_no_earlier_than(article: Article) -> int:
    """The latest year an undated article names, up to the year it was stored: it was written in or after it."""
    stored = article.published_at.year
    years = [int(y) for y in _NUMERIC_YEAR.findall(article.body) if int(y) <= stored]
    return max(years, default=0)


class _Sentence(NamedTuple):
    span: tuple[int, int]  # offsets into the body
    text: str
    tokens: list  # (word, start, end) within `text`
    words: list[str]
    lang: CompiledLanguage  # the rules, negations and status cues of the article's language


class _SentenceActors:
    """A sentence's actors (transforms/actors.py), computed on the first `get` and shared by the rules reading it."""

    def __init__(self, finder: ActorFinder, mentions, span: tuple[int, int], tokens, known, lang: CompiledLanguage):
        self._args = finder, mentions, span, tokens, known, lang.language
        self._actors: Optional[list[Actor]] = None

    def get(self) -> list[Actor]:
        if self._actors is None:
            finder, mentions, (start, end), tokens, known, language = self._args
            inside = [m for m in mentions if start <= m.start_char and m.end_char <= end]
            words = [t for t, _, _ in tokens]
            self._actors = finder(inside, words, tokens, start, known, language)
        return self._actors


@dataclasses.dataclass
class Evaluation:
    """What one rule made of one sentence; `fired` says whether it alerts, `reason` why not."""

    rule_id: str
    sentence: tuple[int, int]
    trigger: Optional[str] = None
    trigger_start: int = 0
    fired: bool = False
    reason: str = ""
    cues: list[str] = dataclasses.field(default_factory=list)
    status: str = "reported"
    rank: int = 0
    actors: list[Actor] = dataclasses.field(default_factory=list)
    event_start: Optional[dt.date] = None
    event_end: Optional[dt.date] = None
    date_text: Optional[str] = None
    date_note: Optional[str] = None


class AlertEngine:
    """``engine(article, mentions)`` -> alerts; ``engine.explain(article, mentions)`` -> every evaluation."""

    def __init__(self, pack: CompiledPack, gazetteer: Gazetteer, roles: Optional[RoleBook] = None):
        self.pack = pack
        self._gaz = gazetteer
        self._find_actors = ActorFinder(gazetteer, roles or load_role_book())
        self._rules = {c.rule.id: c for c in pack.rules}
        self._default = next((lv for lv, _ in pack.status if lv.rank == min(level.rank for level, _ in pack.status)))

    def __call__(self, article: Article, mentions: Iterable[EntityMention]) -> list[Alert]:
        best: dict[str, Evaluation] = {}
        for ev in self.explain(article, mentions):  # sentences in order: on a tie the earlier one stays
            if ev.fired and (ev.rule_id not in best or self._strength(ev) > self._strength(best[ev.rule_id])):
                best[ev.rule_id] = ev
        return [self._alert(article, self._rules[rid], ev) for rid, ev in sorted(best.items())]

    @staticmethod
    def _strength(ev: Evaluation) -> tuple[int, bool]:
        """Which sentence speaks for the article: the strongest status, then one that dates the event."""
        return ev.rank, ev.event_start is not None

    def explain(self, article: Article, mentions: Iterable[EntityMention]) -> list[Evaluation]:
        lang = self.pack.language(article.language)
        if lang is None:
            return []  # no rule has words in this language: an English rule never reads another language
        mentions = sorted(mentions, key=lambda m: m.start_char)
        sentences = split_sentences(article.body)
        known = None  # people's titles across the article, found once a rule's trigger is in some sentence
        out = []
        for start, end in sentences:
            text = article.body[start:end]
            tokens = tokenize(text)
            words = [t for t, _, _ in tokens]
            actors = None  # the sentence's actors, found once a rule gets that far (most sentences have no trigger)
            for compiled in lang.rules:
                triggers = compiled.triggers.find(words)
                if triggers:
                    if known is None:
                        known = self._find_actors.article_roles(article.body, sentences, mentions, lang.language)
                    if actors is None:  # one list for every rule that reads the sentence, made when first asked
                        actors = _SentenceActors(self._find_actors, mentions, (start, end), tokens, known, lang)
                    sentence = _Sentence((start, end), text, tokens, words, lang)
                    ev = self._evaluate(compiled, sentence, triggers, actors, article)
                    if ev.fired:
                        self._date(article, compiled, ev)
                    out.append(ev)
        return out

    def _date(self, article: Article, compiled: CompiledRule, ev: Evaluation) -> None:
        """Resolve the evidence sentence's event dates; a past event long before publication is background."""
        start, end = ev.sentence
        s, e, text = resolve_event_dates(
            article.body[start:end], article.published_at, compiled.rule.tense, anchor=ev.trigger_start
        )
        if text is None:
            return
        if article.published_at_source in ("modified", "ingested"):
            ev.date_text, ev.date_note = text, "no publish date for this article: relative dates were not resolved"
            # It was written no earlier than the latest year it names (and before it was stored): an event in an
            # earlier year ("in 1989" in an article that also names 2005) is background for a rule of past or any
            # tense; unless the sentence expects it ("a referendum, expected in 2006": written before then).
            if compiled.rule.tense != "future" and _NUMERIC_YEAR.search(text) and e is not None:
                if e.year < written_no_earlier_than(article) and not self.pack.levels[ev.status].prospective:
                    ev.fired = False
                    ev.reason = f"background: the event ({text}) is in a year before the latest the article names"
            return
        ev.event_start, ev.event_end, ev.date_text = s, e, text
        published, tense = article.published_at.date(), compiled.rule.tense
        background = {"past": BACKGROUND_AFTER, "any": BACKGROUND_AFTER_ANY}.get(tense)
        if background is not None and e is not None and e < (article.published_at - background).date():
            ev.fired = False
            ev.reason = f"background: the event ({text}) ended more than {background.days} days before publication"
        elif tense == "past" and s is not None and s > published:
            ev.fired = False
            ev.reason = f"not yet happened: the event ({text}) is dated after publication"
        elif tense == "future" and e is not None and e < published:
            ev.fired = False
            ev.reason = f"a past event: it ({text}) is dated before publication"
        elif e is not None and e < published and self.pack.levels[ev.status].prospective:
            ev.status, ev.rank = self._default.status, self._default.rank  # never "expected" for a past date

    # --- one rule, one sentence ---------------------------------------------------------------

    def _evaluate(
        self, compiled: CompiledRule, sentence: _Sentence, triggers, sentence_actors: "_SentenceActors", article
    ) -> Evaluation:
        rule = compiled.rule
        span, text, tokens, words, lang = sentence
        t_first, t_end, trigger = triggers[0]
        ev = Evaluation(
            rule.id, span, trigger=text[tokens[t_first][1] : tokens[t_end - 1][2]], trigger_start=tokens[t_first][1]
        )
        excluded = compiled.exclude.find(words)
        near = compiled.exclude_near.find(words) if compiled.exclude_near else []
        if compiled.exclude_near_present:  # "is travelling to" is under way, "will be travelling to" is planned
            near += [x for x in compiled.exclude_near_present.find(words) if not self._future_framed(lang, words, x[0])]
        if near:  # "talks with Lawson …, not with creditor banks": only the triggers with no such word near them count
            reach = rule.exclude_window_tokens
            triggers = [t for t in triggers if not any(t[0] - reach <= x[1] and x[0] <= t[1] + reach for x in near)]
        if rule.tense == "future" and triggers:  # "met his EU counterparts on Monday" is no planned meeting
            planned = [t for t in triggers if words[t[1] - 1] not in compiled.past_forms]
            if not planned:
                ev.reason = f"the trigger {triggers[0][2]!r} is in the past tense"
                return ev
            triggers = planned
        undated = compiled.exclude_undated.find(words) if compiled.exclude_undated else []
        if undated and not excluded and triggers and self._date_cue(article, rule, sentence, triggers) is None:
            excluded = undated  # "the next election" with no date; "the next election, expected on 5 May" stays
        if excluded or not triggers:
            ev.reason = f"excluded by {(excluded or near)[0][2]!r} (another sense of the trigger)"
            return ev
        t_first, t_end, trigger = triggers[0]
        ev.trigger, ev.trigger_start = text[tokens[t_first][1] : tokens[t_end - 1][2]], tokens[t_first][1]
        ev.cues.append(f"trigger:{trigger}")
        if compiled.require:
            found = None
            for t_first, t_end, trigger in triggers:
                lo, hi = (
                    (0, len(words))
                    if rule.window_tokens is None
                    else (max(0, t_first - rule.window_tokens), min(len(words), t_end + rule.window_tokens))
                )
                cues = [
                    c
                    for c in compiled.require.find(words, lo, hi)  # a cue may hold the trigger ("is visiting")
                    if not (t_first <= c[0] and c[1] <= t_end) and not self._negated(lang, words, c[0])
                ]
                if (
                    trigger in compiled.cue_triggers
                    and joint_subject(words, t_first)
                    and not self._negated(lang, words, t_first)  # "X and Y have not agreed to"
                ):
                    cues.insert(0, (t_first, t_end, f"the trigger {trigger!r} states it, of a joint subject"))
                if rule.tense == "past" and words[t_end - 1] in compiled.past_forms:
                    cues.insert(0, (t_first, t_end, f"past tense {words[t_end - 1]!r}"))
                if cues:
                    found = cues[0]
                    ev.trigger, ev.trigger_start = text[tokens[t_first][1] : tokens[t_end - 1][2]], tokens[t_first][1]
                    break
            if found is None and rule.date_is_cue:
                found = self._date_cue(article, rule, sentence, triggers)
            if found is None:
                window = "sentence" if rule.window_tokens is None else f"{rule.window_tokens} tokens"
                ev.reason = f"no required context cue within {window} of the trigger"
                return ev
            ev.cues.append(f"context:{found[2]}")
        actors = sentence_actors.get()
        kinds = rule.actors
        # Distinct parties: an official and the country whose official they are are one ("Britain's prime minister
        # signed for Britain").
        matching = {a.role_country or a.entity_id for a in actors if a.kinds & set(kinds.kinds)}
        several = any(a.many for a in actors if a.kinds & set(kinds.kinds))  # "ministers meet": parties of their own
        if len(matching) + several < kinds.min_distinct or (
            kinds.require_kind and not any(a.kinds & set(kinds.require_kind) for a in actors)
        ):
            need = f"{kinds.min_distinct} distinct {'/'.join(kinds.kinds)}" + (
                f" including a {' or '.join(kinds.require_kind)}" if kinds.require_kind else ""
            )
            have = ", ".join(sorted(f"{a.name} ({'/'.join(sorted(a.kinds))})" for a in actors)) or "none"
            ev.reason = f"actor constraint not met: needs {need}; sentence has {have}"
            return ev
        ev.actors = actors
        t_index = next(i for i, (_, s, _) in enumerate(tokens) if s == ev.trigger_start)
        ev.status, ev.rank, status_cue = self._status(lang, words, t_index)
        if status_cue:
            ev.cues.append(f"status:{status_cue}")
        if ev.status in rule.not_status:  # "campaigners have called off a demonstration": none takes place
            ev.reason = f"status {ev.status!r} ({status_cue!r}): the event does not take place"
            return ev
        ev.fired = True
        ev.reason = "fired"
        return ev

    def _date_cue(self, article: Article, rule, sentence: _Sentence, triggers) -> Optional[tuple]:
        """A date near a trigger as the rule's cue ("elections next Sunday"), unless it dates background."""
        _, text, tokens, words, lang = sentence
        for t_first, t_end, _ in triggers:
            s, e, date_text = resolve_event_dates(text, article.published_at, rule.tense, anchor=tokens[t_first][1])
            at = text.find(date_text) if date_text else -1
            if at < 0 or dates_the_report(text, at):
                continue
            near = [k for k, (_, start, _) in enumerate(tokens) if start >= at]
            k = near[0] if near else len(tokens)
            window = rule.window_tokens or len(tokens)
            published = article.published_at.date()
            if rule.tense == "any" and article.published_at_source in ("modified", "ingested"):  # written when?
                # A date with no year ("in May", "on 5 May") names the nearest such day: near, whenever it was written.
                near_in_time = not _YEAR.search(date_text)
            elif rule.tense == "future":  # a plan's date is ahead: after the day of publication
                near_in_time = s is not None and published < s <= published + DATE_CUE_HORIZON
            else:
                near_in_time = (e is None or e >= published - BACKGROUND_AFTER) and (
                    s is None or s <= published + DATE_CUE_HORIZON
                )
            if (t_first - window <= k <= t_end + window) and near_in_time and not self._negated(lang, words, k):
                return (k, k + 1, f"date {date_text!r}")
        return None

    @staticmethod
    def _future_framed(lang: CompiledLanguage, words: list[str], at: int) -> bool:
        """A future frame ("will be", "to be") ends right before words[at]."""
        return any(end == at for _, end, _ in lang.future_frames.find(words, max(0, at - FUTURE_FRAME_TOKENS), at))

    @staticmethod
    def _negated(lang: CompiledLanguage, words: list[str], at: int) -> bool:
        return bool(lang.negations.find(words, max(0, at - NEGATION_WINDOW), at))

    def _status(self, lang: CompiledLanguage, words: list[str], trigger: int) -> tuple[str, int, Optional[str]]:
        """The strongest non-negated status cue near the trigger; the pack's weakest level when there is none."""
        best = (self._default.status, self._default.rank, None)
        window = self.pack.pack.status_window_tokens
        lo, hi = max(0, trigger - window), min(len(words), trigger + window + 1)
        for level, phrases in lang.status:
            for first, _, phrase in phrases.find(words, lo, hi):
                if not self._negated(lang, words, first) and level.rank > best[1]:
                    best = (level.status, level.rank, phrase)
        return best

    # --- the alert record ---------------------------------------------------------------------

    def _alert(self, article: Article, compiled: CompiledRule, ev: Evaluation) -> Alert:
        rule = compiled.rule
        start, end = ev.sentence
        sentence = article.body[start:end]
        actors = self._actor_list(article, ev.actors)
        location = self._location(article, sentence, start, [a.mention for a in ev.actors if a.mention])
        names = ", ".join(a.name for a in actors[:3])
        return Alert(
            alert_id=stable_id("alr_", rule.id, article.article_id),
            rule_id=rule.id,
            title=f"{rule.title}: {names}" if names else rule.title,
            severity=rule.severity,
            status=ev.status,
            article_id=article.article_id,
            actors=actors,
            location=location[0] if location else None,
            location_name=location[1] if location else None,
            event_start=ev.event_start,
            event_end=ev.event_end,
            event_date_text=ev.date_text,
            event_date_note=ev.date_note,
            evidence_text=sentence,
            evidence_start=start,
            evidence_end=end,
            cues=ev.cues,
            cameo_code=rule.cameo[0],
            plover_type=rule.plover,
            confidence=self._confidence(
                ev, self.pack.levels[ev.status].confidence, ev.event_start is not None, len(actors)
            ),
            published_at=article.published_at,
            source=article.source,
            url=article.url,
        )

    def _actor_list(self, article: Article, sentence_actors: list[Actor]) -> list[AlertActor]:
        """The sentence's people, officials by title, countries, organizations and governments, then the article's
        leading people."""
        seen, actors = set(), []

        def add(entity_id, name, kind, role=None, role_country=None):
            if entity_id not in seen and len(actors) < MAX_ACTORS:
                seen.add(entity_id)
                actors.append(
                    AlertActor(entity_id=entity_id, name=name, type=kind, role=role, role_country=role_country)
                )

        for a in sentence_actors:
            if a.type in ("PERSON", "ORG") or a.kinds & {"country", "government", "armed_group"}:
                add(a.entity_id, a.name, "GPE" if "country" in a.kinds else a.type, a.role, a.role_country)
        for e in article.entities:
            if e.type == "PERSON" and e.mentions >= 2:
                add(e.entity_id, e.name, e.type)
        return actors

    def _location(self, article: Article, sentence: str, offset: int, mentions: list[EntityMention]):
        places = [m for m in mentions if m.type in ("GPE", "LOC", "FAC")]
        for m in places:
            before = sentence[max(0, m.start_char - offset - 6) : m.start_char - offset].lower()
            if re.search(r"\b(to|in|at|near|off|visit|visits|visiting)\s+$", before):
                return m.entity_id, m.canonical_name
        if places:
            return places[0].entity_id, places[0].canonical_name
        demonyms = [m for m in mentions if m.type == "NORP" and m.entity_id in self._gaz.country_ids]
        if demonyms:
            return demonyms[0].entity_id, demonyms[0].canonical_name
        top = next((e for e in article.entities if e.type == "GPE"), None)
        return (top.entity_id, top.name) if top else None

    @staticmethod
    def _confidence(ev: Evaluation, status_term: float, dated: bool, actor_count: int) -> float:
        """A documented score, not a probability: more evidence, a firmer status (its level's `confidence` in the rule
        pack) and a resolved date raise it."""
        score = (
            0.45 + 0.05 * (len(ev.cues) - 1) + status_term + (0.1 if dated else 0) + (0.05 if actor_count >= 2 else 0)
        )
        return round(min(0.99, max(0.05, score)), 2)
