"""HTTP routes, one blueprint per audience: the page, the JSON API, the probes."""
