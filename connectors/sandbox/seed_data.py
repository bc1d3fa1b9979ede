"""Word lists for the dummy South African books (names, places, products, people).

All names are invented combinations; domains live under example.co.za so no message can ever
reach a real business.
"""

from __future__ import annotations

PREFIXES = ["Karoo", "Umhlanga", "Table Bay", "Drakensberg", "Highveld", "Limpopo", "Soweto",
            "Stellenbosch", "Kalahari", "Protea", "Baobab", "Springbok", "Fynbos", "Mzansi",
            "Jacaranda", "Ndlovu", "Boland", "Zululand", "Garden Route", "Cederberg", "Magaliesberg",
            "Lowveld", "Wild Coast", "Namaqua", "Amatola", "Tsitsikamma", "Pilanesberg", "Vaal",
            "Berea", "Hout Bay"]
INDUSTRIES = ["Outdoor Supplies", "Dental Studio", "Engineering", "Logistics", "Bakery", "Vineyards",
              "Solar Solutions", "Printing", "Security Services", "Consulting", "Auto Repairs",
              "Pharmacy", "Catering", "Plumbing", "Architects", "Fitness Club", "IT Solutions",
              "Game Lodge", "Coffee Roasters", "Textiles", "Hardware", "Veterinary Clinic", "Events",
              "Electrical", "Farm Supplies"]
SUFFIXES = ["(Pty) Ltd", "(Pty) Ltd", "(Pty) Ltd", "CC", "", "Trading (Pty) Ltd"]
AREAS = ["Sandton", "Rosebank", "Bellville", "Claremont", "Ballito", "Westville", "Midrand",
         "Fourways", "Durbanville", "Pinetown", "Randburg", "Somerset West", "Centurion",
         "Umhlanga Ridge", "Observatory", "Braamfontein", "Muizenberg", "Hillcrest", "Boksburg",
         "Parow"]

# city, province, postal code range, phone area code, streets
CITIES = [
    ("Johannesburg", "Gauteng", (2000, 2199), "011",
     ["Rivonia Road", "Jan Smuts Avenue", "Oxford Road", "Commissioner Street", "Louis Botha Avenue"]),
    ("Cape Town", "Western Cape", (7700, 8099), "021",
     ["Long Street", "Bree Street", "Main Road", "Kloof Street", "Voortrekker Road"]),
    ("Durban", "KwaZulu-Natal", (4000, 4099), "031",
     ["Florida Road", "Anton Lembede Street", "Musgrave Road", "Umhlanga Rocks Drive", "Point Road"]),
    ("Pretoria", "Gauteng", (1, 199), "012",
     ["Church Street", "Lynnwood Road", "Duncan Street", "Atterbury Road"]),
    ("Stellenbosch", "Western Cape", (7599, 7613), "021",
     ["Dorp Street", "Bird Street", "Merriman Avenue"]),
]
CITY_WEIGHTS = [35, 30, 20, 10, 5]

# foreign customers invoiced in USD (exports, zero-rated): city, country, phone prefix
FOREIGN = [("Windhoek", "Namibia", "+264 61"), ("Gaborone", "Botswana", "+267 39"),
           ("Nairobi", "Kenya", "+254 20"), ("Austin", "United States", "+1 512"),
           ("London", "United Kingdom", "+44 20")]

FIRST_NAMES = ["Thabo", "Naledi", "Sipho", "Johan", "Pieter", "Ayesha", "Priya", "Lerato", "Zanele",
               "Ruan", "Kagiso", "Anele", "Mpho", "Chantal", "Riaan", "Nomvula", "Bongani",
               "Fatima", "Karabo", "Elna", "Themba", "Lindiwe", "Sizwe", "Megan", "Dineo"]
LAST_NAMES = ["Nkosi", "Dlamini", "van der Merwe", "Botha", "Naidoo", "Pillay", "Mokoena",
              "Khumalo", "Pretorius", "Ndlovu", "Petersen", "Jacobs", "Mahlangu", "Govender",
              "Steyn", "Mthembu", "Adams", "Venter", "Zulu", "Coetzee"]
JOB_TITLES = ["Financial Manager", "Owner", "Procurement Officer", "Operations Manager", "Bookkeeper"]

# sku, name, price in ZAR, HubSpot tax rate group, weight
PRODUCTS = [
    ("TENT-BELL-5M", "Canvas bell tent 5 m", "8999.00", "1", 6),
    ("CHAIR-CAMP", "Folding camp chair", "649.00", "1", 8),
    ("COOLER-45L", "45 L cooler box", "1899.00", "1", 6),
    ("SOLAR-200W", "200 W solar panel", "2450.00", "1", 6),
    ("INVERTER-5KVA", "5 kVA hybrid inverter", "18500.00", "1", 3),
    ("INSTALL-HOUR", "Installation labour (hour)", "650.00", "1", 6),
    ("CONSULT-HOUR", "Consulting (hour)", "1250.00", "1", 6),
    ("SUPPORT-ANNUAL", "Annual support plan", "12000.00", "1", 3),
    ("DELIVERY-LOCAL", "Local delivery", "450.00", "1", 6),
    ("BREAD-BROWN-20", "Brown bread loaves (crate of 20)", "340.00", "2", 2),
    ("MAIZE-10KG", "Maize meal 10 kg", "129.90", "2", 2),
    ("PARAFFIN-20L", "Illuminating paraffin 20 L", "560.00", "2", 1),
    ("TRAINING-COURSE", "Accredited training course (per learner)", "4500.00", "3", 2),
    ("PASSENGER-TRIP", "Passenger transport (per trip)", "350.00", "3", 1),
]
HOURLY = {"INSTALL-HOUR", "CONSULT-HOUR"}
TAX_LABELS = {"1": "VAT 15%", "2": "Zero-rated", "3": "Exempt", "4": "Zero-rated export"}

XERO_SUPPLIERS = ["Cape Stationers (Pty) Ltd", "Highveld Couriers CC"]
