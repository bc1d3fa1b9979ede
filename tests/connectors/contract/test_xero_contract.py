"""Xero keeps the accounting connector contract (`accounting_suite`) against its sandbox."""

from contract.accounting_suite import accounting_contract_tests
from contract.harness_xero import XeroHarness

TestXeroContract = accounting_contract_tests(XeroHarness)
