"""The QuickBooks Online company of a South African SME, written straight into emulator state.

`setup_company` gives every emulated company what QBO's South African edition has before anyone
types a transaction: home currency ZAR with multicurrency on and USD enabled, VAT codes for the
15 % standard rate, zero-rated, exempt and zero-rated exports — plus the superseded 14 % code,
still present but INACTIVE, so a connector that hard-codes rates or forgets `Active` is caught —
each TaxCode linked to its TaxRate through `SalesTaxRateList`, a purchases-only code (no sales
rate list: not a sales tax code), payment terms, income accounts and the items "Services" (Id 1,
as in a new QBO company) and "Products".

`seed_quickbooks` adds the customers that already exist in the books: the same five South African
companies the Xero seed (connectors/sandbox/seed.py) puts in Xero, one of them captured by hand
under a slightly different name. Like the Xero seed, which sets no ContactNumber on them, they
carry no CRM id (`AcctNum`): matching must find them by name, VAT number or e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connectors.sandbox.xero_reference import ZAR_PER_USD

if TYPE_CHECKING:  # pragma: no cover
    from connectors.sandbox.hubspot_state import HubSpotState
    from connectors.sandbox.quickbooks_books import QuickBooksBooks
    from connectors.sandbox.quickbooks_state import QuickBooksState

COMPANY_NAME = "Karoo Trading Demo (Pty) Ltd"
# (name, rate, active, description); the sales and purchase rates of each code
TAX_RATES = [
    ("VAT 15% (sales)", "15", True, "Standard-rated supplies"),
    ("VAT 15% (purchases)", "15", True, "Standard-rated acquisitions"),
    ("Zero-rated (sales)", "0", True, "Zero-rated local supplies"),
    ("Exempt (sales)", "0", True, "Exempt supplies"),
    ("Zero-rated exports (sales)", "0", True, "Exported goods and services"),
    ("VAT 14% (sales)", "14", False, "Superseded on 1 April 2018"),
]
# (name, description, sales rate names, purchase rate names, active)
TAX_CODES = [
    ("Standard rated (15%)", "VAT at the standard rate", ["VAT 15% (sales)"], ["VAT 15% (purchases)"], True),
    ("Zero-rated", "Zero-rated local supplies", ["Zero-rated (sales)"], [], True),
    ("Exempt", "Exempt from VAT", ["Exempt (sales)"], [], True),
    ("Zero-rated exports", "Exports, zero-rated", ["Zero-rated exports (sales)"], [], True),
    ("Standard rated (14%)", "The rate before April 2018", ["VAT 14% (sales)"], [], False),
    ("Standard rated purchases (15%)", "Input VAT only", [], ["VAT 15% (purchases)"], True),
]
TERMS = [("Due on receipt", 0), ("Net 7", 7), ("Net 30", 30), ("Net 60", 60)]


@dataclass
class QuickBooksSeedReport:
    customers: list[str] = field(default_factory=list)
    tax_codes: dict[str, str] = field(default_factory=dict)  # name -> Id
    items: dict[str, str] = field(default_factory=dict)


def _add(books: "QuickBooksBooks", entity: str, **fields: Any) -> dict[str, Any]:
    return books.save(entity, dict(fields), created=True)


def setup_company(books: "QuickBooksBooks", created: datetime | None = None) -> None:
    """Company settings, currencies, VAT codes, terms, accounts and items (idempotent: only on an
    empty company)."""
    if books.records["TaxCode"]:
        return
    services = _add(books, "Item", Name="Services", Type="Service", Active=True, Taxable=True,
                    FullyQualifiedName="Services", Description="Services")
    products = _add(books, "Item", Name="Products", Type="NonInventory", Active=True, Taxable=True,
                    FullyQualifiedName="Products", Description="Goods sold")
    accounts = {}
    for name, kind, sub in (("Services income", "Income", "ServiceFeeIncome"),
                            ("Sales", "Income", "SalesOfProductIncome"),
                            ("Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable"),
                            ("Undeposited Funds", "Other Current Asset", "UndepositedFunds"),
                            ("VAT Control", "Other Current Liability", "GlobalTaxPayable")):
        accounts[name] = _add(books, "Account", Name=name, FullyQualifiedName=name, Active=True,
                              AccountType=kind, AccountSubType=sub, CurrencyRef={"value": "ZAR"},
                              Classification="Revenue" if kind == "Income" else "Asset")
    services_income = accounts["Services income"]
    rates = {}
    for name, value, active, description in TAX_RATES:
        rates[name] = _add(books, "TaxRate", Name=name, Description=description, Active=active,
                           RateValue=Decimal(value), AgencyRef={"value": "1"},
                           SpecialTaxType="ZERO_RATE" if value == "0" else "NONE",
                           DisplayType="ReadOnly")
    codes = {}
    for name, description, sales, purchases, active in TAX_CODES:
        record: dict[str, Any] = {"Name": name, "Description": description, "Active": active,
                                  "Hidden": False, "Taxable": True, "TaxGroup": False}
        for key, names in (("SalesTaxRateList", sales), ("PurchaseTaxRateList", purchases)):
            record[key] = {"TaxRateDetail": [
                {"TaxRateRef": {"value": rates[n]["Id"], "name": n}, "TaxTypeApplicable": "TaxOnAmount",
                 "TaxOrder": 0} for n in names]}
        codes[name] = books.save("TaxCode", record, created=True)
    standard = codes["Standard rated (15%)"]
    for item, account in ((services, services_income), (products, accounts["Sales"])):
        item["IncomeAccountRef"] = {"value": account["Id"], "name": account["Name"]}
        item["SalesTaxCodeRef"] = {"value": standard["Id"], "name": standard["Name"]}
        books.save("Item", item)
    terms = {days: _add(books, "Term", Name=name, Active=True, Type="STANDARD", DueDays=days)
             for name, days in TERMS}
    _add(books, "CompanyCurrency", Code="USD", Name="United States Dollar", Active=True,
         _rate=ZAR_PER_USD)
    start = (created or datetime(2016, 3, 1)).date().isoformat()
    books.save("CompanyInfo", {
        "Id": "1", "CompanyName": COMPANY_NAME, "LegalName": COMPANY_NAME, "Country": "ZA",
        "CompanyAddr": {"Line1": "14 Loop Street", "City": "Cape Town", "CountrySubDivisionCode": "WC",
                        "PostalCode": "8001", "Country": "ZA"},
        "CompanyStartDate": start, "FiscalYearStartMonth": "March", "SupportedLanguages": "en",
        "DefaultTimeZone": "Africa/Johannesburg", "PrimaryPhone": {"FreeFormNumber": "+27 21 555 0142"},
        "NameValue": [{"Name": "OfferingSku", "Value": "QuickBooks Online Plus"}]}, created=True)
    books.save("Preferences", {
        "Id": "1",
        "CurrencyPrefs": {"MultiCurrencyEnabled": True, "HomeCurrency": {"value": "ZAR"}},
        "SalesFormsPrefs": {"CustomTxnNumbers": True, "AllowDiscount": True, "AutoApplyCredit": False,
                            "AutoApplyPayments": False,
                            "DefaultTerms": {"value": terms[30]["Id"], "name": "Net 30"}},
        "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": True}}, created=True)


def seed_quickbooks(state: "QuickBooksState", *, seed: int = 42, deals: int = 60,
                    hubspot: "HubSpotState | None" = None, now: datetime | None = None) -> QuickBooksSeedReport:
    """Add the pre-existing customers (deterministic for `seed`, `deals` and `now`'s day).

    `hubspot`: an already seeded CRM emulator to take the companies from; without one the CRM side
    is seeded privately with the same arguments `start_sandboxes` uses, so the same companies come out.
    """
    if hubspot is None:
        from connectors.sandbox.hubspot_state import HubSpotState
        from connectors.sandbox.seed import seed_books
        from connectors.sandbox.xero_state import XeroState

        hubspot = HubSpotState()
        seed_books(hubspot, XeroState(), deals=deals, seed=seed, now=now)
    report = QuickBooksSeedReport()
    with state.lock:
        books = state.books
        setup_company(books)
        terms = {t["DueDays"]: t for t in books.all("Term")}
        companies = [obj.props for _, obj in sorted(hubspot.companies.objects.items())
                     if obj.props.get("currency") == "ZAR" and not obj.archived][:5]
        for position, props in enumerate(companies):
            name = props["name"]
            if position == 4:  # the same customer, captured by hand a little differently
                name = name.replace("(Pty) Ltd", "Pty Ltd") if "(Pty) Ltd" in name else f"{name} (Pty) Ltd"
            customer: dict[str, Any] = {
                "DisplayName": name, "CompanyName": name, "FullyQualifiedName": name,
                "PrintOnCheckName": name, "Active": True, "Taxable": True, "Job": False,
                "BillWithParent": False, "CurrencyRef": {"value": "ZAR", "name": "South African Rand"},
                "PreferredDeliveryMethod": "Email",
                "PrimaryEmailAddr": {"Address": props["billing_email"]},
                "BillAddr": {"Line1": props["address"], "City": props["city"],
                             "PostalCode": props["zip"], "Country": props["country"]}}
            if props.get("vat_number"):
                customer["PrimaryTaxIdentifier"] = props["vat_number"]
            if props.get("phone"):
                customer["PrimaryPhone"] = {"FreeFormNumber": props["phone"]}
            term = terms.get(int(props.get("payment_terms") or 30))
            if term:
                customer["SalesTermRef"] = {"value": term["Id"], "name": term["Name"]}
            books.save("Customer", customer, created=True)
            report.customers.append(name)
        report.tax_codes = {c["Name"]: c["Id"] for c in books.all("TaxCode")}
        report.items = {i["Name"]: i["Id"] for i in books.all("Item")}
    return report
