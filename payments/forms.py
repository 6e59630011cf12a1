from django import forms


class CreateIntentForm(forms.Form):
    """What the browser may send to start a payment: ids, never amounts."""

    book = forms.SlugField(max_length=200, error_messages={"required": "Choose a book to buy."})
    email = forms.EmailField(
        max_length=254,
        error_messages={
            "required": "Enter your email address so we can send your receipt.",
            "invalid": "Enter a valid email address, like you@example.com.",
        },
    )

    def first_error(self) -> str:
        for field in ("book", "email"):
            if field in self.errors:
                return self.errors[field][0]
        return "The request is not valid."
