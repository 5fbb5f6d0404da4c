"""Club rooms: joining ``club:<id>`` as a member, presence, catching up on missed events, the
room's state snapshot, and taking a former member out of the room at once."""
