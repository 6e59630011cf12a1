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
