"""Static reference data of the sandbox world: countries, legal identifier types, products, statuses.

Everything here comes from the functional page ([DOC]) where it exists; the rest ([SANDBOX]) is
documented in sandbox/README.md.
"""

from __future__ import annotations

# ISO 3166 alpha-3 code, English name, [(identifier type, label, digits)], currency, cities [(city, postal)]
COUNTRIES: list[tuple[str, str, list[tuple[str, str, int]], str, list[tuple[str, str]]]] = [
    ("FRA", "France", [("SIREN_FRA", "SIREN", 9), ("SIRET_FRA", "SIRET", 14)], "EUR",
     [("Paris", "75008"), ("Lyon", "69002"), ("Marseille", "13001"), ("Lille", "59000"), ("Nantes", "44000")]),
    ("DEU", "Germany", [("HRB_DEU", "Handelsregister B", 6), ("VAT_DEU", "USt-IdNr", 9)], "EUR",
     [("Berlin", "10115"), ("Hamburg", "20095"), ("München", "80331"), ("Köln", "50667")]),
    ("ITA", "Italy", [("VAT_ITA", "Partita IVA", 11)], "EUR",
     [("Milano", "20121"), ("Roma", "00184"), ("Torino", "10121"), ("Napoli", "80133")]),
    ("ESP", "Spain", [("NIF_ESP", "NIF", 9)], "EUR",
     [("Madrid", "28001"), ("Barcelona", "08001"), ("Valencia", "46001"), ("Sevilla", "41001")]),
    ("GBR", "United Kingdom", [("CRN_GBR", "Company Registration Number", 8)], "GBP",
     [("London", "EC1A 1BB"), ("Manchester", "M1 1AE"), ("Leeds", "LS1 1UR"), ("Bristol", "BS1 4DJ")]),
    ("NLD", "Netherlands", [("KVK_NLD", "KvK-nummer", 8)], "EUR",
     [("Amsterdam", "1012 JS"), ("Rotterdam", "3011 AD"), ("Utrecht", "3511 AB")]),
    ("BEL", "Belgium", [("BCE_BEL", "Numéro d'entreprise", 10)], "EUR",
     [("Bruxelles", "1000"), ("Antwerpen", "2000"), ("Gent", "9000")]),
    ("PRT", "Portugal", [("NIF_PRT", "NIF", 9)], "EUR",
     [("Lisboa", "1100-148"), ("Porto", "4000-322")]),
    ("POL", "Poland", [("NIP_POL", "NIP", 10), ("REGON_POL", "REGON", 9)], "PLN",
     [("Warszawa", "00-001"), ("Kraków", "30-001"), ("Gdańsk", "80-001")]),
    ("USA", "United States", [("EIN_USA", "Employer Identification Number", 9)], "USD",
     [("New York", "10001"), ("Chicago", "60601"), ("Houston", "77001"), ("Miami", "33101")]),
    ("CAN", "Canada", [("BN_CAN", "Business Number", 9)], "CAD",
     [("Toronto", "M5H 2N2"), ("Montréal", "H2Y 1C6"), ("Vancouver", "V6B 1A1")]),
    ("BRA", "Brazil", [("CNPJ_BRA", "CNPJ", 14)], "BRL",
     [("São Paulo", "01000-000"), ("Rio de Janeiro", "20000-000"), ("Curitiba", "80000-000")]),
    ("MEX", "Mexico", [("RFC_MEX", "RFC", 12)], "MXN",
     [("Ciudad de México", "06000"), ("Monterrey", "64000"), ("Guadalajara", "44100")]),
    ("ECU", "Ecuador", [("RUC_ECU", "RUC", 13)], "USD",
     [("Quito", "170150"), ("Guayaquil", "090150")]),
    ("CHN", "China", [("USCC_CHN", "Unified Social Credit Code", 18)], "CNY",
     [("Shanghai", "200000"), ("Beijing", "100000"), ("Shenzhen", "518000")]),
    ("JPN", "Japan", [("CN_JPN", "Corporate Number", 13)], "JPY",
     [("Tokyo", "100-0001"), ("Osaka", "530-0001"), ("Nagoya", "450-0002")]),
    ("IND", "India", [("CIN_IND", "Corporate Identity Number", 12)], "INR",
     [("Mumbai", "400001"), ("Delhi", "110001"), ("Bengaluru", "560001")]),
    ("MAR", "Morocco", [("ICE_MAR", "Identifiant Commun de l'Entreprise", 15)], "MAD",
     [("Casablanca", "20000"), ("Rabat", "10000"), ("Tanger", "90000")]),
    ("TUR", "Turkey", [("VKN_TUR", "Vergi Kimlik Numarası", 10)], "TRY",
     [("İstanbul", "34000"), ("Ankara", "06000"), ("İzmir", "35000")]),
    ("AUS", "Australia", [("ABN_AUS", "Australian Business Number", 11)], "AUD",
     [("Sydney", "2000"), ("Melbourne", "3000"), ("Brisbane", "4000")]),
]

COUNTRY_CODES: list[str] = [c[0] for c in COUNTRIES]
COUNTRY_WEIGHTS: list[int] = [18, 14, 10, 9, 9, 6, 5, 3, 4, 8, 3, 3, 2, 1, 4, 3, 2, 2, 2, 2]

