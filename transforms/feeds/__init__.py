"""Feeds as a source (issue 27): parse RSS/Atom, fetch politely, remember what was seen, schedule polls.

Wired into the drivers through `steps.PollFeeds` (the Beam source) and `session.FeedSession` (the driver's side).
One concern a module:
- `dates`: feed item dates with their time zones (never a zone-less date read as UTC);
- `parse`: feed bytes to frozen `FeedItem`s, and feed lists (one URL a line, or OPML);
- `fetch`: one bounded HTTP request (timeouts, a wall-clock deadline, a size cap, redirects, conditional GET);
- `watchdog`: the deadline for the part of a request urllib3 cannot bound (status line and headers);
- `policy`: per-host politeness as pure functions over a serializable state (gap, concurrency, Retry-After);
- `robots`: robots.txt rules with protego, cached per host;
- `client`: the three above together for a local process (threads), as the tests and a local run use them;
- `state`: canonical URLs and the seen guid/URL store persisted in the output folder;
- `schedule`: when each feed is polled next;
- `items`: the feed item as the page's fallback (title, author, date where the page has less; summary);
- `steps`: `PollFeeds`, feeds to fetched pages, keyed by host in stateful DoFns;
- `session`: which feeds are due, and a committed poll's records, schedules and seen keys.
See docs/feeds.md for the decisions and how the drivers use them.
"""
