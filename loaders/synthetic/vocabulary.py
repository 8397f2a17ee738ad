"""The raw material of the synthetic marketplace: names, places, card ranges, network prefixes.

Nothing here is random; the generator draws from these pools with its seeded generators.
Card ranges are test ranges (no real issuer), IP prefixes are grouped so that residential,
carrier-NAT, campus/café and hosting addresses never overlap.
"""

from __future__ import annotations

import numpy as np


def _words(text: str) -> np.ndarray:
    return np.array(text.split())


FIRST_NAMES = _words(
    """james mary john patricia robert jennifer michael linda william elizabeth david barbara
    richard susan joseph jessica thomas sarah charles karen christopher lisa daniel nancy matthew
    betty anthony margaret mark sandra donald ashley steven kimberly paul emily andrew donna joshua
    michelle kenneth carol kevin amanda brian melissa george deborah timothy stephanie ronald
    rebecca edward sharon jason laura jeffrey cynthia ryan kathleen jacob amy gary angela nicholas
    shirley eric anna jonathan brenda stephen pamela larry emma justin nicole scott helen brandon
    samantha benjamin katherine samuel christine gregory rachel frank carolyn patrick janet raymond
    maria dennis heather tyler diane aaron julie jose olivia adam joyce nathan victoria henry
    kelly zachary lauren peter megan kyle noah evelyn ethan priya wei mohammed fatima hiroshi
    yuki carlos lucia ahmed aisha"""
)
LAST_NAMES = _words(
    """smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez
    gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white harris
    sanchez clark ramirez lewis robinson walker young allen king wright scott torres nguyen hill
    flores green adams nelson baker hall rivera campbell mitchell carter roberts gomez phillips
    evans turner diaz parker cruz edwards collins reyes stewart morris morales murphy cook rogers
    gutierrez ortiz morgan cooper peterson bailey reed kelly howard ramos kim cox ward richardson
    watson brooks chavez wood bennett gray mendoza ruiz hughes price alvarez castillo sanders
    patel myers long ross foster jimenez powell jenkins perry russell sullivan bell coleman butler
    henderson barnes fisher vasquez simmons romero patterson hamilton graham reynolds griffin
    wallace moreno west cole hayes bryant herrera gibson ellis tran medina"""
)
PROVIDERS = _words(
    "gmail.com yahoo.com outlook.com hotmail.com icloud.com aol.com proton.me comcast.net"
)

