"""The Socket.IO packet of Samooh's server: a message whose JSON cannot be read is answered.

python-socketio's own packet raises while decoding a message nested deeper than the JSON decoder
allows (``RecursionError`` in the standard library, ``JSONDecodeError`` in orjson) or one that is
not JSON at all; the exception is logged and a client waiting for its acknowledgement waits
forever. Here such an event keeps its acknowledgement id and becomes the event
``MALFORMED_EVENT``, whose handler (app/sockets.py) answers ``malformed_message``.
"""

from __future__ import annotations

from typing import Any

from socketio import packet

MALFORMED_EVENT = "samooh:malformed"


class ReadablePacket(packet.Packet):
    """``socketio.packet.Packet`` whose decode never raises on the JSON of an event."""

    def decode(self, encoded_packet: Any) -> int:
        """Decode one packet; returns the number of binary attachments that follow (as the base).

        An EVENT whose JSON cannot be read decodes as ``[MALFORMED_EVENT]`` with its ack id kept.
        Other packet types raise ``ValueError`` as before (the connection is dropped).
        """
        try:
            count: int = super().decode(encoded_packet)
        except (ValueError, RecursionError):
            if self.packet_type != packet.EVENT:
                raise
            self.data = [MALFORMED_EVENT]
            return 0
        if self.packet_type == packet.EVENT and not (
            isinstance(self.data, list) and self.data and isinstance(self.data[0], str)
        ):
            self.data = [MALFORMED_EVENT]  # an event must be a list naming the event first
        return count
