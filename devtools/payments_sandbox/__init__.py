"""The sandbox payment provider (``python -m devtools.payments_sandbox``): a local HTTP server in
Razorpay's API shape with a checkout page, signed webhooks, retries and test controls."""
