"""Text messages (SMS) to people's verified Indian mobile numbers through a DLT-registered
template, by MSG91 or its local sandbox (devtools/sms_sandbox)."""