# [DOC] product codes, by notification topic
CREDIT_PRODUCTS = ("ECL", "CREDITLIMIT", "ARATINGLIMIT", "ILU")
SPECIAL_PRODUCTS = ("TOPLINER", "OCL")
OPINION_PRODUCTS = ("CCO",)
SCORING_PRODUCTS = ("ARATING", "SCORECHECK")
MONITORED_PRODUCTS = ("ARATINGCHMON", "SCOREMON", "ARATINGMON")
EDD_PRODUCTS = ("EDD",)
PRODUCT_CODES: tuple[str, ...] = (
    CREDIT_PRODUCTS + SPECIAL_PRODUCTS + OPINION_PRODUCTS + SCORING_PRODUCTS + MONITORED_PRODUCTS + EDD_PRODUCTS
)
# How often each product is ordered (same order as PRODUCT_CODES)
PRODUCT_WEIGHTS: list[int] = [12, 30, 8, 5, 3, 3, 4, 6, 6, 3, 5, 4, 4]
COVER_PRODUCTS = CREDIT_PRODUCTS + SPECIAL_PRODUCTS  # products that carry an insured amount

# [DOC] delivery statuses
DELIVERY_STATUSES = (
    "CANCELLED", "DECIDED_FULL", "DECIDED_PARTIAL", "DECIDED_REFUSED", "EXPIRED", "REDUCED", "WITHDRAWN",
    "UNDER_WITHDRAWAL", "UNDER_CANCELLATION", "DELIVERED", "STATUS_FULLFILLED", "STATUS_REPLACED",
)
# docs/contracts.md: a product whose last decision has one of these is active and always listed
ACTIVE_DELIVERY_STATUSES = frozenset(
    {"DECIDED_FULL", "DECIDED_PARTIAL", "REDUCED", "UNDER_WITHDRAWAL", "UNDER_CANCELLATION"}
)

# [DOC] order statuses
ORDER_STATUSES = (
    "STATUS_CLOSED", "STATUS_STARTED", "STATUS_REJECTED", "STATUS_ANNULED",
    "STATUS_PENDING_COMPLEMENTARY_INFORMATION", "STATUS_PENDING_DEBTOR_VALIDATION",
    "STATUS_PENDING_ON_HOLD", "STATUS_PENDING_UNDERWRITING",
)
PENDING_ORDER_STATUSES = frozenset(
    {"STATUS_STARTED", "STATUS_PENDING_COMPLEMENTARY_INFORMATION", "STATUS_PENDING_DEBTOR_VALIDATION",
     "STATUS_PENDING_ON_HOLD", "STATUS_PENDING_UNDERWRITING"}
)

# docs/contracts.md overdue statuses and debt types [DOC]
OVERDUE_STATUSES = ("PENDING", "PENDING_DEBTOR_VALIDATION", "IN_PROGRESS", "INDEMNIFIED", "REJECTED", "CLOSED")
DEBT_TYPES = ("CI", "NGD")
NON_PAYMENT_REASONS = ("FINANCIAL_DIFFICULTIES", "DISPUTE", "NO_REASON_GIVEN", "INSOLVENCY", "LATE_PAYMENT")
PAYMENT_KINDS = ("PAYMENT", "CREDIT_NOTE", "SETTLEMENT")
DOCUMENT_MEDIA_TYPES = (
    ("pdf", "application/pdf"), ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), ("png", "image/png"),
    ("jpg", "image/jpeg"), ("doc", "application/msword"), ("xls", "application/vnd.ms-excel"), ("gif", "image/gif"),
)
DOCUMENT_STEMS = ("invoice", "statement-of-account", "sales-contract", "shipping-document", "purchase-order",
                  "reminder-letter", "delivery-note", "correspondence")

REJECTION_REASONS = (
    ("R01", "Product not allowed by the contract for this buyer"),
    ("R02", "Buyer is a branch: order on the head office"),
    ("R03", "Debtor could not be identified"),
    ("R04", "Duplicate request"),
)
DECISION_CONDITIONS = (
    ("C01", "Subject to a retention of title clause"),
    ("C02", "Maximum credit period 60 days"),
    ("C03", "Subject to a bank guarantee"),
    ("C04", "Payment terms cash against documents"),
)

NAME_FIRST = ("Atlas", "Boreal", "Cobalt", "Delta", "Ember", "Fjord", "Granite", "Helix", "Iris", "Juniper",
              "Kestrel", "Lumen", "Meridian", "Nimbus", "Orion", "Pioneer", "Quartz", "Riviera", "Sierra",
              "Tundra", "Umbra", "Vertex", "Willow", "Xenon", "Yarrow", "Zenith", "Alder", "Beacon",
              "Cedar", "Dune", "Echo", "Falcon", "Garnet", "Harbor", "Indigo", "Jasper")
NAME_SECOND = ("Steel", "Foods", "Logistics", "Textiles", "Chemicals", "Motors", "Pharma", "Energy", "Timber",
               "Plastics", "Electronics", "Packaging", "Agro", "Trading", "Ceramics", "Paper", "Glass",
               "Machinery", "Marine", "Retail", "Optics", "Cables", "Dairy", "Wines")
NAME_SUFFIX = {"FRA": "SAS", "DEU": "GmbH", "ITA": "S.p.A.", "ESP": "S.L.", "GBR": "Ltd", "NLD": "B.V.",
               "BEL": "SA", "PRT": "Lda", "POL": "Sp. z o.o.", "USA": "Inc.", "CAN": "Inc.", "BRA": "Ltda",
               "MEX": "S.A. de C.V.", "ECU": "S.A.", "CHN": "Co., Ltd.", "JPN": "K.K.", "IND": "Pvt Ltd",
               "MAR": "SARL", "TUR": "A.Ş.", "AUS": "Pty Ltd"}
STREETS = ("Main Street", "Harbour Road", "Industrial Park", "Station Avenue", "Market Square", "Mill Lane",
           "Commerce Way", "River Road", "Airport Boulevard", "Church Street")
