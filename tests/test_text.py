import pytest

from transforms.errors import InputRejected, Reason
from transforms.text import clean_text, content_hash, decode_bytes, stable_id, word_count


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", Reason.EMPTY_FILE),
        (b"   \n\t\n", Reason.BLANK_FILE),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 binary", Reason.BINARY_FILE),
        (b"\x89PNG\r\n\x1a\n\x00\x00", Reason.BINARY_FILE),
        (b"abc\x00\x01\x02def" * 10, Reason.BINARY_FILE),
        (bytes(range(0x80, 0x100)) * 20, Reason.UNDECODABLE),
    ],
)
def test_undecodable_inputs_are_rejected(data, reason):
    with pytest.raises(InputRejected) as err:
        decode_bytes(data)
    assert err.value.reason is reason


def test_decodes_utf8_bom_utf16_and_a_confident_legacy_encoding():
    assert decode_bytes("café".encode("utf-8-sig")) == "café"
    assert decode_bytes("Zürich news".encode("utf-16")) == "Zürich news"
    latin1 = (
        "Le président a annoncé une réunion à Genève. "
        "Les négociations reprendront la semaine prochaine, a-t-il déclaré."
    ).encode("cp1252")
    assert "président" in decode_bytes(latin1)


def test_clean_text_normalizes_newlines_and_blank_runs():
    assert clean_text("a\r\nb\r\n\r\n\r\n\r\nc  \x07") == "a\nb\n\nc"


def test_content_hash_ignores_layout_but_not_words():
    assert content_hash("Kim met Putin.\n\nThen left.") == content_hash("Kim met  Putin. Then left.")
    assert content_hash("Kim met Putin.") != content_hash("Kim met Biden.")


def test_word_count_and_stable_ids():
    assert word_count("Kim Jong-un's visit, 2024.") == 4
    assert stable_id("art_", "x") == stable_id("art_", "x") != stable_id("art_", "y")
