"""Club chat: messages in a club's room, with replies, @mentions, edits and deletions."""