STREETS = _words(
    """Oak Maple Pine Cedar Elm Washington Lake Hill Park Main Church Walnut Spruce Willow Sunset
    Highland Jackson Lincoln Madison Franklin Jefferson Adams Chestnut River Meadow Forest Ridge
    Valley Spring Cherry Birch Dogwood Magnolia Poplar Sycamore Laurel Holly Hickory Aspen Juniper
    Mill Union Center Broad Market Front Water Bridge Prospect Grove Orchard Summit Fairview
    Lakeview Woodland Hillcrest Pleasant Cambridge Oxford Greenwood Kingston Lexington Wilson
    Harrison Monroe Taylor Hamilton Warren Clinton Grant Sheridan Garfield Cleveland Pierce Vernon
    Colonial Heritage Riverside Canyon Mesa"""
)
STREET_TYPES = _words("Street Avenue Road Boulevard Lane Drive Court Place Terrace Parkway")
STREET_ABBREVIATIONS = _words("St Ave Rd Blvd Ln Dr Ct Pl Ter Pkwy")
UNIT_LETTERS = np.array(["", "A", "B", "C", "D"])
#: City, state, first ZIP code of the city (an address adds 0-9 to it).
CITIES = (
    ("Springfield", "IL", 62704), ("Portland", "OR", 97205), ("Austin", "TX", 78701),
    ("Columbus", "OH", 43215), ("Denver", "CO", 80202), ("Seattle", "WA", 98101),
    ("Phoenix", "AZ", 85004), ("Atlanta", "GA", 30303), ("Boston", "MA", 2108),
    ("Chicago", "IL", 60601), ("Miami", "FL", 33130), ("Nashville", "TN", 37203),
    ("Raleigh", "NC", 27601), ("Madison", "WI", 53703), ("Omaha", "NE", 68102),
    ("Tucson", "AZ", 85701), ("Fresno", "CA", 93721), ("Sacramento", "CA", 95814),
    ("San Diego", "CA", 92101), ("Oakland", "CA", 94612), ("Salt Lake City", "UT", 84101),
    ("Boise", "ID", 83702), ("Albuquerque", "NM", 87102), ("Kansas City", "MO", 64105),
    ("St. Louis", "MO", 63101), ("Minneapolis", "MN", 55401), ("Milwaukee", "WI", 53202),
    ("Detroit", "MI", 48226), ("Cleveland", "OH", 44113), ("Pittsburgh", "PA", 15222),
    ("Philadelphia", "PA", 19103), ("Baltimore", "MD", 21202), ("Richmond", "VA", 23219),
    ("Charlotte", "NC", 28202), ("Orlando", "FL", 32801), ("Tampa", "FL", 33602),
    ("New Orleans", "LA", 70112), ("Dallas", "TX", 75201), ("Houston", "TX", 77002),
    ("Las Vegas", "NV", 89101),
)  # fmt: skip
CITY_NAMES = np.array([name for name, _, _ in CITIES])
CITY_STATES = np.array([state for _, state, _ in CITIES])
CITY_ZIPS = np.array([code for _, _, code in CITIES])
WAREHOUSES = (
    "Marketplace Fulfillment Center ONT8, 24300 Nandina Ave, Moreno Valley, CA 92551",
    "Marketplace Fulfillment Center DFW7, 700 Westport Pkwy, Fort Worth, TX 76177",
    "Marketplace Fulfillment Center BWI2, 2010 Broening Hwy, Baltimore, MD 21224",
    "Marketplace Fulfillment Center PHX6, 4750 W Mohave St, Phoenix, AZ 85043",
    "Marketplace Fulfillment Center MDW2, 250 Emerald Dr, Joliet, IL 60433",
)
LOCKER_BRANDS = ("QuickBox", "ParcelPoint", "LockerHub", "PickUp Station")

#: Test card ranges and their brands; the ranges are spread evenly over cards.
CARD_BINS = (
    ("424242", "Visa"), ("400000", "Visa"), ("401288", "Visa"), ("455673", "Visa"),
    ("555555", "Mastercard"), ("510510", "Mastercard"), ("222300", "Mastercard"),
    ("520082", "Mastercard"), ("378282", "Amex"), ("371449", "Amex"),
    ("601111", "Discover"), ("601100", "Discover"),
)  # fmt: skip
BIN_DIGITS = np.array([[int(digit) for digit in prefix] for prefix, _ in CARD_BINS])
BIN_BRANDS = np.array([brand for _, brand in CARD_BINS], dtype=object)
BIN_IS_AMEX = BIN_BRANDS == "Amex"

AREA_CODES = np.array(
    [201, 206, 212, 213, 214, 215, 303, 305, 310, 312, 313, 404, 407, 415, 425, 503, 504, 512,
     602, 612, 614, 615, 617, 619, 702, 704, 713, 718, 720, 786, 801, 813, 816, 818, 832, 858,
     901, 916, 919, 972]
)  # fmt: skip
#: Exchanges 200-299 are kept for rings' virtual-number blocks, so they never hit a real user.
BACKGROUND_EXCHANGES = np.array([e for e in range(300, 1000) if e % 100 != 11 and e != 555])
RING_EXCHANGES = np.array([e for e in range(200, 300) if e != 211])

#: /8 prefixes of home broadband; /16 prefixes of carrier NAT, campus/café Wi-Fi and hosting.
RESIDENTIAL_PREFIXES = np.array([24, 50, 66, 67, 68, 69, 70, 71, 73, 75, 76, 96, 97, 98])
NAT_PREFIXES = np.array([[172, 56], [172, 58], [172, 59], [172, 62], [107, 77], [107, 115],
                         [166, 137], [174, 205], [174, 226], [166, 170]])  # fmt: skip
CAFE_PREFIXES = np.array([[128, 32], [129, 79], [130, 126], [131, 215], [136, 152], [141, 212],
                          [152, 3], [155, 246], [128, 148], [199, 111]])  # fmt: skip
PROXY_PREFIXES = np.array([[45, 133], [45, 87], [185, 220], [185, 107], [193, 32], [194, 87],
                           [91, 219], [103, 152], [5, 188], [51, 158]])  # fmt: skip

