//! Fan-out of the encoded live stream: whole MP3 frames to every listener, ICY metadata, Icecast push.
