"""shop/pagecache.py's memory: bounded in pages and bytes, dropped with the pages version."""

from shop.pagecache import Pages


def test_pages_beyond_the_byte_budget_drop_the_others():
    kept = Pages(max_bytes=100)
    assert kept.get(1, ("a",)) is None
    kept.put(1, ("a",), [b"x" * 60])
    assert kept.get(1, ("a",)) == [b"x" * 60]
    kept.put(1, ("b",), [b"y" * 30, "hole", b"z" * 30])  # 60 + 64 > 100: "a" goes
    assert kept.get(1, ("a",)) is None
    assert kept.get(1, ("b",)) == [b"y" * 30, "hole", b"z" * 30]
    assert kept.size == 64


def test_pages_beyond_the_count_budget_drop_the_others():
    kept = Pages(max_pages=2)
    for name in "abc":
        kept.put(1, (name,), [b"page"])
    assert kept.get(1, ("a",)) is None
    assert kept.get(1, ("c",)) == [b"page"]


def test_a_new_version_drops_every_page_and_a_render_of_the_old_one_is_not_kept():
    kept = Pages(max_bytes=1000)
    kept.get(1, ("a",))
    kept.put(1, ("a",), [b"page"])
    assert kept.get(2, ("a",)) is None  # a book changed
    kept.put(1, ("a",), [b"rendered from the old books"])
    assert kept.get(2, ("a",)) is None
    assert kept.size == 0


def test_a_render_of_a_newer_version_replaces_the_older_pages():
    kept = Pages()
    kept.get(1, ("a",))
    kept.put(1, ("a",), [b"old"])
    kept.put(2, ("b",), [b"new"])  # rendered after a change nobody here asked for yet
    assert kept.get(2, ("b",)) == [b"new"]
    assert kept.get(2, ("a",)) is None
