"""Monthly dues of investment clubs (issue #14): due, paid, late or waived per member and month."""
