"""Socket.IO: the server, room names, and the emitter interface shared by web and workers."""
