"""shop/shopperpages.py's memory: bounded in bytes, dropped with the pages version."""

from shop import shopperpages
from shop.shopperpages import _KeptPages


def test_pages_beyond_the_byte_budget_drop_the_others(monkeypatch):
    monkeypatch.setattr(shopperpages, "MAX_BYTES", 100)
    kept = _KeptPages()
    assert kept.get(1, ("a",)) is None
    kept.put(1, ("a",), [b"x" * 60])
    assert kept.get(1, ("a",)) == [b"x" * 60]
    kept.put(1, ("b",), [b"y" * 30, "hole", b"z" * 30])  # 60 + 64 > 100: "a" goes
    assert kept.get(1, ("a",)) is None
    assert kept.get(1, ("b",)) == [b"y" * 30, "hole", b"z" * 30]
    assert kept.size == 64


def test_a_new_version_drops_every_page_and_a_render_of_the_old_one_is_not_kept():
    kept = _KeptPages()
    kept.get(1, ("a",))
    kept.put(1, ("a",), [b"page"])
    assert kept.get(2, ("a",)) is None  # a book changed
    kept.put(1, ("a",), [b"rendered from the old books"])
    assert kept.get(2, ("a",)) is None
    assert kept.size == 0
