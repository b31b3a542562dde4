"""Domain core of the talking-therapy finder: postcodes, geography, dataset schema, search,
accreditation. Imports neither Streamlit nor BeautifulSoup; scrapers and the app depend on it."""

PROJECT_NAME = "ipt-finder"
PROJECT_URL = "https://github.com/ipt-finder/ipt-finder"
