//! Podcast feeds (RSS 2.0 + itunes + podcast namespaces), pure: view model in, bytes out.
