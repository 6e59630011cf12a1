"""Where a shopper follows a parcel: each carrier's public tracking page, by tracking number.

The URL is built here from the carrier staff pick, never typed by staff, so
every link in the admin (and later in the shipped email) points at the
carrier's own site. "Other" has no page: the tracking number is shown alone.
The built URL is stored on the order, so a carrier changing its address
later does not rewrite what was sent to shoppers.
"""

from urllib.parse import quote

from shop.orders.models import Carrier

TRACKING_URLS: dict[str, str] = {
    Carrier.USPS: "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    Carrier.UPS: "https://www.ups.com/track?tracknum={number}",
    Carrier.FEDEX: "https://www.fedex.com/fedextrack/?trknbr={number}",
    Carrier.DHL: "https://www.dhl.com/global-en/home/tracking/tracking-express.html?tracking-id={number}",
    Carrier.ROYAL_MAIL: "https://www.royalmail.com/track-your-item#/tracking-results/{number}",
    Carrier.CANADA_POST: "https://www.canadapost-postescanada.ca/track-reperage/en#/details/{number}",
}


def carrier_tracking_url(*, carrier: str, tracking_number: str) -> str:
    """The carrier's tracking page for `tracking_number`, or "" (Other, or no number)."""
    template = TRACKING_URLS.get(carrier)
    if template is None or not tracking_number:
        return ""
    return template.format(number=quote(tracking_number, safe=""))
