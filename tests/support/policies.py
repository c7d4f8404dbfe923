"""The policy number tests land under when the policy does not matter to them."""

TEST_POLICY = "POLICY-1"
