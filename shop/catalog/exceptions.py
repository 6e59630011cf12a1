from shop.catalog.models import Book


class OutOfStock(Exception):
    """Fewer copies of `book` are on hand than were asked for; `available` is how many are."""

    def __init__(self, book: Book, available: int):
        self.book = book
        self.available = available
        super().__init__(self.message)

    @property
    def message(self) -> str:
        if self.available <= 0:
            return f"“{self.book.title}” is sold out."
        copies = "copy" if self.available == 1 else "copies"
        return f"Only {self.available} {copies} of “{self.book.title}” left."


class CatalogNotEmpty(Exception):
    """The demo books were asked for, but the catalog has books: loading them would overwrite live ones."""

    def __init__(self, count: int):
        self.count = count
        super().__init__(self.message)

    @property
    def message(self) -> str:
        books = "book" if self.count == 1 else "books"
        return (
            f"The catalog already has {self.count} {books}: the demo books load only into an empty "
            "catalog, so live titles, prices and stock are never overwritten. Nothing was loaded."
        )