CREATOR_WORDS = (
    _words("Luna Urban Golden Wild Cozy Bold Pure Happy Velvet Sunny Coastal Little Modern Rustic"),
    _words("Beauty Threads Kitchen Fitness Gadgets Style Home Crafts Pets Gaming Glow Outdoors"),
    np.array(["", " Co", " Studio", " Shop", " Lab", " Club", " Daily", " Finds"]),
)

#: Values a broken export holds instead of a timestamp, an email or a phone number.
BAD_VALUES: dict[str, tuple[str, ...]] = {
    "time": ("2025-02-30T10:00:00Z", "13/45/2025 10:22", "not a date", "2024-07-0T1:2:3Z"),
    "email": ("jsmith.gmail.com", "maria@", "@yahoo.com", "a b@c d.com", "kim@@outlook.com"),
    "phone": ("12345", "555-CALL-NOW", "+1 (000) 000-0000", "n/a", "99"),
    "token": ("N/A", "unknown", "null", "-"),
}

# --- Southeast-Asian markets ---------------------------------------------------------------
# Street names and areas are real places, paired at random: an address is a made-up place in a
# real city. Each area is (sub-area, district, city, province, postcode); Singapore needs none,
# its six-digit postcode names the building.

#: Markets the generator renders, in the order their indices appear in the code; US first.
MARKETS = ("US", "ID", "MY", "TH", "VN", "PH", "SG")
#: Share of accounts and addresses per market, per ``locale`` option of the generator.
LOCALES: dict[str, tuple[float, ...]] = {
    "us": (1, 0, 0, 0, 0, 0, 0),
    "sea": (0, 0.5, 0.12, 0.12, 0.1, 0.1, 0.06),
    **{
        market.lower(): tuple(float(market == other) for other in MARKETS) for market in MARKETS[1:]
    },
}
#: Calling code, then national-significant-number prefixes of mobile plans; a number is a
#: prefix, an "exchange" of three digits and a line of four (ID adds one digit after the
#: prefix). Exchanges 300-989 are everyone's, 200-299 rings' virtual blocks.
MOBILE_PLANS: dict[str, tuple[int, tuple[str, ...]]] = {
    "ID": (62, ("812", "813", "821", "822", "852", "853", "857", "858", "878", "895", "896")),
    "MY": (60, ("12", "13", "14", "16", "17", "19")),
    "TH": (66, ("81", "82", "83", "84", "86", "89", "61", "62", "63", "64", "65", "91", "92")),
    "VN": (84, ("91", "90", "93", "94", "96", "97", "98", "32", "33", "34", "35", "36", "37")),
    "PH": (63, ("917", "918", "919", "920", "921", "927", "928", "929", "905", "906", "915")),
    "SG": (65, ("9", "8", "6")),
}
SEA_BACKGROUND_EXCHANGES = np.arange(300, 990)

