"""Scrapers and API clients for the live sources: one module per source, pure `parse_*` functions,
and `scrape(fetch)` taking its fetcher (see `scrapers.http`). They depend on `finder`, never the
other way round."""
