"""Reference data of the emulated South African Xero organisation.

A South African org on Xero: base currency ZAR, VAT at 15% (`OUTPUT3` on sales — *not* `OUTPUT`,
which is the superseded 14% rate and is no longer active), zero-rated and exempt types, a small
chart of accounts and two enabled currencies. Connectors must read these per tenant rather than
hard-code them; the emulator answers GET /TaxRates, /Accounts, /Currencies, /Organisation from here.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from connectors.sandbox.timeutil import ms_date

ZAR_PER_USD = Decimal("18.2500")


def _tax_rate(name: str, tax_type: str, rate: str, report: str, status: str = "ACTIVE", *,
              revenue: bool, expenses: bool) -> dict[str, Any]:
    value = Decimal(rate)
    components = [{"Name": "VAT", "Rate": value.quantize(Decimal("0.0000")), "IsCompound": False,
                   "IsNonRecoverable": False}]
    return {
        "Name": name, "TaxType": tax_type, "ReportTaxType": report, "CanApplyToAssets": expenses,
        "CanApplyToEquity": expenses, "CanApplyToExpenses": expenses,
        "CanApplyToLiabilities": expenses, "CanApplyToRevenue": revenue,
        "DisplayTaxRate": value.quantize(Decimal("0.0000")),
        "EffectiveRate": value.quantize(Decimal("0.0000")), "Status": status,
        "TaxComponents": components,
    }


def default_tax_rates() -> dict[str, dict[str, Any]]:
    rates = [
        _tax_rate("15% VAT on Income", "OUTPUT3", "15", "OUTPUT", revenue=True, expenses=False),
        _tax_rate("15% VAT on Expenses", "INPUT3", "15", "INPUT", revenue=False, expenses=True),
        _tax_rate("14% VAT on Income (superseded)", "OUTPUT", "14", "OUTPUT", "DELETED",
                  revenue=True, expenses=False),
        _tax_rate("14% VAT on Expenses (superseded)", "INPUT", "14", "INPUT", "DELETED",
                  revenue=False, expenses=True),
        _tax_rate("Zero Rated", "ZERORATED", "0", "ZERORATEDOUTPUT", revenue=True, expenses=False),
        _tax_rate("Zero Rated Exports", "ZERORATEDOUTPUT", "0", "ZERORATEDOUTPUT",
                  revenue=True, expenses=False),
        _tax_rate("Exempt Income", "EXEMPTOUTPUT", "0", "EXEMPTOUTPUT", revenue=True, expenses=False),
        _tax_rate("Exempt Expenses", "EXEMPTEXPENSES", "0", "EXEMPTEXPENSES", revenue=False, expenses=True),
        _tax_rate("No VAT", "NONE", "0", "NONE", revenue=True, expenses=True),
    ]
    return {rate["TaxType"]: rate for rate in rates}


def _account(code: str, name: str, type_: str, klass: str, tax: str, *, system: str = "",
             bank: bool = False, payments: bool = False, seed: str) -> dict[str, Any]:
    account = {
        "AccountID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"ledgerlink-sandbox/{seed}/account/{code}")),
        "Code": code, "Name": name, "Status": "ACTIVE", "Type": type_, "TaxType": tax,
        "Class": klass, "EnablePaymentsToAccount": payments, "ShowInExpenseClaims": False,
        "BankAccountType": "BANK" if bank else "", "ReportingCode": klass[:3],
        "ReportingCodeName": klass.title(), "HasAttachments": False, "AddToWatchlist": False,
        "Description": "",
    }
    if bank:
        account["BankAccountNumber"] = "62000012345"
        account["CurrencyCode"] = "ZAR"
    if system:
        account["SystemAccount"] = system
    return account


def default_accounts(seed: str) -> dict[str, dict[str, Any]]:
    rows = [
        ("090", "Business Cheque Account", "BANK", "ASSET", "NONE", "", True, True),
        ("200", "Sales", "REVENUE", "REVENUE", "OUTPUT3", "", False, False),
        ("260", "Other Revenue", "REVENUE", "REVENUE", "OUTPUT3", "", False, False),
        ("270", "Interest Income", "REVENUE", "REVENUE", "EXEMPTOUTPUT", "", False, False),
        ("310", "Cost of Sales", "DIRECTCOSTS", "EXPENSE", "INPUT3", "", False, False),
        ("400", "Advertising", "OVERHEADS", "EXPENSE", "INPUT3", "", False, False),
        ("610", "Accounts Receivable", "CURRENT", "ASSET", "NONE", "DEBTORS", False, False),
        ("800", "Accounts Payable", "CURRLIAB", "LIABILITY", "NONE", "CREDITORS", False, False),
        ("820", "VAT", "CURRLIAB", "LIABILITY", "NONE", "GST", False, False),
        ("960", "Retained Earnings", "EQUITY", "EQUITY", "NONE", "RETAINEDEARNINGS", False, False),
    ]
    return {code: _account(code, name, type_, klass, tax, system=system, bank=bank,
                           payments=payments, seed=seed)
            for code, name, type_, klass, tax, system, bank, payments in rows}


def with_bank_account(accounts: dict[str, dict[str, Any]], seed: str) -> dict[str, dict[str, Any]]:
    """Payments and overpayments need a BANK account: add 090 to a chart (e.g. loaded from an
    older state file) that has none, leaving any existing chart untouched otherwise."""
    if not any(a["Type"] == "BANK" and a["Status"] == "ACTIVE" for a in accounts.values()):
        accounts["090"] = _account("090", "Business Bank Account", "BANK", "ASSET", "NONE", bank=True,
                                   payments=True, seed=seed)
    return accounts


def default_currencies() -> dict[str, dict[str, Any]]:
    return {"ZAR": {"Code": "ZAR", "Description": "South African Rand"},
            "USD": {"Code": "USD", "Description": "United States Dollar"}}


def default_organisation(tenant_id: str, name: str, created_ms: int) -> dict[str, Any]:
    return {
        "OrganisationID": tenant_id, "APIKey": "", "Name": name,
        "LegalName": name, "PaysTax": True, "Version": "GLOBAL", "OrganisationType": "COMPANY",
        "BaseCurrency": "ZAR", "CountryCode": "ZA", "IsDemoCompany": False,
        "OrganisationStatus": "ACTIVE", "RegistrationNumber": "2016/123456/07",
        "TaxNumber": "4870123456", "FinancialYearEndDay": 28, "FinancialYearEndMonth": 2,
        "SalesTaxBasis": "INVOICE", "SalesTaxPeriod": "TWOMONTHS",
        "DefaultSalesTax": "Tax Exclusive", "DefaultPurchasesTax": "Tax Inclusive",
        "CreatedDateUTC": ms_date(created_ms), "OrganisationEntityType": "COMPANY",
        "Timezone": "SOUTHAFRICASTANDARDTIME", "ShortCode": "!zA4kP", "Class": "STANDARD",
        "Edition": "BUSINESS", "LineOfBusiness": "Outdoor and hospitality equipment",
        "Addresses": [{"AddressType": "STREET", "AddressLine1": "14 Loop Street",
                       "City": "Cape Town", "Region": "Western Cape", "PostalCode": "8001",
                       "Country": "South Africa"}],
        "Phones": [{"PhoneType": "OFFICE", "PhoneNumber": "555 0142", "PhoneAreaCode": "021",
                    "PhoneCountryCode": "27"}],
        "ExternalLinks": [], "PaymentTerms": {},
    }
