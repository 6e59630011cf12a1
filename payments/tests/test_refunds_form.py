"""The admin's refund form (the amount conversion itself is tested in shop/tests/test_money.py)."""

from payments.forms import RefundForm


def test_the_form_labels_the_amount_with_the_currency_and_needs_a_reason():
    form = RefundForm({"amount": "500", "reason": "", "refund_count": "0"}, currency="jpy")

    assert not form.is_valid()
    assert form.fields["amount"].label == "Amount (JPY)"
    assert form.cleaned_data["amount"] == 500
    assert form.errors["reason"] == ["Say why this order is refunded."]
