"""Open Referral UK (HSDS 3.0 with the UK profile): the mapping of the directory's records to
ORUK objects (`mapping`, pure, shared by the export and the API) and the read-only API (`api`)."""
