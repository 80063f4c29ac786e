"""The canonical legacy record and the vocabularies every layout is mapped onto.

Every reader yields a frame with the RAW_FIELDS (text, as found in the source, possibly
blank) plus the bookkeeping columns. Normalization adds the NORMALIZED_FIELDS.
"""

from __future__ import annotations

# Columns every reader adds, whatever the layout.
BOOKKEEPING = ("row_id", "source", "locator", "layout", "read_error")

# Canonical fields a mapping may fill, as text. Unmapped fields are blank.
RAW_FIELDS = (
    "member_id",
    "product",
    "entity_type",
    "entity_name",
    "cert_type",
    "cert_number",
    "entity_filing_number",
    "website_name",
    "website_filing_number",
    "domains",  # several, separated by ; ； , 、 or spaces
    "homepage",
    "province",
    "responsible_person",
    "phone",
    "admin_email",
    "filed_on",
    "has_cloud",
    "cloud_admin_email",
)

# Products migrated by the rules; anything else is out of scope.
PRODUCTS = ("domain", "enterprise_website", "winport_shop")

ENTITY_TYPES = (
    "enterprise",
    "individual",
    "public_institution",
    "government",
    "social_group",
    "private_non_enterprise",
    "foundation",
    "law_firm",
    "organization",  # an organization of unstated kind
)

CERT_TYPES = (
    "uscc",
    "org_code",
    "business_license",
    "resident_id",
    "passport",
    "hk_macao_permit",
    "taiwan_permit",
)
ORGANIZATION_CERTS = ("uscc", "org_code", "business_license")
PERSON_CERTS = ("resident_id", "passport", "hk_macao_permit", "taiwan_permit")

DISPOSITIONS = ("loaded", "duplicate", "out_of_scope", "quarantined", "needs_review")

ACCOUNT_KINDS = ("filing", "resources", "filing_and_resources")

# How a record was joined to its entity: the evidence kept for every grouping link.
LINK_KINDS = (
    "same_certificate",  # same USCC / ID / passport as the entity
    "org_code_in_uscc",  # an old organization code equal to characters 9-17 of the USCC
    "upgraded_15_digit_id",  # a 15-digit first-generation ID upgraded to 18
    "shared_filing_number",  # no valid certificate; the entity or website filing number
    "name_fallback",  # organization without a valid certificate; same name + province
    "review_decision",  # a person assigned the record's conflict to this entity
)
