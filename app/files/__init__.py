"""Files: uploads checked on their content (size, magic bytes, a scanner), stored once by
content hash (local disk or S3-compatible), downloaded only through short-lived signed links."""
