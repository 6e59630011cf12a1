/*
 * Stripe Press: an offline stand-in for the part of Stripe.js our checkout uses.
 *
 * Loaded instead of https://js.stripe.com/v3/ in offline mode (DEBUG with a
 * loopback STRIPE_API_BASE; the base comes from this script tag's
 * data-api-base) and by the browser tests (which set
 * window.STRIPE_STANDIN_API_BASE and serve this file in place of Stripe.js).
 * It confirms PaymentIntents on the local emulator (tools/localstripe_server.py)
 * and refuses to talk to anything but a loopback address: never real Stripe.
 *
 * Implements what static/js/checkout.js calls, nothing more: Stripe(pk),
 * stripe.elements({mode, amount, currency}), elements.update({amount}),
 * elements.create("payment"), elements.create("address", {mode: "shipping",
 * allowedCountries}) with getValue() and the `change` event ({complete, value}),
 * element.mount/on/focus/unmount, elements.submit() and
 * stripe.confirmPayment({elements, clientSecret, confirmParams: {return_url}}).
 *
 * Test cards (as localstripe knows them): 4242 4242 4242 4242 succeeds,
 * 4000 0000 0000 0341 is declined, 4000 0027 6000 3184 asks for 3-D Secure.
 *
 * No eval, no inline HTML or style attributes: it works under the shop's
 * Content Security Policy (styles are set through element.style; the 3-D
 * Secure dialog's are in static/css/shop.css).
 *
 * Development only: it lives in static_dev/, which is a static folder only in
 * offline mode, so a production collectstatic never ships it.
 */