SEA_STREETS: dict[str, np.ndarray] = {
    "ID": _words(
        """Sudirman Thamrin Gatot_Subroto Rasuna_Said Kuningan Kemang_Raya Fatmawati Panglima_Polim
        Melati Mawar Anggrek Kenanga Cempaka Flamboyan Dahlia Kebon_Jeruk Kebon_Sirih Cikini_Raya
        Diponegoro Imam_Bonjol Pemuda Ahmad_Yani Veteran Merdeka Asia_Afrika Dago Braga Pahlawan
        Gajah_Mada Hayam_Wuruk Mangga_Besar Pintu_Air Raden_Saleh Salemba_Raya Tebet_Raya
        Margonda_Raya Juanda Siliwangi Cendana Kamboja Teratai Nusa_Indah Pinang Kelapa_Dua"""
    ),
    "MY": _words(
        """Bukit_Bintang Ampang Tun_Razak Sultan_Ismail Raja_Chulan Pudu Imbi Ceylon Alor
        Petaling Sultan Tun_Perak Masjid_India Kuching Ipoh Klang_Lama Kelang_Lama Cheras
        Damansara Bangsar Telawi Maarof Universiti Gasing Harmoni Bunga_Raya Mawar
        Melur Kenanga Cempaka Seri_Putra Setia_Jaya Kemuning Puchong Kinrara Dedap Merbau"""
    ),
    "TH": _words(
        """Sukhumvit Silom Sathorn Rama_IV Rama_IX Phetchaburi Ratchadaphisek Lat_Phrao
        Phahonyothin Charoen_Krung Ekkamai Thonglor Ari Pracha_Uthit Ramkhamhaeng Bang_Na
        Srinakarin Chaeng_Watthana Ngam_Wong_Wan Nimmanhaemin Huay_Kaew Chang_Klan Thepprasit"""
    ),
    "VN": np.array(
        """Lê_Lợi Nguyễn_Huệ Hai_Bà_Trưng Lý_Tự_Trọng Pasteur Điện_Biên_Phủ Cách_Mạng_Tháng_Tám
        Nguyễn_Thị_Minh_Khai Trần_Hưng_Đạo Võ_Văn_Tần Nam_Kỳ_Khởi_Nghĩa Lê_Văn_Sỹ Phan_Xích_Long
        Hoàng_Văn_Thụ Bạch_Đằng Nguyễn_Trãi Lý_Thường_Kiệt Trần_Phú Hùng_Vương
        Quang_Trung""".split()
    ),
    "PH": _words(
        """Sampaguita Ilang-Ilang Rosal Camia Dama_de_Noche Acacia Narra Molave Mahogany Ipil
        Sunflower Orchid Jasmine Everlasting Gumamela Champaca Kamagong Yakal Apitong Banaba"""
    ),
    "SG": _words(
        """Ang_Mo_Kio Bedok_North Tampines Jurong_West Yishun Toa_Payoh Bukit_Batok Woodlands
        Hougang Sengkang Pasir_Ris Clementi Serangoon_North Choa_Chu_Kang Bishan Punggol"""
    ),
}
SEA_AREAS: dict[str, tuple[tuple[str, str, str, str, int], ...]] = {
    "ID": (
        ("Karet", "Setiabudi", "Jakarta Selatan", "DKI Jakarta", 12920),
        ("Kuningan Timur", "Setiabudi", "Jakarta Selatan", "DKI Jakarta", 12950),
        ("Pela Mampang", "Mampang Prapatan", "Jakarta Selatan", "DKI Jakarta", 12720),
        ("Cilandak Barat", "Cilandak", "Jakarta Selatan", "DKI Jakarta", 12430),
        ("Kebon Jeruk", "Kebon Jeruk", "Jakarta Barat", "DKI Jakarta", 11530),
        ("Cengkareng Barat", "Cengkareng", "Jakarta Barat", "DKI Jakarta", 11730),
        ("Cikini", "Menteng", "Jakarta Pusat", "DKI Jakarta", 10330),
        ("Kelapa Gading Barat", "Kelapa Gading", "Jakarta Utara", "DKI Jakarta", 14240),
        ("Duren Sawit", "Duren Sawit", "Jakarta Timur", "DKI Jakarta", 13440),
        ("Dago", "Coblong", "Bandung", "Jawa Barat", 40135),
        ("Sukajadi", "Sukajadi", "Bandung", "Jawa Barat", 40162),
        ("Margonda", "Pancoran Mas", "Depok", "Jawa Barat", 16431),
        ("Bekasi Jaya", "Bekasi Timur", "Bekasi", "Jawa Barat", 17112),
        ("Cikokol", "Tangerang", "Tangerang", "Banten", 15117),
        ("Gubeng", "Gubeng", "Surabaya", "Jawa Timur", 60281),
        ("Darmo", "Wonokromo", "Surabaya", "Jawa Timur", 60241),
        ("Pleburan", "Semarang Selatan", "Semarang", "Jawa Tengah", 50241),
        ("Terban", "Gondokusuman", "Yogyakarta", "DI Yogyakarta", 55223),
        ("Dauh Puri", "Denpasar Barat", "Denpasar", "Bali", 80113),
        ("Petisah Tengah", "Medan Petisah", "Medan", "Sumatera Utara", 20112),
    ),
    "MY": (
        ("Taman Maju", "", "Kuala Lumpur", "Wilayah Persekutuan", 55100),
        ("Taman Tun Dr Ismail", "", "Kuala Lumpur", "Wilayah Persekutuan", 60000),
        ("Taman Desa", "", "Kuala Lumpur", "Wilayah Persekutuan", 58100),
        ("Taman Megah", "", "Petaling Jaya", "Selangor", 47301),
        ("Taman Sea", "", "Petaling Jaya", "Selangor", 47400),
        ("Taman Sri Muda", "", "Shah Alam", "Selangor", 40400),
        ("Taman Pelangi", "", "Johor Bahru", "Johor", 80400),
        ("Taman Molek", "", "Johor Bahru", "Johor", 81100),
        ("Taman Lip Sin", "", "George Town", "Pulau Pinang", 11900),
        ("Taman Canning", "", "Ipoh", "Perak", 31400),
        ("Taman Kingfisher", "", "Kota Kinabalu", "Sabah", 88450),
        ("Taman BDC", "", "Kuching", "Sarawak", 93350),
    ),
    "TH": (
        ("Khlong Toei Nuea", "Watthana", "Bangkok", "Bangkok", 10110),
        ("Khlong Tan Nuea", "Watthana", "Bangkok", "Bangkok", 10110),
        ("Silom", "Bang Rak", "Bangkok", "Bangkok", 10500),
        ("Chatuchak", "Chatuchak", "Bangkok", "Bangkok", 10900),
        ("Huai Khwang", "Huai Khwang", "Bangkok", "Bangkok", 10310),
        ("Bang Na Nuea", "Bang Na", "Bangkok", "Bangkok", 10260),
        ("Suthep", "Mueang Chiang Mai", "Chiang Mai", "Chiang Mai", 50200),
        ("Chang Khlan", "Mueang Chiang Mai", "Chiang Mai", "Chiang Mai", 50100),
        ("Nong Prue", "Bang Lamung", "Pattaya", "Chon Buri", 20150),
        ("Talat Yai", "Mueang Phuket", "Phuket", "Phuket", 83000),
        ("Bang Kraso", "Mueang Nonthaburi", "Nonthaburi", "Nonthaburi", 11000),
    ),
    "VN": (
        ("Bến Nghé", "1", "Hồ Chí Minh", "", 70000),
        ("Bến Thành", "1", "Hồ Chí Minh", "", 70000),
        ("Đa Kao", "1", "Hồ Chí Minh", "", 70000),
        ("5", "3", "Hồ Chí Minh", "", 70000),
        ("7", "3", "Hồ Chí Minh", "", 70000),
        ("12", "10", "Hồ Chí Minh", "", 70000),
        ("22", "Bình Thạnh", "Hồ Chí Minh", "", 70000),
        ("Tân Định", "1", "Hồ Chí Minh", "", 70000),
        ("Hàng Bạc", "Hoàn Kiếm", "Hà Nội", "", 10000),
        ("Tràng Tiền", "Hoàn Kiếm", "Hà Nội", "", 10000),
        ("Kim Mã", "Ba Đình", "Hà Nội", "", 10000),
        ("Thạch Thang", "Hải Châu", "Đà Nẵng", "", 50000),
    ),
    "PH": (
        ("San Isidro", "", "Antipolo City", "Rizal", 1870),
        ("Dela Paz", "", "Antipolo City", "Rizal", 1870),
        ("Bagong Silangan", "", "Quezon City", "Metro Manila", 1119),
        ("Commonwealth", "", "Quezon City", "Metro Manila", 1121),
        ("Poblacion", "", "Makati City", "Metro Manila", 1210),
        ("San Antonio", "", "Pasig City", "Metro Manila", 1605),
        ("Lahug", "", "Cebu City", "Cebu", 6000),
        ("Talamban", "", "Cebu City", "Cebu", 6000),
        ("Buhangin", "", "Davao City", "Davao del Sur", 8000),
        ("Salitran", "", "Dasmariñas", "Cavite", 4114),
    ),
}
#: How a Southeast-Asian address may spell the country after it.
SEA_COUNTRY_NAMES = {
    "ID": "Indonesia",
    "MY": "Malaysia",
    "TH": "Thailand",
    "VN": "Việt Nam",
    "PH": "Philippines",
    "SG": "Singapore",
}
#: Singapore street types (full, abbreviated).
SG_STREET_TYPES = (("Avenue", "Ave"), ("Street", "St"), ("Road", "Rd"), ("Drive", "Dr"))
