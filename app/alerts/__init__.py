"""Price alerts of a club: above, below, or a % move within a window, evaluated on the tick
stream; a triggered alert is persisted in the club room's event log, then emitted."""
