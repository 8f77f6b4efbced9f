"""HTTP routes of the courtroom API, one module per resource."""
