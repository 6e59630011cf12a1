"""Payment services: intents (checkout), webhooks, refunds, reconciliation."""
