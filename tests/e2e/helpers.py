"""What the browser tests do, step by step: a shopper's moves and the checks around them."""

import datetime
import json
import re
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STANDIN_JS = ROOT / "static_dev" / "js" / "stripe-standin.js"
TEST_OUTPUT = ROOT / "test-output"
STRIPE_JS_URL = "https://js.stripe.com/v3/"
VIEWPORT = {"width": 1200, "height": 900}

CARD_SUCCEEDS = "4242 4242 4242 4242"
CARD_DECLINED = "4000 0000 0000 0341"
CARD_NEEDS_3DS = "4000 0027 6000 3184"
EXPIRY = f"12 / {(datetime.date.today().year + 3) % 100:02d}"
SUCCESS_URL = re.compile(r"/payments/success/\?")
CREATE_INTENT_PATH = "/payments/create-intent/"
WEBHOOK_DELAY = 1.5  # seconds: localstripe waits 1 s before sending an event, plus delivery


def new_context(browser, base_url: str, *, api_base: str | None = None):
    """A browser context that loads the Stripe.js stand-in and records what the page requests.

    The stand-in talks to `api_base`, by default the emulator the app uses.
    """
    from django.conf import settings

    context = browser.new_context(base_url=base_url, viewport=VIEWPORT)
    api_base = settings.STRIPE_API_BASE if api_base is None else api_base
    standin = f"window.STRIPE_STANDIN_API_BASE = {json.dumps(api_base)};\n"
    standin += STANDIN_JS.read_text()
    context.route(
        STRIPE_JS_URL,
        lambda route: route.fulfill(status=200, content_type="application/javascript", body=standin),
    )
    context.requests = []
    context.last_emulator_call = None

    def record(request) -> None:
        context.requests.append(request)
        if request.url.startswith(api_base):
            context.last_emulator_call = time.monotonic()

    context.on("request", record)
    return context


def wait_for_pending_webhooks(context) -> None:
    """Let the emulator deliver the events of this test's payments before the next test.

    localstripe sends an event a second after the payment; arriving while the
    next test sets up its database, it would race with it.
    """
    if context.last_emulator_call is not None:
        time.sleep(max(0.0, context.last_emulator_call + WEBHOOK_DELAY - time.monotonic()))


def requests_to(context, fragment: str) -> list:
    return [request for request in context.requests if fragment in request.url]


def key_screen(page, name: str) -> None:
    """Remember what the shopper saw at this step; saved under test-output/ if the test fails."""
    page.key_screens.append((name, page.screenshot()))


def wait_until(page, predicate, *, timeout: float = 10, message: str = "condition"):
    """Poll `predicate` (e.g. a database read) while the browser keeps running."""
    from django.db import OperationalError

    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except OperationalError as exc:
            # On SQLite the live server shares the test's in-memory database:
            # a read that meets its webhook's open write transaction is refused
            # at once ("database table is locked") instead of waiting. Ask again.
            if "locked" not in str(exc):
                raise
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        page.wait_for_timeout(200)  # not time.sleep: Playwright must keep handling events


def assert_no_csp_violations(page) -> None:
    """Nothing the page ran (checkout.js, the stand-in, its 3-D Secure dialog) broke the CSP."""
    violations = [text for text in page.console_errors if "Content Security Policy" in text]
    assert violations == []


def open_checkout_from_catalog(page, title: str) -> None:
    page.goto("/")
    page.get_by_role("link", name=f"Buy {title}").click()
    page.wait_for_url(re.compile(r"/checkout/[\w-]+/$"))
    page.locator("#standin-card-number").wait_for()  # the payment element is mounted


def add_to_cart(page, slug: str, quantity: int) -> None:
    """From the book's page: the quantity, then Add to cart (a plain form post)."""
    page.goto(f"/books/{slug}/")
    page.get_by_label("Quantity").fill(str(quantity))
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_load_state()


def open_cart_checkout(page) -> None:
    page.goto("/cart/")
    page.locator("#checkout-button").click()
    page.wait_for_url(re.compile(r"/checkout/$"))
    page.locator("#standin-card-number").wait_for()


def fill_checkout(page, *, email: str = "reader@example.com", card: str = CARD_SUCCEEDS) -> None:
    page.get_by_label("Email").fill(email)
    fill_address(page)
    fill_card(page, card)


def fill_address(page, *, name: str = "Ada Lovelace", country: str = "GB") -> None:
    """The shipping address, in the stand-in's address element."""
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Country or region").select_option(country)
    page.get_by_label("Address line 1").fill("12 St James's Square")
    page.get_by_label("City").fill("London")
    page.get_by_label("Postal code").fill("SW1Y 4JH")


def fill_card(page, card: str, *, expiry: str = EXPIRY, cvc: str = "123") -> None:
    page.get_by_label("Card number", exact=True).fill(card)
    page.get_by_label("Expiry (MM / YY)").fill(expiry)
    page.get_by_label("CVC", exact=True).fill(cvc)


def pay(page) -> None:
    page.locator("#pay-button").click()


def wait_for_success_page(page) -> dict:
    """The success page's order number, PaymentIntent id and amount."""
    page.wait_for_url(SUCCESS_URL)
    result = page.locator("#payment-result")
    outcome = result.get_attribute("data-outcome")
    assert outcome == "succeeded", f"the success page says {outcome!r}"
    key_screen(page, "success")
    return {
        "number": page.locator("#order-number").inner_text().strip(),
        "payment_intent": page.locator("#payment-intent-id").inner_text().strip(),
        "amount": page.locator("#amount-charged").inner_text().strip(),
    }


def payment_message(page) -> str:
    """The checkout's error area, once it shows something."""
    message = page.locator("#payment-message")
    message.wait_for(state="visible")
    return message.inner_text().strip()


def wait_for_paid_by_webhook(page, number: str):
    """The order once it is paid and the emulator's payment_intent.succeeded webhook was processed."""
    from payments.models import WebhookEvent
    from shop.orders.models import Order

    def paid():
        order = Order.objects.get(number=number)
        delivered = WebhookEvent.objects.filter(
            order=order, type="payment_intent.succeeded", outcome="processed"
        ).exists()
        return order if delivered and order.status == "paid" else None

    return wait_until(page, paid, message=f"order {number} paid with its succeeded webhook processed")


def emulator_payment_intents(emulator_url: str, *, order_number: str) -> list[dict]:
    """Every PaymentIntent the emulator holds for this order (by its metadata)."""
    from django.conf import settings

    found, starting_after = [], None
    while True:
        query = "limit=100" + (f"&starting_after={starting_after}" if starting_after else "")
        request = urllib.request.Request(
            f"{emulator_url}/v1/payment_intents?{query}",
            headers={"Authorization": f"Bearer {settings.STRIPE_SECRET_KEY}"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            page = json.load(response)
        found += [pi for pi in page["data"] if pi["metadata"].get("order_number") == order_number]
        if not page.get("has_more") or not page["data"]:
            return found
        starting_after = page["data"][-1]["id"]