(function () {
  "use strict";

  var currentScript = document.currentScript;
  var apiBase = (
    window.STRIPE_STANDIN_API_BASE ||
    (currentScript && currentScript.getAttribute("data-api-base")) ||
    ""
  ).replace(/\/+$/, "");

  function isLoopbackUrl(url) {
    var parsed;
    try {
      parsed = new URL(url);
    } catch (err) {
      return false;
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return false;
    var host = parsed.hostname;
    return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  }

  if (!isLoopbackUrl(apiBase)) {
    throw new Error(
      "Stripe stand-in: refusing to run. Its API base must be a loopback URL (a local Stripe " +
        "emulator such as http://127.0.0.1:8420), got " + JSON.stringify(apiBase) +
        ". It never talks to real Stripe: load https://js.stripe.com/v3/ for that."
    );
  }

  var AUTHENTICATION_FAILED_MESSAGE =
    "We are unable to authenticate your payment method. Please choose a different payment method and try again.";
  var uid = 0;

  function nextId(prefix) {
    uid += 1;
    return prefix + "-" + uid;
  }

  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      if (key === "style") {
        Object.assign(node.style, props.style);
      } else if (key === "text") {
        node.textContent = props.text;
      } else if (key === "className" || key === "id" || key === "type" || key === "value") {
        node[key] = props[key];
      } else {
        node.setAttribute(key, props[key]);
      }
    });
    (children || []).forEach(function (child) {
      node.appendChild(child);
    });
    return node;
  }

  function formatAmount(amount, currency) {
    try {
      var format = new Intl.NumberFormat(undefined, { style: "currency", currency: currency.toUpperCase() });
      var digits = format.resolvedOptions().maximumFractionDigits;
      return format.format(amount / Math.pow(10, digits));
    } catch (err) {
      return amount + " " + currency;
    }
  }

  // --- Card validation (Stripe's messages) -------------------------------------

  function digitsOf(value) {
    return String(value || "").replace(/\D/g, "");
  }

  function luhnValid(number) {
    var sum = 0;
    for (var i = 0; i < number.length; i++) {
      var digit = Number(number.charAt(number.length - 1 - i));
      if (i % 2 === 1) {
        digit *= 2;
        if (digit > 9) digit -= 9;
      }
      sum += digit;
    }
    return sum % 10 === 0;
  }

  function parseExpiry(value) {
    var digits = digitsOf(value);
    if (digits.length !== 4) return null;
    return { month: Number(digits.slice(0, 2)), year: 2000 + Number(digits.slice(2)) };
  }

  // Each returns null when valid, else {code, message}.
  var validators = {
    number: function (value) {
      var number = digitsOf(value);
      if (number.length < 13) return { code: "incomplete_number", message: "Your card number is incomplete." };
      if (number.length > 19 || !luhnValid(number)) {
        return { code: "invalid_number", message: "Your card number is invalid." };
      }
      return null;
    },
    expiry: function (value) {
      var expiry = parseExpiry(value);
      if (!expiry) return { code: "incomplete_expiry", message: "Your card's expiration date is incomplete." };
      if (expiry.month < 1 || expiry.month > 12) {
        return { code: "invalid_expiry_month", message: "Your card's expiration month is invalid." };
      }
      var now = new Date();
      var thisMonth = now.getFullYear() * 12 + now.getMonth() + 1;
      if (expiry.year * 12 + expiry.month < thisMonth) {
        return expiry.year < now.getFullYear()
          ? { code: "invalid_expiry_year_past", message: "Your card's expiration year is in the past." }
          : { code: "invalid_expiry_month_past", message: "Your card's expiration date is in the past." };
      }
      return null;
    },
    cvc: function (value) {
      var cvc = digitsOf(value);
      if (cvc.length < 3 || cvc.length > 4) {
        return { code: "incomplete_cvc", message: "Your card's security code is incomplete." };
      }
      return null;
    },
  };

  // Keep what the shopper types readable: "4242 4242 …", "12 / 34".
  var formatters = {
    number: function (value) {
      return digitsOf(value).slice(0, 19).replace(/(\d{4})(?=\d)/g, "$1 ");
    },
    expiry: function (value) {
      var digits = digitsOf(value).slice(0, 4);
      if (digits.length === 1 && Number(digits) > 1) digits = "0" + digits; // "4" means April
      return digits.length > 2 ? digits.slice(0, 2) + " / " + digits.slice(2) : digits;
    },
    cvc: function (value) {
      return digitsOf(value).slice(0, 4);
    },
  };

  // --- The Payment Element --------------------------------------------------------

  var FIELDS = [
    { name: "number", id: "standin-card-number", label: "Card number", placeholder: "1234 1234 1234 1234",
      autocomplete: "cc-number" },
    { name: "expiry", id: "standin-card-expiry", label: "Expiry (MM / YY)", placeholder: "MM / YY",
      autocomplete: "cc-exp" },
    { name: "cvc", id: "standin-card-cvc", label: "CVC", placeholder: "CVC", autocomplete: "cc-csc" },
  ];

  function PaymentElement(elements) {
    this._elements = elements;
    this._handlers = {};
    this._inputs = {};
    this._errors = {};
    this._root = null;
    this._container = null;
  }

  PaymentElement.prototype.on = function (event, handler) {
    (this._handlers[event] = this._handlers[event] || []).push(handler);
    return this;
  };

  PaymentElement.prototype._emit = function (event, payload) {
    (this._handlers[event] || []).slice().forEach(function (handler) {
      handler(Object.assign({ elementType: "payment" }, payload || {}));
    });
  };

  PaymentElement.prototype.mount = function (target) {
    var container = typeof target === "string" ? document.querySelector(target) : target;
    if (!container) throw new Error("Stripe stand-in: mount target " + String(target) + " not found.");
    if (this._root) this.unmount();
    this._container = container;
    this._root = this._render();
    container.appendChild(this._root);
    var self = this;
    setTimeout(function () { self._emit("ready"); }, 0);
    return this;
  };

  PaymentElement.prototype.unmount = function () {
    if (this._root && this._root.parentNode) this._root.parentNode.removeChild(this._root);
    this._root = null;
    this._inputs = {};
    this._errors = {};
  };

  PaymentElement.prototype.focus = function () {
    if (this._inputs.number) this._inputs.number.focus();
  };

  PaymentElement.prototype._render = function () {
    var self = this;
    var root = el("div", {
      className: "standin-payment-element",
      role: "group",
      "aria-label": "Card details (offline test form)",
      style: { display: "grid", gap: "0.75rem" },
    });
    root.appendChild(
      el("p", {
        className: "standin-notice",
        text: "Offline test card form — no real payments. Try 4242 4242 4242 4242, any future date, any CVC.",
        style: {
          margin: "0",
          padding: "0.5rem 0.75rem",
          border: "1px dashed #b45309",
          borderRadius: "6px",
          background: "#fffbeb",
          color: "#78350f",
          fontSize: "0.875rem",
        },
      })
    );
    var row = el("div", { style: { display: "grid", gridTemplateColumns: "1fr 1fr", gap: "0.75rem" } });
    FIELDS.forEach(function (field) {
      var errorId = field.id + "-error";
      var input = el("input", {
        id: field.id,
        type: "text",
        className: "standin-input",
        name: "standin-" + field.name,
        inputmode: "numeric",
        autocomplete: field.autocomplete,
        placeholder: field.placeholder,
        spellcheck: "false",
        "aria-describedby": errorId,
        "aria-invalid": "false",
        style: {
          width: "100%",
          boxSizing: "border-box",
          padding: "0.6rem 0.75rem",
          border: "1px solid #9ca3af",
          borderRadius: "6px",
          font: "inherit",
        },
      });
      var error = el("p", {
        id: errorId,
        className: "standin-field-error",
        role: "alert",
        style: { margin: "0.25rem 0 0", color: "#b91c1c", fontSize: "0.875rem", minHeight: "0" },
      });
      input.addEventListener("input", function () {
        var formatted = formatters[field.name](input.value);
        if (formatted !== input.value) input.value = formatted;
        if (input.getAttribute("aria-invalid") === "true" && !validators[field.name](input.value)) {
          self._showError(field.name, null);
        }
        self._emitChange();
      });
      input.addEventListener("focus", function () { self._emit("focus"); });
      input.addEventListener("blur", function () {
        if (input.value) self._showError(field.name, validators[field.name](input.value));
        self._emit("blur");
      });
      self._inputs[field.name] = input;
      self._errors[field.name] = error;
      var wrapper = el("div", { className: "standin-field standin-field-" + field.name }, [
        el("label", {
          for: field.id,
          text: field.label,
          style: { display: "block", fontWeight: "600", marginBottom: "0.25rem" },
        }),
        input,
        error,
      ]);
      if (field.name === "number") {
        root.appendChild(wrapper);
      } else {
        row.appendChild(wrapper);
      }
    });
    root.appendChild(row);
    return root;
  };

  PaymentElement.prototype._showError = function (name, problem) {
    var input = this._inputs[name];
    if (!input) return;
    input.setAttribute("aria-invalid", problem ? "true" : "false");
    input.style.borderColor = problem ? "#b91c1c" : "#9ca3af";
    this._errors[name].textContent = problem ? problem.message : "";
  };

  PaymentElement.prototype._values = function () {
    var inputs = this._inputs;
    return {
      number: inputs.number ? inputs.number.value : "",
      expiry: inputs.expiry ? inputs.expiry.value : "",
      cvc: inputs.cvc ? inputs.cvc.value : "",
    };
  };

  // The first problem with the card, or null when it is complete and valid.
  PaymentElement.prototype._firstProblem = function () {
    var values = this._values();
    for (var i = 0; i < FIELDS.length; i++) {
      var problem = validators[FIELDS[i].name](values[FIELDS[i].name]);
      if (problem) return { field: FIELDS[i].name, code: problem.code, message: problem.message };
    }
    return null;
  };

  PaymentElement.prototype._emitChange = function () {
    var values = this._values();
    this._emit("change", {
      complete: this._firstProblem() === null,
      empty: !values.number && !values.expiry && !values.cvc,
      collapsed: false,
      value: { type: "card" },
    });
  };

  PaymentElement.prototype._cardParams = function () {
    var values = this._values();
    var expiry = parseExpiry(values.expiry);
    return {
      number: digitsOf(values.number),
      exp_month: String(expiry.month),
      exp_year: String(expiry.year),
      cvc: digitsOf(values.cvc),
    };
  };

  PaymentElement.prototype._setDisabled = function (disabled) {
    var inputs = this._inputs;
    Object.keys(inputs).forEach(function (name) { inputs[name].disabled = disabled; });
  };

  // --- Address element (mode "shipping") ---------------------------------------------

  var ADDRESS_FIELDS = [
    { name: "name", id: "standin-address-name", label: "Full name", autocomplete: "shipping name", required: "Enter your full name." },
    { name: "country", id: "standin-address-country", label: "Country or region", autocomplete: "shipping country", required: "Choose your country." },
    { name: "line1", id: "standin-address-line1", label: "Address line 1", autocomplete: "shipping address-line1", required: "Enter your address." },
    { name: "line2", id: "standin-address-line2", label: "Address line 2 (optional)", autocomplete: "shipping address-line2" },
    { name: "city", id: "standin-address-city", label: "City", autocomplete: "shipping address-level2", required: "Enter your city." },
    { name: "state", id: "standin-address-state", label: "State, province or region (optional)", autocomplete: "shipping address-level1" },
    { name: "postal_code", id: "standin-address-postal-code", label: "Postal code", autocomplete: "shipping postal-code", required: "Enter your postal code." },
  ];

  function AddressElement(options) {
    options = options || {};
    if (options.mode !== "shipping") {
      throw new Error('Stripe stand-in: only elements.create("address", {mode: "shipping"}) is supported.');
    }
    this._countries = (options.allowedCountries || ["US"]).slice();
    this._handlers = {};
    this._inputs = {};
    this._errors = {};
    this._root = null;
  }

  AddressElement.prototype.on = PaymentElement.prototype.on;

  AddressElement.prototype._emit = function (event, payload) {
    (this._handlers[event] || []).slice().forEach(function (handler) {
      handler(Object.assign({ elementType: "address" }, payload || {}));
    });
  };

  AddressElement.prototype.mount = function (target) {
    var container = typeof target === "string" ? document.querySelector(target) : target;
    if (!container) throw new Error("Stripe stand-in: mount target " + String(target) + " not found.");
    if (this._root) this.unmount();
    this._root = this._render();
    container.appendChild(this._root);
    var self = this;
    setTimeout(function () { self._emit("ready"); }, 0);
    return this;
  };

  AddressElement.prototype.unmount = PaymentElement.prototype.unmount;

  AddressElement.prototype.focus = function () {
    if (this._inputs.name) this._inputs.name.focus();
  };

  AddressElement.prototype._render = function () {
    var self = this;
    var root = el("div", {
      className: "standin-address-element",
      role: "group",
      "aria-label": "Shipping address (offline test form)",
      style: { display: "grid", gap: "0.75rem" },
    });
    ADDRESS_FIELDS.forEach(function (field) {
      var errorId = field.id + "-error";
      var input;
      var style = {
        width: "100%",
        boxSizing: "border-box",
        padding: "0.6rem 0.75rem",
        border: "1px solid #9ca3af",
        borderRadius: "6px",
        font: "inherit",
      };
      if (field.name === "country") {
        input = el("select", { id: field.id, name: "standin-address-country", autocomplete: field.autocomplete, "aria-describedby": errorId, style: style },
          self._countries.map(function (code) { return el("option", { value: code, text: code }); }));
      } else {
        input = el("input", {
          id: field.id,
          type: "text",
          name: "standin-address-" + field.name,
          autocomplete: field.autocomplete,
          "aria-describedby": errorId,
          "aria-invalid": "false",
          style: style,
        });
      }
      var error = el("p", {
        id: errorId,
        className: "standin-field-error",
        role: "alert",
        style: { margin: "0.25rem 0 0", color: "#b91c1c", fontSize: "0.875rem", minHeight: "0" },
      });
      input.addEventListener(field.name === "country" ? "change" : "input", function () {
        if (input.getAttribute("aria-invalid") === "true" && input.value.trim()) self._showError(field.name, null);
        self._emitChange();
      });
      self._inputs[field.name] = input;
      self._errors[field.name] = error;
      root.appendChild(
        el("div", { className: "standin-field standin-field-" + field.name }, [
          el("label", { for: field.id, text: field.label, style: { display: "block", fontWeight: "600", marginBottom: "0.25rem" } }),
          input,
          error,
        ])
      );
    });
    return root;
  };

  AddressElement.prototype._showError = PaymentElement.prototype._showError;

  AddressElement.prototype._value = function () {
    var inputs = this._inputs;
    function v(name) { return inputs[name] ? inputs[name].value.trim() : ""; }
    return {
      name: v("name"),
      phone: "",
      address: {
        line1: v("line1"),
        line2: v("line2") || null,
        city: v("city"),
        state: v("state") || null,
        postal_code: v("postal_code"),
        country: v("country"),
      },
    };
  };

  AddressElement.prototype._firstProblem = function () {
    var inputs = this._inputs;
    for (var i = 0; i < ADDRESS_FIELDS.length; i++) {
      var field = ADDRESS_FIELDS[i];
      if (field.required && !(inputs[field.name] && inputs[field.name].value.trim())) {
        return { field: field.name, code: "incomplete_" + field.name, message: field.required };
      }
    }
    return null;
  };

  AddressElement.prototype._emitChange = function () {
    this._emit("change", { complete: this._firstProblem() === null, empty: false, isNewAddress: true, value: this._value() });
  };

  AddressElement.prototype.getValue = function () {
    return Promise.resolve({ complete: this._firstProblem() === null, isNewAddress: true, value: this._value() });
  };

  AddressElement.prototype._validate = function () {
    var self = this;
    ADDRESS_FIELDS.forEach(function (field) {
      if (field.required) {
        var missing = !(self._inputs[field.name] && self._inputs[field.name].value.trim());
        self._showError(field.name, missing ? { message: field.required } : null);
      }
    });
    return this._firstProblem();
  };

  AddressElement.prototype._setDisabled = PaymentElement.prototype._setDisabled;

  // --- Elements -------------------------------------------------------------------

  function Elements(stripe, options) {
    options = options || {};
    if (options.mode !== undefined && options.mode !== "payment") {
      throw new Error('Stripe stand-in: only elements({mode: "payment"}) is supported.');
    }
    this._stripe = stripe;
    this._options = Object.assign({}, options);
    this._element = null;
  }

  Elements.prototype.update = function (options) {
    Object.assign(this._options, options || {});
  };

  Elements.prototype.create = function (type, options) {
    if (type === "address") {
      if (this._address) throw new Error("Stripe stand-in: this Elements group already has an address element.");
      this._address = new AddressElement(options);
      return this._address;
    }
    if (type !== "payment") {
      throw new Error('Stripe stand-in: only elements.create("payment") and ("address") are supported, not ' + JSON.stringify(type) + ".");
    }
    if (this._element) throw new Error("Stripe stand-in: this Elements group already has a payment element.");
    this._element = new PaymentElement(this);
    return this._element;
  };

  Elements.prototype.submit = function () {
    var element = this._element;
    if (!element || !element._root) {
      return Promise.resolve({
        error: { type: "validation_error", message: "The payment form is not ready yet. Please wait a moment." },
      });
    }
    var address = this._address;
    var addressProblem = address && address._root ? address._validate() : null;
    if (addressProblem) {
      address._inputs[addressProblem.field].focus();
      return Promise.resolve({ error: { type: "validation_error", code: addressProblem.code, message: addressProblem.message } });
    }
    FIELDS.forEach(function (field) {
      element._showError(field.name, validators[field.name](element._values()[field.name]));
    });
    var problem = element._firstProblem();
    if (problem) {
      element._inputs[problem.field].focus();
      return Promise.resolve({ error: { type: "validation_error", code: problem.code, message: problem.message } });
    }
    this._submitted = true;
    return Promise.resolve({ selectedPaymentMethod: "card" });
  };

  // --- Talking to the emulator ------------------------------------------------------

  function formBody(fields) {
    var body = new URLSearchParams();
    Object.keys(fields).forEach(function (key) { body.append(key, fields[key]); });
    return body;
  }

  // POST as a CORS "simple request" (form-encoded, no custom headers): no preflight.
  function post(path, fields) {
    return fetch(apiBase + path, { method: "POST", body: formBody(fields), credentials: "omit" }).then(
      function (response) {
        return response.json().then(
          function (data) { return { status: response.status, data: data }; },
          function () { return { status: response.status, data: {} }; }
        );
      },
      function () {
        return {
          status: 0,
          data: {
            error: {
              type: "api_connection_error",
              message: "We could not reach the payment service (the local Stripe emulator at " + apiBase +
                "). Please check that it is running and try again.",
            },
          },
        };
      }
    );
  }

  function errorFrom(result) {
    var error = (result.data && result.data.error) || {};
    if (result.status === 0) return { type: "api_connection_error", message: error.message };
    if (result.status === 402) {
      var cardError = { type: "card_error", code: error.code || "card_declined", message: error.message || "Your card was declined." };
      if (error.decline_code) cardError.decline_code = error.decline_code;
      return cardError;
    }
    return {
      type: "invalid_request_error",
      code: error.code,
      message: error.message
        ? "The payment could not be confirmed: " + error.message
        : "The payment could not be confirmed (HTTP " + result.status + "). Please try again.",
    };
  }

  // --- Simulated 3-D Secure -----------------------------------------------------------

  function authenticate(intent) {
    return new Promise(function (resolve) {
      var titleId = nextId("standin-3ds-title");
      var textId = nextId("standin-3ds-text");
      var complete = el("button", {
        type: "button",
        className: "standin-3ds-button standin-3ds-button--primary",
        text: "Complete authentication",
      });
      var fail = el("button", { type: "button", className: "standin-3ds-button", text: "Fail authentication" });
      var dialog = el(
        "dialog",
        { className: "standin-3ds", "aria-labelledby": titleId, "aria-describedby": textId },
        [
          el("h2", { id: titleId, text: "3-D Secure authentication (simulated)" }),
          el("p", {
            id: textId,
            text: "Offline test mode: your bank would now ask you to approve this payment of " +
              formatAmount(intent.amount, intent.currency || "usd") + ". No real payment is made.",
          }),
          el("div", { className: "standin-3ds-actions" }, [complete, fail]),
        ]
      );
      var previousFocus = document.activeElement;
      function finish(success) {
        dialog.close();
        dialog.remove();
        if (previousFocus && previousFocus.focus) previousFocus.focus();
        resolve(success);
      }
      complete.addEventListener("click", function () { finish(true); });
      fail.addEventListener("click", function () { finish(false); });
      dialog.addEventListener("cancel", function (event) {
        event.preventDefault(); // Escape: the shopper abandoned authentication
        finish(false);
      });
      document.body.appendChild(dialog);
      dialog.showModal();
      complete.focus();
    });
  }

  // --- Stripe() ---------------------------------------------------------------------------

  function redirectUrl(returnUrl, intent, clientSecret) {
    var query = new URLSearchParams({
      payment_intent: intent.id,
      payment_intent_client_secret: clientSecret,
      redirect_status: "succeeded",
    }).toString();
    var hashAt = returnUrl.indexOf("#");
    var base = hashAt === -1 ? returnUrl : returnUrl.slice(0, hashAt);
    return base + (base.indexOf("?") === -1 ? "?" : "&") + query;
  }

  function StripeStandIn(publishableKey) {
    if (typeof publishableKey !== "string" || publishableKey.indexOf("pk_") !== 0) {
      throw new Error("Stripe stand-in: Stripe() needs a publishable key (pk_...); never pass a secret key to a browser.");
    }
    this._key = publishableKey;
  }

  StripeStandIn.prototype.elements = function (options) {
    return new Elements(this, options);
  };

  StripeStandIn.prototype.confirmPayment = function (options) {
    var self = this;
    options = options || {};
    var elements = options.elements;
    var clientSecret = options.clientSecret;
    var returnUrl = (options.confirmParams || {}).return_url;
    var match = /^(pi_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+$/.exec(clientSecret || "");
    function fail(type, message) {
      return Promise.resolve({ error: { type: type, message: message } });
    }
    if (!(elements instanceof Elements) || !elements._element) {
      return fail("invalid_request_error", "confirmPayment needs the elements group holding the payment element.");
    }
    if (!match) return fail("invalid_request_error", "confirmPayment needs a PaymentIntent client secret.");
    if (!returnUrl) return fail("invalid_request_error", "confirmParams.return_url is required.");
    if (!elements._submitted) {
      return fail("invalid_request_error", "elements.submit() must be called before stripe.confirmPayment().");
    }
    var element = elements._element;
    var problem = element._firstProblem();
    if (problem) return Promise.resolve({ error: { type: "validation_error", code: problem.code, message: problem.message } });

    var intentId = match[1];
    var card = element._cardParams();
    element._setDisabled(true);
    return post("/v1/payment_intents/" + intentId + "/confirm", {
      key: self._key,
      client_secret: clientSecret,
      "payment_method_data[type]": "card",
      "payment_method_data[card][number]": card.number,
      "payment_method_data[card][exp_month]": card.exp_month,
      "payment_method_data[card][exp_year]": card.exp_year,
      "payment_method_data[card][cvc]": card.cvc,
    })
      .then(function (result) {
        if (result.status !== 200) return { error: errorFrom(result) };
        var intent = result.data;
        if (intent.status !== "requires_action") return { intent: intent };
        return authenticate(intent).then(function (success) {
          return post("/v1/payment_intents/" + intentId + "/_authenticate", {
            key: self._key,
            client_secret: clientSecret,
            success: success ? "true" : "false",
          }).then(function (authResult) {
            if (authResult.status !== 200) return { error: errorFrom(authResult) };
            if (!success) {
              return {
                error: {
                  type: "card_error",
                  code: "payment_intent_authentication_failure",
                  message: AUTHENTICATION_FAILED_MESSAGE,
                  payment_intent: authResult.data,
                },
              };
            }
            return { intent: authResult.data };
          });
        });
      })
      .catch(function () {
        return { error: { type: "api_error", message: "The payment service sent an unexpected answer. Please try again." } };
      })
      .then(function (outcome) {
        element._setDisabled(false);
        if (outcome.error) return { error: outcome.error };
        var intent = outcome.intent;
        if (["succeeded", "processing", "requires_capture"].indexOf(intent.status) !== -1) {
          window.location.assign(redirectUrl(returnUrl, intent, clientSecret));
          return new Promise(function () {}); // like Stripe.js: the page is leaving
        }
        var lastError = intent.last_payment_error || {};
        return {
          error: {
            type: "card_error",
            code: lastError.code || "payment_intent_unexpected_state",
            message: lastError.message || "The payment could not be completed. Please try another card.",
            payment_intent: intent,
          },
        };
      });
  };

  window.Stripe = function Stripe(publishableKey, options) {
    return new StripeStandIn(publishableKey, options);
  };
  window.Stripe.standIn = true;
})();
