"""Where the 191 console listens: the Socket.IO namespace and the room every dispatcher joins."""

NAMESPACE = "/dispatch"
DISPATCHERS_ROOM = "dispatchers"
