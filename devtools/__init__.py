"""Local stand-ins and development tools: never part of the product.

* ``payments_sandbox`` -- ``python -m devtools.payments_sandbox``: a payment provider in
  Razorpay's API shape (checkout page, signed webhooks) for development and tests;
* ``mailserver`` -- ``python -m devtools.mailserver``: the local SMTP server that stores what it
  receives for the dev outbox (started by ``scripts/services.py``);
* ``replayer`` -- ``python -m devtools.replayer``: real daily price history replayed as
  intraday ticks to the market-ticks topic (a stand-in for a market feed);
* ``demo`` (+ ``demo_room``) -- ``python -m devtools.demo``: the demo accounts, club and room
  that ``make run`` shows.

These import the product (``app``, ``streams``); the product never imports them.
"""
