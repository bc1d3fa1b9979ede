"""The shared connector contract suite (as the Singer SDK's `get_tap_test_class`).

Every promise of `connectors.contract` is a test written once, run against each vendor's sandbox
over real loopback HTTP. A new vendor adds a harness (`harness.VendorHarness`: start its sandbox,
build its connector, act on the vendor's side, say which capabilities it has and why not the
others) and one line:

    TestAcmeContract = crm_contract_tests(AcmeHarness)          # or accounting_contract_tests
"""
