// Checkout page: Stripe's Address and Payment Elements with deferred intent creation.
//
// On Pay: check the email, elements.submit(), read the address
// (addressElement.getValue()), ask the shop for a PaymentIntent (POST
// config.createIntentUrl), then stripe.confirmPayment(), which sends the
// shopper to config.returnUrl. The server prices the order; this script sends
// the book's slug (or nothing: the cart), the email, the address, the discount
// code applied and the total the shopper saw. If the server's total differs
// (409 with `total`), the page shows the new total and asks again. A discount
// code is priced by the server (POST config.discountUrl) before it shows. Uses nothing of Stripe.js beyond
// Stripe(), elements(), elements.update(), create("payment"|"address"),
// mount(), on("change"), getValue(), submit() and confirmPayment(), so the
// offline stand-in can implement the same subset.
"use strict";

(() => {
  const MESSAGES = {
    emailMissing: "Enter your email address so we can send your receipt.",
    emailInvalid: "Enter a valid email address, like you@example.com.",
    unreachable: "We could not reach the shop. Check your connection and try again.",
    generic: "Something went wrong while starting your payment. Please try again.",
    stripeMissing: "The payment form could not load. Check your connection and reload the page.",
    addressMissing: "Enter the address to ship your books to.",
  };

  const form = document.getElementById("payment-form");
  const configNode = document.getElementById("checkout-config");
  if (!form || !configNode) {
    return; // payments not configured: the page explains why
  }

  const config = JSON.parse(configNode.textContent);
  const emailInput = form.querySelector("#email");
  const payButton = form.querySelector("#pay-button");
  const messageBox = document.getElementById("payment-message");
  const cartLink = document.getElementById("cart-link");
  let payLabel = payButton.textContent;
  let expectedTotal = config.expectedTotal;
  let voucherCode = config.voucherCode || "";
  let busy = false;
  let messageAbout = null; // "email" | "payment" | null: what the visible message refers to

  function showMessage(text, about) {
    messageBox.textContent = text;
    messageBox.hidden = false;
    messageAbout = about;
  }

  function clearMessage() {
    messageBox.textContent = "";
    messageBox.hidden = true;
    messageAbout = null;
  }

  function setBusy(on) {
    busy = on;
    payButton.disabled = on;
    payButton.textContent = on ? "Processing…" : payLabel;
    emailInput.readOnly = on;
    for (const node of [form, payButton]) {
      if (on) {
        node.setAttribute("aria-busy", "true");
      } else {
        node.removeAttribute("aria-busy");
      }
    }
  }

  function fail(text) {
    showMessage(text || MESSAGES.generic, "payment");
    setBusy(false);
  }

  function csrfToken() {
    const input = form.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  // Returns {clientSecret} or {error: "<text a shopper can read>", total?, totalDisplay?, outOfStock?}.
  async function createIntent(email, shipping) {
    let response;
    try {
      response = await fetch(config.createIntentUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrfToken(),
        },
        body: JSON.stringify({
          ...(config.book ? { book: config.book, quantity: config.quantity } : {}),
          email,
          shipping,
          expected_total: expectedTotal,
          ...(voucherCode ? { voucher_code: voucherCode } : {}),
        }),
      });
    } catch {
      return { error: MESSAGES.unreachable };
    }
    let data;
    try {
      data = await response.json();
    } catch {
      data = null; // a proxy's HTML error page, an empty body…
    }
    if (!data || typeof data !== "object") {
      return { error: MESSAGES.unreachable };
    }
    if (!response.ok) {
      return {
        error: typeof data.error === "string" && data.error ? data.error : MESSAGES.generic,
        total: Number.isInteger(data.total) ? data.total : null,
        totalDisplay: typeof data.totalDisplay === "string" ? data.totalDisplay : "",
        outOfStock: data.outOfStock === true,
        voucherRefused: data.voucherRefused === true,
        pricing: data,
      };
    }
    if (typeof data.clientSecret !== "string" || !data.clientSecret) {
      return { error: MESSAGES.generic };
    }
    return { clientSecret: data.clientSecret };
  }

  function emailIsValid() {
    if (emailInput.checkValidity()) {
      return true;
    }
    const text = emailInput.validity.valueMissing ? MESSAGES.emailMissing : MESSAGES.emailInvalid;
    showMessage(text, "email");
    emailInput.setAttribute("aria-invalid", "true");
    emailInput.focus();
    return false;
  }

  if (typeof window.Stripe !== "function") {
    showMessage(MESSAGES.stripeMissing, "stripe");
    payButton.disabled = true;
    return;
  }

  // The server's total differs from the one shown (another tab changed the
  // cart, a price changed, a discount code was applied): show it, so the
  // shopper pays what they see.
  function showNewTotal(total, totalDisplay) {
    expectedTotal = total;
    elements.update({ amount: total });
    if (totalDisplay) {
      const totalNode = document.getElementById("summary-total");
      if (totalNode) {
        totalNode.textContent = totalDisplay;
      }
      payLabel = `Pay ${totalDisplay}`;
      if (!busy) {
        payButton.textContent = payLabel;
      }
    }
  }

  // The server's figures ({total, totalDisplay, discountDisplay, voucherCode, …}) on the summary.
  function showPricing(pricing) {
    if (!pricing || !Number.isInteger(pricing.total)) {
      return;
    }
    showNewTotal(pricing.total, typeof pricing.totalDisplay === "string" ? pricing.totalDisplay : "");
    if (typeof pricing.discountDisplay === "string") {
      const code = typeof pricing.voucherCode === "string" ? pricing.voucherCode : "";
      document.getElementById("summary-discount-row").hidden = !pricing.discountDisplay;
      document.getElementById("summary-discount").textContent = pricing.discountDisplay;
      document.getElementById("summary-discount-code").textContent = code ? `(${code})` : "";
    }
    if (typeof pricing.shippingDisplay === "string" && pricing.shippingDisplay) {
      document.getElementById("summary-shipping").textContent = pricing.shippingDisplay;
    }
  }

  let stripe;
  let elements;
  let addressElement;
  try {
    stripe = window.Stripe(config.publishableKey);
    elements = stripe.elements({ mode: "payment", amount: config.amount, currency: config.currency });
    addressElement = elements.create("address", {
      mode: "shipping",
      allowedCountries: config.shippingCountries,
    });
    addressElement.mount("#address-element");
    addressElement.on("change", (event) => {
      if (event.complete && messageAbout === "address" && !busy) {
        clearMessage();
      }
    });
    const paymentElement = elements.create("payment");
    paymentElement.mount("#payment-element");
    paymentElement.on("change", (event) => {
      // Once the shopper has fixed their payment details, the old error is stale.
      if (event.complete && messageAbout === "payment" && !busy) {
        clearMessage();
      }
    });
  } catch {
    showMessage(MESSAGES.stripeMissing, "stripe");
    payButton.disabled = true;
    return;
  }
  // Paid for this book already in this session (the shopper came Back from the
  // success page): Pay stays off until they ask for another copy.
  const boughtNotice = document.getElementById("already-bought");
  const buyAnother = document.getElementById("buy-another");
  let anotherCopyConfirmed = !boughtNotice;
  payButton.disabled = !anotherCopyConfirmed;
  if (buyAnother) {
    buyAnother.addEventListener("click", () => {
      anotherCopyConfirmed = true;
      payButton.disabled = false;
      buyAnother.disabled = true;
      buyAnother.textContent = "Buying another copy";
      emailInput.focus();
    });
  }

  emailInput.addEventListener("input", () => {
    if (emailInput.hasAttribute("aria-invalid") && emailInput.checkValidity()) {
      emailInput.removeAttribute("aria-invalid");
      if (messageAbout === "email") {
        clearMessage();
      }
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy || !anotherCopyConfirmed) {
      return; // a double click or a second Enter: one payment attempt at a time
    }
    if (!emailIsValid()) {
      return;
    }
    clearMessage();
    setBusy(true);
    try {
      const submitted = await elements.submit();
      if (submitted && submitted.error) {
        fail(submitted.error.message);
        return;
      }
      const address = await addressElement.getValue();
      if (!address || !address.complete) {
        showMessage(MESSAGES.addressMissing, "address");
        setBusy(false);
        return;
      }
      const { name, phone, address: parts } = address.value;
      const shipping = { name, address: parts, ...(phone ? { phone } : {}) };
      const intent = await createIntent(emailInput.value, shipping);
      if (intent.error) {
        if (intent.voucherRefused) {
          showVoucher("", ""); // priced without it (the message says why): the shopper decides
        }
        if (intent.total !== null && intent.total !== undefined && intent.total !== expectedTotal) {
          showPricing(intent.pricing);
        }
        if (cartLink && !config.book && intent.total !== null && intent.total !== undefined) {
          cartLink.hidden = false;
        }
        fail(intent.error);
        return;
      }
      const result = await stripe.confirmPayment({
        elements,
        clientSecret: intent.clientSecret,
        confirmParams: { return_url: config.returnUrl },
      });
      // On success the browser is already on its way to the return URL; stay busy.
      if (result && result.error) {
        fail(result.error.message); // the server reuses the same order when the shopper retries
      }
    } catch {
      fail(MESSAGES.generic);
    }
  });

  // The discount code: applied or removed by asking the server for the figures with it.
  const voucherForm = document.getElementById("voucher-form");
  const voucherInput = document.getElementById("voucher-code");
  const voucherMessage = document.getElementById("voucher-message");

  function showVoucher(code, message) {
    voucherCode = code;
    document.getElementById("voucher-entry").hidden = Boolean(code);
    document.getElementById("voucher-applied-row").hidden = !code;
    document.getElementById("voucher-applied").textContent = code;
    voucherMessage.textContent = message || "";
    voucherMessage.hidden = !message;
    voucherInput.setAttribute("aria-invalid", message && !code ? "true" : "false");
  }

  async function priceWithCode(code) {
    let response;
    let data = null;
    try {
      response = await fetch(config.discountUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrfToken(),
        },
        body: JSON.stringify({ ...(config.book ? { book: config.book } : {}), voucher_code: code }),
      });
      data = await response.json();
    } catch {
      data = null;
    }
    if (!data || typeof data !== "object") {
      return { error: MESSAGES.unreachable };
    }
    if (!response.ok) {
      return { error: typeof data.error === "string" && data.error ? data.error : MESSAGES.generic, pricing: data };
    }
    return { pricing: data };
  }

  async function changeVoucher(code) {
    if (busy) {
      return;
    }
    setBusy(true);
    try {
      const result = await priceWithCode(code);
      showPricing(result.pricing);
      if (result.error) {
        showVoucher(result.pricing && result.pricing.voucherRefused ? "" : voucherCode, result.error);
      } else {
        const applied = result.pricing.voucherCode || "";
        const off = result.pricing.discountDisplay ? `${result.pricing.discountDisplay.replace("−", "")} off` : "";
        showVoucher(applied, applied ? `Discount code ${applied}: ${off} your books.` : "");
      }
    } finally {
      setBusy(false);
      payButton.disabled = !anotherCopyConfirmed;
    }
  }

  if (voucherForm) {
    voucherForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const code = voucherInput.value.trim();
      if (!code) {
        showVoucher("", "Enter a discount code.");
        voucherInput.focus();
        return;
      }
      changeVoucher(code);
    });
    document.getElementById("voucher-remove").addEventListener("click", () => {
      changeVoucher("").then(() => voucherInput.focus());
    });
  }

  // Restored from the back/forward cache (the page is sent no-store, but a browser
  // may keep it anyway): it may show a payable form for a book just bought, so
  // ask the server for the page again.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) {
      window.location.reload();
    }
  });
})();
