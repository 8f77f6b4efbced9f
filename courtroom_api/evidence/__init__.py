"""Evidence handling: streamed uploads, content sniffing, renditions for zoom and PDF pages."""
