"""A local stand-in for MSG91's SMS API (``python -m devtools.sms_sandbox``)."""
