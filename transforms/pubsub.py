"""Messages as inputs: a Pub/Sub-shaped message becomes the same RawInput a file does, and takes the same path."""

from __future__ import annotations

import datetime as dt
import json
from typing import Optional

from transforms.read import RawInput


def raw_from_message(
    data: bytes,
    attributes: Optional[dict] = None,
    message_id: str = "",
    subscription: str = "",
    publish_time: Optional[dt.datetime] = None,
) -> RawInput:
    """A Pub/Sub-shaped message as a RawInput, so a message takes the same parse path as a file.

    `data` is one article in any shape newsbeam reads; the `format` attribute names it (json, txt,
    md, html; default json). The other attributes (published_at, source, url, title, byline,
    language) act as the file's .meta.json sidecar would. The message's publish time stands in
    for a file's modification time: a weak date, used only when the article has none.
    """
    attributes = dict(attributes or {})
    fmt = str(attributes.pop("format", "json")).lstrip(".").lower()
    uri = f"pubsub://{subscription or 'subscription'}/{message_id or 'message'}"
    sidecar = json.dumps(attributes, sort_keys=True) if attributes else None
    return RawInput(uri, data, f".{fmt}", size=len(data), sidecar=sidecar, modified_at=publish_time)
