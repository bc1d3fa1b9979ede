"""Pipedrive keeps the CRM connector contract (`crm_suite`) against its sandbox."""

from contract.crm_suite import crm_contract_tests
from contract.harness_pipedrive import PipedriveHarness

TestPipedriveContract = crm_contract_tests(PipedriveHarness)
