"""In-app notifications (persisted first, then emitted to ``user:<id>``), unread counts, read
marks and e-mail for the kinds each person opted into."""
