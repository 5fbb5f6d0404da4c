"""The sandbox payment provider (``python -m app.payments.sandbox``): a local HTTP server in
Razorpay's API shape with a checkout page, signed webhooks, retries and test controls."""
