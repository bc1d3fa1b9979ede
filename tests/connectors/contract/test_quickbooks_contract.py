"""QuickBooks Online keeps the accounting connector contract (`accounting_suite`) against its sandbox."""

from contract.accounting_suite import accounting_contract_tests
from contract.harness_quickbooks import QuickBooksHarness

TestQuickBooksContract = accounting_contract_tests(QuickBooksHarness)
