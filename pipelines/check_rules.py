r"""Rule debugging: which rules fire on a text, and why the others do not.

    python -m pipelines.check_rules \
        --text "North Korean state media announced Monday that Putin's visit is scheduled for June 18-19." \
        --published_at 2024-06-17
    python -m pipelines.check_rules --file sample_data/seeds/004_ca967a8cb344c277.txt [--rules my_rules.yaml] [--all]

For every sentence where a rule's trigger matched, it prints the rule, the trigger, and either
FIRED with the cues, status and actors, or the reason it did not fire (an exclusion, a missing
context cue, an unmet actor constraint, a background date). Then the alerts the article would get.
Exit codes: 0 ok, 2 bad arguments or an invalid rule pack.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from transforms.inputs import SIDECAR_SUFFIX, extension_of
from transforms.read import RawInput
from transforms.rules import RulePackError, load_rule_pack


def _article(args):
    from transforms.errors import InputRejected
    from transforms.language import LanguageDetector
    from transforms.parse import ParseConfig, build_article

    if args.text is not None:
        data, uri, ext = args.text.encode("utf-8"), "<text>", ".txt"
        sidecar = None
    else:
        path = Path(args.file)
        data, uri, ext = path.read_bytes(), str(path.resolve()), extension_of(str(path))
        side = Path(str(path) + SIDECAR_SUFFIX)
        sidecar = side.read_text(encoding="utf-8") if side.exists() else None
    if args.published_at:
        sidecar = json.dumps({**(json.loads(sidecar) if sidecar else {}), "published_at": args.published_at})
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    try:
        return build_article(
            RawInput(uri, data, ext, size=len(data), sidecar=sidecar), ParseConfig(ingested_at=now), LanguageDetector()
        )
    except InputRejected as err:
        raise SystemExit(f"check_rules: the input would be rejected at stage {err.stage.value}: {err.message}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", help="The article text (a sentence is enough).")
    source.add_argument("--file", help="An input file in any shape newsbeam reads.")
    parser.add_argument("--rules", help="A rule pack YAML file (default: the built-in pack).")
    parser.add_argument("--published_at", help="Publication date or time, to resolve 'next week' and 'June 18-19'.")
    parser.add_argument(
        "--all", action="store_true", help="Also list sentences where a trigger matched but the rule did not fire."
    )
    args = parser.parse_args(argv)
    try:
        pack = load_rule_pack(args.rules)
    except RulePackError as err:
        print(f"check_rules: {err}", file=sys.stderr)
        return 2

    from transforms.alerts import AlertEngine
    from transforms.entities import EntityTagger, TaggerConfig

    article = _article(args)
    tagger = EntityTagger(TaggerConfig())
    (tagged,) = tagger.tag_articles([article])
    engine = AlertEngine(pack, tagger.gazetteer)
    anchor = f"{article.published_at:%Y-%m-%d} ({article.published_at_source})"
    print(f"published_at: {anchor}; {len(tagged.mentions)} entity mentions; {len(pack.rules)} rules")
    for ev in engine.explain(article, tagged.mentions):
        if not (ev.fired or args.all):
            continue
        sentence = article.body[ev.sentence[0] : ev.sentence[1]]
        print(f"\n[{'FIRED' if ev.fired else 'no'}] {ev.rule_id}  trigger {ev.trigger!r}")
        print(f"    sentence: {sentence}")
        if ev.fired:
            print(f"    status: {ev.status}   cues: {', '.join(ev.cues)}")
            print(f"    actors: {', '.join(sorted({a.name for a in ev.actors})) or '-'}")
            if ev.date_text:
                print(
                    f"    dates: {ev.date_text!r} -> {ev.event_start} .. {ev.event_end}"
                    + (f"  ({ev.date_note})" if ev.date_note else "")
                )
        else:
            print(f"    why not: {ev.reason}")
    alerts = engine(article, tagged.mentions)
    print(f"\n{len(alerts)} alert(s):")
    for a in alerts:
        when = f"{a.event_start}..{a.event_end}" if a.event_start else (a.event_date_note or "no date")
        print(
            f"  {a.rule_id} [{a.status}, confidence {a.confidence}] {a.title} | where: {a.location_name or '-'} "
            f"| when: {when}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
