"""The names of the files in data/."""

# --- data/ file names ---------------------------------------------------------------------------
MANIFEST_FILE = "manifest.json"  # per source: where it came from, when, checksums
SERVICES_FILE = "services.json"  # the searchable NHS services, derived from the five tables below
PROVIDERS_FILE = "nhs_providers.json"  # ODS organisations delivering NHS Talking Therapies
OUTCOMES_FILE = "nhs_outcomes.json"  # NHS England's published statistics
LINKS_FILE = "service_links.json"  # public-page facts: websites, self-referral, IPT mentions
SERVICE_AREAS_FILE = "service_areas.json"  # which districts each service takes people from
ROLES_FILE = "service_roles.json"  # lead / partner / specialist ... per service
PRACTITIONERS_FILE = "practitioners.json"  # private IPT practitioners
AREAS_FILE = "areas.json"  # district -> sub-ICB -> ICB
POSTCODES_FILE = "postcodes.parquet"
SECTORS_FILE = "postcode_sectors.parquet"
OUTCODES_FILE = "postcode_outcodes.parquet"
PLACES_FILE = "places.parquet"
GP_FILE = "gp_practices.parquet"
# The files of the NHS service tables, written together by the NHS importers and their refresh.
NHS_FILES = (PROVIDERS_FILE, OUTCOMES_FILE, LINKS_FILE, SERVICE_AREAS_FILE, ROLES_FILE, SERVICES_FILE)
POSTCODE_FILES = (POSTCODES_FILE, SECTORS_FILE, OUTCODES_FILE)
