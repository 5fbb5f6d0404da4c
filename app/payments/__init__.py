"""Payments: provider adapters (Razorpay, Stripe, the local sandbox), checkouts for
contributions, and the webhook endpoint that turns verified provider events into one
``PaymentEventV1`` each on the payments topic."""
